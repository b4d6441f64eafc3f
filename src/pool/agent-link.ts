/**
 * A rank agent's link to the meta service: find its data path (GET /api/v1/data_path), register
 * (the segments, the advertised address, the incarnation), heartbeat every HEARTBEAT_MS. The
 * meta service being down or not yet up is waited out: the agent retries every RETRY_MS and
 * registers when it comes (back). A registration hands a fresh secret: grants of the one before
 * no longer verify, and the blob map is emptied (a new meta service knows none of those objects).
 */
import { MMC, MmcError } from '../errors.js';
import { ChunkSink, DataConn, answerError } from '../client/data-conn.js';
import { OP } from '../protocol/data-frames.js';
import { decodeJson, encodeJson, type RegisterAnswer, type RegisterRequest } from '../protocol/pool-frames.js';
import type { AgentState } from './agent-ops.js';
import { HEARTBEAT_MS } from './registry.js';

const RETRY_MS = 500;

export interface LinkOptions {
  meta: string;
  advertise: string;
  token?: string;
  log: (line: string) => void;
  /** Called at each registration. */
  onRegistered?: () => void;
}

async function metaDataPath(meta: string, token: string | undefined): Promise<{ host: string; port: number }> {
  const u = new URL(meta);
  const r = await fetch(new URL('/api/v1/data_path', u), token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  if (r.status === 401 || r.status === 403) {
    throw new MmcError(MMC.MMC_ERROR, `${u.origin} refused this agent: ${token === undefined ? 'bearer token required (--token-file, $MMC_TOKEN)' : 'wrong bearer token'} (HTTP ${r.status})`);
  }
  if (r.status !== 200) throw new MmcError(MMC.MMC_ERROR, `${u.origin} has no data path (GET /api/v1/data_path: HTTP ${r.status})`);
  const j = await r.json() as { host: string; port: number; pool?: boolean };
  if (j.pool !== true) throw new MmcError(MMC.MMC_ERROR, `${u.origin} is not a meta service (mmc meta)`);
  const host = j.host === '0.0.0.0' || j.host === '::' ? u.hostname.replace(/^\[|\]$/g, '') : j.host;
  return { host, port: j.port };
}

export class MetaLink {
  private conn: DataConn | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private busy = false;
  private failures = 0;

  constructor(private readonly s: AgentState, private readonly o: LinkOptions) {}

  start(): void {
    void this.tick();
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      if (this.conn === undefined || !this.conn.alive || this.s.secret === undefined) await this.register();
      else if (!(await this.heartbeat())) await this.register();
      this.failures = 0;
    } catch (e) {
      if (this.failures++ === 0) this.o.log(`mmc local: meta service ${this.o.meta}: ${(e as Error).message}; retrying every ${RETRY_MS} ms`);
      this.conn?.close();
      this.conn = undefined;
    } finally {
      this.busy = false;
      this.schedule(this.failures ? RETRY_MS : HEARTBEAT_MS);
    }
  }

  private async call(op: typeof OP.REGISTER | typeof OP.HEARTBEAT, body: unknown, sink?: ChunkSink): Promise<number> {
    const b = encodeJson(body);
    const a = await this.conn!.request(op, '', '', [b], b.length, sink);
    if (a.code !== 0 && a.code !== MMC.MMC_UNMATCHED_KEY) throw answerError(a);
    return a.code;
  }

  private async register(): Promise<void> {
    if (this.conn === undefined || !this.conn.alive) {
      this.conn?.close();
      this.conn = await DataConn.open(await metaDataPath(this.o.meta, this.o.token), this.o.token);
    }
    const s = this.s;
    const req: RegisterRequest = {
      rank: s.rank, incarnation: s.incarnation, advertise: this.o.advertise,
      segments: [...s.segments.entries()].map(([medium, seg]) => ({ medium, bytes: seg.device.bytes })),
    };
    const sink = new ChunkSink();
    await this.call(OP.REGISTER, req, sink);
    const ans = decodeJson(sink.chunks, 'register answer') as RegisterAnswer;
    for (const seg of s.segments.values()) seg.blobs.clear();
    s.secret = Buffer.from(ans.secret, 'base64');
    this.o.log(`mmc local: rank ${s.rank} registered at ${this.o.meta} (${ans.segments.join(', ')})`);
    this.o.onRegistered?.();
  }

  /** False when the meta service no longer knows this agent (it dropped it, or restarted). */
  private async heartbeat(): Promise<boolean> {
    return (await this.call(OP.HEARTBEAT, { rank: this.s.rank, incarnation: this.s.incarnation })) === 0;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.conn?.close();
  }
}
