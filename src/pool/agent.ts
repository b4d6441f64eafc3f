/**
 * A rank agent (`mmc local`, DESIGN.md "The pool"): opens its segments through a device backend,
 * serves WRITE, READ and COPY of them on the binary data path (agent-ops.ts) and keeps itself
 * registered at the meta service (agent-link.ts).
 */
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { MMC, MmcError } from '../errors.js';
import { createBackend, type CreateBackendOptions } from '../device/index.js';
import { InflightBackend } from '../device/inflight.js';
import type { DeviceBackend, Medium } from '../device/types.js';
import { DataSession } from '../server/data-session.js';
import { DEFAULT_BODY_TIMEOUT_MS } from '../server/options.js';
import { ReadSlab, withSlab } from '../protocol/read-slab.js';
import { SegmentBlobs } from './agent-blobs.js';
import { agentOps, type AgentSegment, type AgentState } from './agent-ops.js';
import { MetaLink } from './agent-link.js';
import { localAgent } from './agent-local.js';
import { inProcessAgents } from '../client/pool-transport.js';

export interface AgentOptions extends CreateBackendOptions {
  /** The meta service's URL (http://host:port). */
  meta: string;
  rank: number;
  /** Where the data path listens (default 127.0.0.1, an ephemeral port). */
  host?: string;
  port?: number;
  /** HOST:PORT clients reach it at (default: the address listened on). */
  advertise?: string;
  /** Bytes of HBM and DRAM (0 or absent: none). */
  hbm?: number;
  dram?: number;
  backend?: 'sim' | 'acl' | DeviceBackend;
  /** The meta service's token, if it requires one. */
  token?: string;
  log?: (line: string) => void;
  onRegistered?: () => void;
  /** Clients in this process call it without a socket (default true; false: over TCP as any client). */
  inProcess?: boolean;
}

export interface RunningAgent {
  rank: number;
  incarnation: number;
  /** HOST:PORT of its data path, as advertised. */
  address: string;
  /** Blobs recorded, per medium. */
  blobs(): Record<string, number>;
  close(): Promise<void>;
}

async function openSegments(backend: DeviceBackend, o: AgentOptions): Promise<Map<Medium, AgentSegment>> {
  const segs = new Map<Medium, AgentSegment>();
  for (const [medium, bytes] of [['hbm', o.hbm], ['dram', o.dram]] as const) {
    if (bytes) segs.set(medium, { device: await backend.open(o.rank, medium, bytes), blobs: new SegmentBlobs() });
  }
  if (segs.size === 0) throw new MmcError(MMC.MMC_INVALID_PARAM, 'a rank agent needs HBM or DRAM (--hbm, --dram)');
  return segs;
}

function listenOn(server: net.Server, host: string, port: number): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new MmcError(MMC.MMC_ERROR, `cannot listen on ${host}:${port}: ${e.code ?? e.message}`)));
    server.listen(port, host, () => resolve(server.address() as net.AddressInfo));
  });
}

export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank > 65535) throw new MmcError(MMC.MMC_INVALID_PARAM, `rank must be 0..65535, got ${String(o.rank)}`);
  const log = o.log ?? (() => {});
  // followed per segment: a FREE is acknowledged once what was in flight there has ended (inflight.ts)
  const backend = new InflightBackend(typeof o.backend === 'object' ? o.backend : await createBackend(o.backend ?? 'sim', o));
  let segments: Map<Medium, AgentSegment>;
  try {
    segments = await openSegments(backend, o);
  } catch (e) {
    await backend.close();
    throw e;
  }
  // a restarted agent is a new incarnation: grants made for the one before no longer verify
  const state: AgentState = { rank: o.rank, incarnation: randomInt(1, 0xffffffff), backend, segments, secret: undefined };
  const ops = agentOps(state);
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
    // reads go through a slab, a WRITE's value straight into the session's value buffers, as on
    // mmc serve's data path (data-listen.ts): no fresh buffer per socket read of a 1 MiB value
    const slab = new ReadSlab();
    const plain = withSlab(accepted, slab);
    const socket = plain ?? accepted;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new DataSession(socket, ops, { timeoutMs: DEFAULT_BODY_TIMEOUT_MS }, plain && slab);
  });
  let at: net.AddressInfo;
  try {
    at = await listenOn(server, o.host ?? '127.0.0.1', o.port ?? 0);
  } catch (e) {
    await backend.close();
    throw e;
  }
  const address = o.advertise ?? `${at.address.includes(':') ? `[${at.address}]` : at.address}:${at.port}`;
  const link = new MetaLink(state, { meta: o.meta, advertise: address, token: o.token, log, onRegistered: o.onRegistered });
  // clients in this process (an embedded rank's own) reach it without a socket
  if (o.inProcess !== false) inProcessAgents.set(address, localAgent(ops));
  link.start();
  return {
    rank: o.rank, incarnation: state.incarnation, address,
    blobs: () => Object.fromEntries([...segments].map(([m, s]) => [m, s.blobs.count])),
    async close() {
      inProcessAgents.delete(address);
      link.close();
      await new Promise<void>((resolve) => { server.close(() => resolve()); for (const s of sockets) s.destroy(); });
      await backend.close();
    },
  };
}
