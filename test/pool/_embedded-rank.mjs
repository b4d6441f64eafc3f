// A child process that is an embedded rank: MemCache.open({ pool }) with its own segments; it puts
// and gets on its own rank (bytes stay in-process: its /proc/self/io barely moves), reads a key
// another rank holds, and prints what it saw as one JSON line, then waits for stdin to close.
import { readFileSync } from 'node:fs';
import { MemCache } from '../../dist/index.js';

const [meta, rank] = [process.argv[2], Number(process.argv[3])];
const io = () => { const t = readFileSync('/proc/self/io', 'utf8'); const n = (k) => Number(new RegExp(`^${k}: (\\d+)$`, 'm').exec(t)[1]); return n('rchar') + n('wchar'); };
const mc = await MemCache.open({ pool: { meta, rank, listen: '127.0.0.1:0' }, segments: [{ rank, medium: 'dram', bytes: 32 << 20 }] });
const big = Buffer.alloc(1 << 20, 0x33);
const before = io();
for (let i = 0; i < 8; i++) await mc.put(`own${i}`, big, { preferredRank: rank, medium: 'dram' });
let same = 0;
for (let i = 0; i < 8; i++) if (Buffer.from(await mc.get(`own${i}`)).equals(big)) same++;
const moved = io() - before;
await mc.put('emb', Buffer.from('from the embedded rank'), { preferredRank: rank, medium: 'dram' });
const other = await mc.get('from-test');
const q = await mc.query('own0');
process.stdout.write(JSON.stringify({ same, moved, other: other && Buffer.from(other).toString(), ranks: q.blobs.map((b) => b.rank) }) + '\n');
process.stdin.resume();
process.stdin.on('end', async () => { await mc.close(); process.exit(0); });
