/**
 * Demotions in the pool: the meta service's core decides to move an HBM blob to DRAM of the same
 * rank (remote-backend.ts's copy); the rank's agent copies it (COPY, pool-frames.ts), with a grant
 * of the DRAM range signed for the source range, and moves the blob's entry in its map. A copy
 * that fails makes the core evict the object by removal instead.
 */
import { MMC, MmcError } from '../errors.js';
import { answerError } from '../client/data-conn.js';
import { OP } from '../protocol/data-frames.js';
import { GRANT_WRITE, signGrant } from '../protocol/grant.js';
import { copyKey, encodeJson, type CopyRequest } from '../protocol/pool-frames.js';
import type { AgentConns } from './agent-conns.js';
import type { CopyCommand } from './remote-backend.js';
import type { Registry } from './registry.js';

export function demotions(registry: Registry, conns: AgentConns): CopyCommand {
  return async (src, srcOffset, dst, dstOffset, bytes) => {
    const a = registry.agent(src.rank);
    if (a === undefined) throw new MmcError(MMC.MMC_ERROR, `rank ${src.rank} has no agent`);
    const grant = signGrant(a.secret, {
      op: GRANT_WRITE, medium: dst.medium, rank: a.rank, incarnation: a.incarnation, view: 0, gen: 0, offset: dstOffset, size: bytes,
    }, copyKey(src.medium, srcOffset));
    const req: CopyRequest = { srcMedium: src.medium, srcOffset, dstMedium: dst.medium, dstOffset, size: bytes, grant: Buffer.from(grant).toString('base64') };
    const body = encodeJson(req);
    const c = await conns.get(a.addr);
    const ans = await c.request(OP.COPY, '', '', [body], body.length);
    if (ans.code !== 0) throw answerError(ans);
  };
}
