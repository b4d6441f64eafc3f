#!/usr/bin/env node
// mmc: run a memcache-hybrid server (`mmc serve`) and talk to one (put, get, rm, keys, query,
// segments, stats). Exit code 0 on success, 1 on any failure with one line on stderr.
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { Command, Option } from 'commander';
import http from 'node:http';
import https from 'node:https';
import { encodeKey } from '../dist/protocol/key.js';
import { encodePutOptions } from '../dist/protocol/put-options.js';

const DEFAULT_SERVER = process.env.MMC_SERVER || 'http://127.0.0.1:8000';
const PROGRESS_MIN = 4 * 1024 * 1024; // a progress bar for values over 4 MiB

function die(msg) {
  process.stderr.write(`mmc: ${String(msg).split('\n')[0]}\n`);
  process.exit(1);
}

function base(url) {
  try {
    return new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`).origin;
  } catch {
    die(`--server: not a URL: ${url}`);
  }
}

/** A file's contents for a flag; missing, unreadable or empty is one line naming flag and path. */
function readFlagFile(flag, path) {
  let b;
  try {
    b = readFileSync(path);
  } catch (e) {
    const why = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory' }[e.code] ?? e.code ?? 'unreadable';
    die(`${flag}: ${path}: ${why}`);
  }
  if (b.length === 0) die(`${flag}: ${path}: empty file`);
  return b;
}

/**
 * How to reach the server: origin, node:http or node:https with the TLS files (--tls-ca,
 * --tls-cert, --tls-key), and the bearer token (--token-file, else $MMC_TOKEN).
 */
async function access(opts) {
  const origin = base(opts.server);
  const secure = origin.startsWith('https:');
  const tls = {};
  if (opts.tlsCa !== undefined) tls.ca = readFlagFile('--tls-ca', opts.tlsCa);
  if (opts.tlsCert !== undefined) tls.cert = readFlagFile('--tls-cert', opts.tlsCert);
  if (opts.tlsKey !== undefined) tls.key = readFlagFile('--tls-key', opts.tlsKey);
  if (!secure && Object.keys(tls).length > 0) die(`--tls-ca, --tls-cert and --tls-key need an https:// server, got ${origin}`);
  if ((tls.cert === undefined) !== (tls.key === undefined)) die('--tls-cert and --tls-key go together');
  let token;
  let what;
  if (opts.tokenFile !== undefined) {
    token = readFlagFile('--token-file', opts.tokenFile).toString('utf8').trim();
    what = `--token-file: ${opts.tokenFile}`;
    if (token === '') die(`${what}: empty token`);
  } else if (process.env.MMC_TOKEN) {
    token = process.env.MMC_TOKEN;
    what = 'MMC_TOKEN';
  }
  if (token !== undefined) {
    const { checkToken } = await import('../dist/protocol/token.js');
    try { checkToken(token, what); } catch (e) { die(e.message.replace(/^MMC_[A-Z_]+: /, '')); }
  }
  return { origin, mod: secure ? https : http, tls, auth: token === undefined ? {} : { authorization: `Bearer ${token}` } };
}

/** One request with node:http(s) (fast start-up); resolves to the response with `body` = the stream. */
async function call(opts, method, path, body, headers = {}) {
  const { origin, mod, tls, auth } = await access(opts);
  return new Promise((resolve) => {
    const req = mod.request(`${origin}${path}`, { method, headers: { ...headers, ...auth }, ...tls }, (res) => {
      res.body = res;
      res.body.text = async () => {
        const chunks = [];
        for await (const c of res) chunks.push(c);
        return Buffer.concat(chunks).toString('utf8');
      };
      resolve(res);
    });
    req.on('error', (e) => die(`cannot reach ${origin}: ${e.code ?? e.message}`));
    if (body && typeof body.pipe === 'function') body.pipe(req);
    else req.end(body);
  });
}

/** Fail with the server's error body if the reply is one; else return the body text. */
async function text(res) {
  const t = await res.body.text();
  const ct = String(res.headers['content-type'] ?? '');
  if (ct.startsWith('application/json')) {
    try {
      const j = JSON.parse(t);
      if (j && j.success === false) die(j.error_message);
    } catch { /* plain JSON */ }
  }
  if (res.statusCode !== 200) die(`HTTP ${res.statusCode}`);
  return t;
}

function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

/** A Transform that counts bytes and draws a bar on stderr (when `show`). */
function progress(total, label, show) {
  let done = 0;
  let last = 0;
  const draw = (final) => {
    const now = Date.now();
    if (!final && now - last < 100) return;
    last = now;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const width = 30;
    const fill = Math.round(frac * width);
    process.stderr.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${fmtBytes(done)}/${fmtBytes(total)}${final ? '\n' : ''}`);
  };
  return new Transform({
    transform(chunk, _enc, cb) {
      done += chunk.length;
      if (show) draw(false);
      cb(null, chunk);
    },
    flush(cb) {
      if (show) draw(true);
      cb();
    },
  });
}

function wantProgress(opts, size) {
  if (opts.progress === false) return false;
  if (opts.progress === true) return true;
  return size > PROGRESS_MIN && process.stderr.isTTY === true;
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks);
}

process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0); // `mmc keys | head`
  die(e.message);
});

const program = new Command();
program
  .name('mmc')
  .description('memcache-hybrid: a KV-cache pool with HBM and DRAM tiers; run a server or talk to one')
  .configureOutput({ outputError: (str, write) => write(str.split('\n')[0] + '\n') })
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 1));

program
  .command('serve')
  .description('run the embedded store and the REST server')
  .option('--config <file>', 'reference ock.mmc.* conf file (metrics_url sets the listen address)')
  .option('--listen <host:port>', 'listen address (default 127.0.0.1:8000)')
  .option('--ranks <n>', 'number of simulated ranks (default 1)')
  .option('--hbm <size>', 'HBM per rank, e.g. 1GB, 512MB, 0 for none (default 1GB)')
  .option('--dram <size>', 'DRAM per rank (default 1GB)')
  .addOption(new Option('--backend <name>', 'device backend').choices(['sim', 'acl']))
  .option('--devices <ids>', 'acl: device of each rank, e.g. 0,1,2,3 (default rank N on device N)')
  .option('--acl-library <path>', 'acl: path of libascendcl.so (default: $MMC_ACL_LIBRARY, then the usual places)')
  .option('--value-limit <size>', 'largest value of the data plane (default 256MB)')
  .option('--metadata-limit <size>', 'largest /metadata value (default 1MB)')
  .option('--token-file <file>', 'require this bearer token for the data plane and every mutating request (default: $MMC_TOKEN, then ock.mmc.auth.token.path)')
  .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key; replaces ock.mmc.tls.*)')
  .option('--tls-key <file>', "the certificate's private key (PEM)")
  .option('--tls-ca <file>', 'require client certificates signed by this CA (PEM): mutual TLS')
  .option('--metadata-total-limit <size>', '/metadata: total bytes of keys and values (default 64MB)')
  .option('--metadata-key-limit <n>', '/metadata: number of keys (default 65536)')
  .option('--body-timeout <ms>', 'cut off a request body that sends no byte for this long (default 10000)')
  .option('--put-in-flight-limit <size>', 'store space held by puts still receiving their bodies (default half the capacity)')
  .option('--body-memory-limit <size>', 'memory held by buffered request bodies in flight (default 1GB)')
  .option('--batch-key-limit <n>', 'keys in one batch call (default 16384)')
  .option('-q, --quiet', 'no log lines')
  .action(async (opts) => {
    const { planServe, serve } = await import('../dist/server/serve.js');
    let plan;
    try {
      plan = planServe(opts);
    } catch (e) {
      die(e.message.replace(/^MMC_[A-Z_]+: /, ''));
    }
    const log = opts.quiet ? () => {} : (l) => process.stderr.write(l + '\n');
    for (const w of plan.warnings) log(`mmc: warning: ${w}`);
    const { MemCache } = await import('../dist/index.js');
    // Handlers first: a signal during start-up waits for the start, then shuts down cleanly.
    let starting;
    let stopping = false;
    const stop = async (sig) => {
      if (stopping) return;
      stopping = true;
      log(`mmc: ${sig}, shutting down`);
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      try {
        const serving = await starting;
        await serving.stop();
      } catch (e) {
        process.stderr.write(`mmc: shutdown: ${e.message}\n`);
        process.exit(1);
      }
      process.exit(0);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    starting = serve(plan, (o) => MemCache.open(o), log);
    try {
      await starting;
    } catch (e) {
      die(e.message.replace(/^MMC_ERROR: /, ''));
    }
  });

const withServer = (cmd) => cmd
  .option('-s, --server <url>', 'server URL ($MMC_SERVER)', DEFAULT_SERVER)
  .option('--token-file <file>', 'send the bearer token in this file (default: $MMC_TOKEN)')
  .option('--tls-ca <file>', 'https: verify the server with this CA (PEM)')
  .option('--tls-cert <file>', 'https: client certificate (PEM), for a server that requires one')
  .option('--tls-key <file>', "https: the client certificate's private key (PEM)");

withServer(program.command('put'))
  .description('store a value: from FILE, or from stdin when FILE is - or absent')
  .argument('<key>')
  .argument('[file]', 'file to read, - for stdin')
  .addOption(new Option('--medium <medium>', 'place on this medium').choices(['hbm', 'dram']))
  .option('--replicas <n>', 'replicas on distinct ranks (1..8)')
  .option('--progress', 'always draw the progress bar')
  .option('--no-progress', 'never draw the progress bar')
  .action(async (key, file, opts) => {
    const put = encodePutOptions({ medium: opts.medium || undefined, replicas: opts.replicas || undefined });
    const q = `key=${encodeKey(key)}${put ? '&' + put : ''}`;
    let body;
    let size;
    if (file === undefined || file === '-') {
      body = await readStdin();
      size = body.length;
      if (wantProgress(opts, size)) body = Buffer.from(body); // bytes are already here: no bar needed
    } else {
      try {
        const st = statSync(file);
        if (!st.isFile()) die(`${file}: not a regular file`);
        size = st.size;
      } catch (e) {
        die(`${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
      }
      body = createReadStream(file).pipe(progress(size, `put ${key}`, wantProgress(opts, size)));
    }
    const res = await call(opts, 'PUT', `/api/v1/objects?${q}`, body, {
      'content-type': 'application/octet-stream', 'content-length': String(size),
    });
    await text(res);
    process.stdout.write(`stored ${key} (${size} bytes)\n`);
  });

withServer(program.command('get'))
  .description('write a value to stdout (or to --output FILE)')
  .argument('<key>')
  .option('-o, --output <file>', 'write to this file instead of stdout')
  .option('--progress', 'always draw the progress bar')
  .option('--no-progress', 'never draw the progress bar')
  .action(async (key, opts) => {
    const res = await call(opts, 'GET', `/api/v1/objects?key=${encodeKey(key)}`);
    if (res.statusCode !== 200) {
      await text(res);
      die(`HTTP ${res.statusCode}`);
    }
    const size = Number(res.headers['content-length'] ?? 0);
    const out = opts.output ? createWriteStream(opts.output) : process.stdout;
    try {
      await pipeline(res.body, progress(size, `get ${key}`, wantProgress(opts, size)), out);
    } catch (e) {
      if (e.code !== 'EPIPE') die(e.message);
    }
  });

withServer(program.command('rm'))
  .description('remove a key')
  .argument('<key>')
  .action(async (key, opts) => {
    const res = await call(opts, 'DELETE', `/api/v1/objects?key=${encodeKey(key)}`);
    await text(res);
    process.stdout.write(`removed ${key}\n`);
  });

withServer(program.command('keys'))
  .description('list every key, one a line')
  .action(async (opts) => {
    process.stdout.write(await text(await call(opts, 'GET', '/get_all_keys')));
  });

withServer(program.command('query'))
  .description("a key's size and blob locations, as JSON")
  .argument('<key>')
  .action(async (key, opts) => {
    const t = await text(await call(opts, 'GET', `/query_key?key=${encodeKey(key)}`));
    process.stdout.write(JSON.stringify(JSON.parse(t), null, 2) + '\n');
  });

withServer(program.command('segments'))
  .description('segments with their capacity and use')
  .action(async (opts) => {
    const j = JSON.parse(await text(await call(opts, 'GET', '/api/v1/capacity/segment_remaining')));
    const rows = [['SEGMENT', 'MEDIUM', 'TOTAL', 'USED', 'FREE', 'USED%']];
    for (const s of j.segments) {
      rows.push([s.segment_name, s.medium, fmtBytes(s.total_bytes), fmtBytes(s.used_bytes), fmtBytes(s.remaining_bytes),
        s.total_bytes ? ((100 * s.used_bytes) / s.total_bytes).toFixed(1) : '0.0']);
    }
    const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd() + '\n');
  });

withServer(program.command('stats'))
  .description('operation counters (/metrics/summary, one a line) and tracepoint latencies (/metrics/ptracer)')
  .option('--summary', 'print the raw one-line summary only')
  .action(async (opts) => {
    const line = await text(await call(opts, 'GET', '/metrics/summary'));
    if (opts.summary) {
      process.stdout.write(line + '\n');
      return;
    }
    for (const f of line.split(' ')) {
      const i = f.indexOf('=');
      process.stdout.write(`${f.slice(0, i).padEnd(30)} ${f.slice(i + 1)}\n`);
    }
    process.stdout.write('\n' + (await text(await call(opts, 'GET', '/metrics/ptracer'))));
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // Anything unexpected: one line, never a stack trace.
  die(e instanceof Error ? e.message : String(e));
}
