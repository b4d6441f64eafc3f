#!/usr/bin/env node
// `npm test`: the whole uvu suite under c8 (coverage printed at the end), then one closing line
// "N passed, M failed, K skipped" that any CI can read. Skipped are the tests of a tool npm does
// not install (test/helpers/tools.js); with CI set they run and fail instead. Extra arguments
// narrow the uvu pattern.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// the packages' own bin files (uvu's package exports do not list bin.js)
const modules = fileURLToPath(new URL('../node_modules/', import.meta.url));
const c8 = `${modules}c8/bin/c8.js`;
const uvu = `${modules}uvu/bin.js`;
const pattern = process.argv[2] ?? '\\.test\\.js$';

const child = spawn(process.execPath, [
  c8, '--reporter=text-summary', '--reporter=text', '--exclude=test/**', '--exclude=bench/**',
  process.execPath, uvu, 'test', pattern,
], { stdio: ['inherit', 'pipe', 'inherit'] });

let total = 0;
let passed = 0;
let skipped = 0;
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  // uvu prints "Total: N", "Passed: N" and "Skipped: N" once, for the whole run (Total leaves
  // the skipped out)
  const text = (tail + chunk.toString('utf8')).replace(/\x1b\[[0-9;]*m/g, '');
  for (const m of text.matchAll(/^\s*Total:\s+(\d+)\s*$/gm)) total = Number(m[1]);
  for (const m of text.matchAll(/^\s*Passed:\s+(\d+)\s*$/gm)) passed = Number(m[1]);
  for (const m of text.matchAll(/^\s*Skipped:\s+(\d+)\s*$/gm)) skipped = Number(m[1]);
  tail = text.slice(-200);
});
child.on('close', (code, signal) => {
  console.log(`\n${passed} passed, ${total - passed} failed, ${skipped} skipped`);
  process.exit(code ?? (signal ? 1 : 0));
});
