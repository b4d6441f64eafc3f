// Benchmark: unmounting a segment that holds 1M objects (issue 11: a dead rank's objects are
// dropped "in time proportional to that agent's objects and never block other operations for
// more than 10 ms at a time").
//
// Workload: a store (release core, sim backend, alignment 64) with N 64-byte objects on
// rank-0-dram and a loop of other operations (put + get of a 64-byte value on rank-1-dram, then
// a turn of the event loop) running while the segment is unmounted. Measured: the unmount's total
// time, its steps and the longest one, and the longest gap between two rounds of the loop.
//
// Ours: MemCache.unmount's drain (seg_unmount_begin, ~1 ms steps between turns of the event loop,
// seg_unmount_end), through unmountSegment for its step report. Baseline: the one-call
// seg_unmount of the same core on an identical store: a single step holding the event loop.
//
// Usage: node bench/unmount.js [--objects N] [--repeats R]   (prints the table)
//        import { run, format } from './unmount.js'; format(await run());
import { fileURLToPath } from 'node:url';
import { argNum, median } from './lib.js';
import { MemCache } from '../dist/index.js';
import { unmountSegment } from '../dist/store/segments.js';

const GOAL_GAP_MS = 10;
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function filled(objects) {
  const mc = await MemCache.open({
    segments: [{ rank: 0, medium: 'dram', bytes: objects * 64 + 65536 }, { rank: 1, medium: 'dram', bytes: '64MB' }],
    alignment: 64,
  });
  const v = new Uint8Array(64);
  for (let i = 0; i < objects; i++) await mc.put(`k${i}`, v, { preferredRank: 0 });
  return mc;
}

/** Runs `unmount()` while a loop of other operations goes on: its report plus the loop's longest gap and rounds. */
async function underLoad(mc, unmount) {
  const v = new Uint8Array(64);
  let done = false;
  let rounds = 0;
  let gap = 0;
  const loop = (async () => {
    let last = performance.now();
    while (!done) {
      await mc.put(`other${rounds}`, v, { preferredRank: 1 });
      await mc.get(`other${rounds}`);
      rounds++;
      await turn();
      const now = performance.now();
      gap = Math.max(gap, now - last);
      last = now;
    }
  })();
  await turn(); // the loop is running
  const report = await unmount();
  const whileUnmounting = rounds;
  done = true;
  await loop;
  return { ...report, gapMs: gap, rounds: whileUnmounting };
}

async function sliced(objects) {
  const mc = await filled(objects);
  try {
    return await underLoad(mc, () => unmountSegment(mc.s, 'rank-0-dram'));
  } finally {
    await mc.close();
  }
}

async function oneCall(objects) {
  const mc = await filled(objects);
  try {
    const slot = mc.s.byId.get('rank-0-dram').slot;
    return await underLoad(mc, async () => {
      const t0 = performance.now();
      mc.core.x.seg_unmount(slot);
      const ms = performance.now() - t0;
      return { steps: 1, longestStepMs: ms, totalMs: ms };
    });
  } finally {
    await mc.close();
  }
}

export async function run({ objects = 1_000_000, repeats = 3 } = {}) {
  const ours = [];
  const base = [];
  for (let r = 0; r < repeats; r++) {
    ours.push(await sliced(objects));
    base.push(await oneCall(objects));
  }
  const row = (name, runs) => ({
    unmount: name,
    objects,
    totalMs: median(runs.map((x) => x.totalMs)),
    steps: median(runs.map((x) => x.steps)),
    longestStepMs: Math.max(...runs.map((x) => x.longestStepMs)),
    gapMs: Math.max(...runs.map((x) => x.gapMs)),
    rounds: median(runs.map((x) => x.rounds)),
  });
  const rows = [row('sliced (MemCache.unmount)', ours), row('one call (seg_unmount)', base)];
  rows[0].ratio = rows[0].totalMs / rows[1].totalMs;
  rows[0].met = rows[0].gapMs <= GOAL_GAP_MS;
  return rows;
}

export function format(rows) {
  const lines = [];
  lines.push(`unmount of a segment holding ${rows[0].objects} objects of 64 B (release core, sim), a put+get loop running meanwhile.`);
  lines.push('Total and steps: median of repeats; longest step and longest event-loop gap: worst of repeats.');
  lines.push('');
  lines.push('| unmount | total ms | steps | longest step ms | longest event-loop gap ms | other rounds meanwhile | total vs one call |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '1.00x' : `${r.ratio.toFixed(2)}x`;
    lines.push(`| ${r.unmount} | ${r.totalMs.toFixed(1)} | ${r.steps} | ${r.longestStepMs.toFixed(2)} | ${r.gapMs.toFixed(2)} | ${r.rounds} | ${ratio} |`);
  }
  lines.push('');
  lines.push(`goal: longest event-loop gap <= ${GOAL_GAP_MS} ms while unmounting: ${rows[0].met ? 'MET' : 'NOT MET'} (${rows[0].gapMs.toFixed(2)} ms; one call: ${rows[1].gapMs.toFixed(2)} ms)`);
  return lines.join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  const rows = await run({ objects: argNum(args, '--objects', 1_000_000), repeats: argNum(args, '--repeats', 3) });
  console.log(format(rows));
  if (args.includes('--json')) console.log(JSON.stringify({ bench: 'unmount', rows }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
