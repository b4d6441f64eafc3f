#!/usr/bin/env node
// Runs every bench/*.js that exports run() and prints each one's table (`npm run bench`).
//
// A file is imported only if its source declares `export function run` / `export async function
// run` (so scripts that do their work at top level, e.g. bench/server.js or bench/acl-bandwidth.js,
// or that start a server, e.g. bench/server-bare.js, are never started by importing them). Files
// named server*, remote*, acl*, vs-* or pool* are skipped too (they need servers, a native addon, a
// device or external tools such as redis-server; bench/pool.js spawns a meta service, two agents and
// mmc serve, and runs for a minute or more, which `npm run bench` is kept free of).
// Each bench's rows are printed through its exported format(rows) when it has one, else as a
// plain table. Errors are caught and reported per bench; the exit code is 1 if any failed.
//
// Usage: node bench/run.js [name ...]      e.g. node bench/run.js put-get-4k scale
//   env MMC_BENCH_SCALE_KEYS: key count for bench/scale.js (default: its own, 5,000,000)
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { basename, join } from 'node:path';
import os from 'node:os';

const dir = fileURLToPath(new URL('.', import.meta.url));
const SELF = basename(fileURLToPath(import.meta.url));
const SKIP = /^(server|remote|acl|vs-|pool)/;
const EXPORTS_RUN = /export\s+(async\s+)?function\s+run\s*\(|export\s+(const|let)\s+run\s*=|export\s*\{[^}]*\brun\b[^}]*\}/;

function plainTable(rows) {
  if (!Array.isArray(rows) || rows.length === 0) return String(JSON.stringify(rows));
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => rows.some((r) => typeof r[c] !== 'object' || r[c] === null));
  const cell = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v ?? ''));
  const lines = [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${cols.map((c) => cell(r[c])).join(' | ')} |`);
  return lines.join('\n');
}

export function benchFiles(only = []) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.js') && f !== SELF).sort();
  const picked = [];
  const skipped = [];
  for (const f of files) {
    const name = f.slice(0, -3);
    if (only.length && !only.includes(name)) continue;
    if (SKIP.test(f)) { skipped.push([f, 'server/remote/acl/vs-*/pool* bench: spawns servers or needs its own setup or external tools, run it directly']); continue; }
    if (!EXPORTS_RUN.test(readFileSync(join(dir, f), 'utf8'))) { skipped.push([f, 'does not export run()']); continue; }
    picked.push(f);
  }
  return { picked, skipped };
}

async function main() {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const { picked, skipped } = benchFiles(only);
  console.log(`# Benchmarks, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 1024 ** 3)} GiB`);
  for (const [f, why] of skipped) console.log(`skipped ${f}: ${why}`);
  let failed = 0;
  for (const f of picked) {
    console.log(`\n## ${f}  (node bench/${f})\n`);
    const t0 = Date.now();
    try {
      const mod = await import(pathToFileURL(join(dir, f)).href);
      const opts = f === 'scale.js' && process.env.MMC_BENCH_SCALE_KEYS ? { keys: Number(process.env.MMC_BENCH_SCALE_KEYS) } : undefined;
      const rows = await mod.run(opts);
      console.log(typeof mod.format === 'function' ? mod.format(rows) : plainTable(rows));
    } catch (err) {
      failed++;
      console.log(`ERROR in ${f}: ${err?.stack ?? err}`);
    }
    console.log(`\n(${f}: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  if (failed) {
    console.log(`\n${failed} bench(es) failed`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
