/**
 * FREE at a rank agent (src/protocol/pool-free.ts): the meta service freed these ranges of this
 * agent's segments. Checked whole first (signed under this registration's secret, for this
 * incarnation, every range inside its segment), then applied: each range's entries go and a
 * freed span stays, which refuses writes granted for that generation or older (agent-blobs.ts).
 * The answer (code 0) is the acknowledgement the meta service waits for before it gives the
 * ranges out again, so it goes only once the device operations in flight on those segments have
 * ended: a write of the freed allocation still landing would overwrite the range's next key, a
 * read still running would carry that key's bytes back as the old one's (src/device/inflight.ts).
 */
import { MMC, MmcError, invalid } from '../errors.js';
import { verifyFree } from '../protocol/pool-free.js';
import type { AgentState } from './agent-ops.js';

export async function freeRanges(s: AgentState, chunks: Uint8Array[]): Promise<undefined> {
  if (s.secret === undefined) throw new MmcError(MMC.MMC_ERROR, `rank ${s.rank} is not registered at the meta service yet`);
  const f = verifyFree(s.secret, chunks);
  if (f.incarnation !== s.incarnation) throw invalid(`refused by rank agent: a free for incarnation ${f.incarnation}, this is ${s.incarnation}`);
  const segs = f.ranges.map((r) => {
    const seg = s.segments.get(r.medium);
    if (seg === undefined) throw invalid(`refused by rank agent: rank ${s.rank} has no ${r.medium} segment`);
    if (r.offset + r.size > seg.device.bytes) throw invalid(`refused by rank agent: range ${r.offset}+${r.size} outside segment of ${seg.device.bytes} bytes`);
    return seg;
  });
  f.ranges.forEach((r, i) => segs[i].blobs.freed(r.offset, r.size, r.gen));
  // fenced from here on (new writes of those grants are refused): wait out the ones already begun
  for (const seg of new Set(segs)) await s.backend.settled(seg.device);
  return undefined;
}
