// Run by test/deno.test.js under Deno 2: the built package, used as a Deno program would.
import { MemCache } from '../../dist/index.js';

const mc = await MemCache.open({ segments: [{ rank: 0, medium: 'hbm', bytes: '4MB' }, { rank: 0, medium: 'dram', bytes: '4MB' }] });
const value = new Uint8Array(10_000).map((_, i) => (i * 31) & 255);
await mc.put('deno-key', value);
const back = await mc.get('deno-key');
const same = back.length === value.length && back.every((b, i) => b === value[i]);
const q = await mc.query('deno-key');
await mc.close();
console.log(JSON.stringify({ runtime: typeof Deno === 'object' ? `deno ${Deno.version.deno}` : 'other', same, size: q.size, medium: q.blobs[0].medium }));
