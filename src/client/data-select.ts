/**
 * The client's choice of transport: the binary data path where the server offers it (found at
 * GET /api/v1/data_path from the HTTP URL alone), else HTTP; `dataPath` says how hard to insist.
 */
import { MMC, MmcError, invalid } from '../errors.js';
import { DataTransport } from './data-transport.js';
import { PoolTransport, type DataPlane } from './pool-transport.js';

/** 'auto': the data path when the server offers it and it connects, else HTTP; 'off': HTTP; 'require': the data path or fail. */
export type DataPathMode = 'auto' | 'off' | 'require';

export interface DataPathOptions {
  dataPath?: DataPathMode;
  dataConnections?: number;
  token?: string;
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  timeoutMs?: number;
}

interface Offer { host: string; port: number; tls: boolean }

function isOffer(j: unknown): j is Offer {
  const o = j as Offer;
  return typeof o === 'object' && o !== null && typeof o.host === 'string' && Number.isInteger(o.port) && o.port > 0 && o.port < 65536 && typeof o.tls === 'boolean';
}

/** The options' checks, before anything connects. */
export function checkDataPathOptions(o: DataPathOptions): void {
  if (o.dataPath !== undefined && o.dataPath !== 'auto' && o.dataPath !== 'off' && o.dataPath !== 'require') {
    throw invalid(`dataPath must be auto, off or require, got ${String(o.dataPath)}`);
  }
  const n = o.dataConnections;
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 64)) throw invalid(`dataConnections must be an integer 1..64, got ${String(n)}`);
}

/**
 * The data path of the server at `url`, or undefined for HTTP. `discover` answers GET
 * /api/v1/data_path over HTTP (status and body).
 */
export async function openDataPath(url: URL, o: DataPathOptions, discover: () => Promise<{ status: number; body: Buffer }>): Promise<DataPlane | undefined> {
  const mode = o.dataPath ?? 'auto';
  if (mode === 'off') return undefined;
  const refuse = (why: string, cause?: unknown): undefined => {
    if (mode === 'require') throw new MmcError(MMC.MMC_ERROR, `${url.origin}: ${why}`, cause ? { cause } : undefined);
    return undefined;
  };
  const r = await discover();
  let offer: unknown;
  try { offer = r.status === 200 ? JSON.parse(r.body.toString('utf8')) : undefined; } catch { offer = undefined; }
  if (!isOffer(offer)) return refuse(`no binary data path offered (GET /api/v1/data_path: HTTP ${r.status})`);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  // a server listening on every address names none: the data path is where the HTTP side is
  const host = offer.host === '0.0.0.0' || offer.host === '::' || offer.host === '' ? hostname : offer.host;
  const tls = offer.tls
    ? { ca: o.ca, cert: o.cert, key: o.key, passphrase: o.passphrase, ...(/^[0-9.:]+$/.test(hostname) ? {} : { servername: hostname }) }
    : undefined;
  try {
    // a meta service (mmc meta) offers a pool: control there, value bytes at its rank agents
    const open = (offer as { pool?: unknown }).pool === true ? PoolTransport.open : DataTransport.open;
    return await open({ host, port: offer.port, tls }, o.token, o.dataConnections ?? 4, o.timeoutMs ?? 60_000);
  } catch (e) {
    return refuse(`binary data path at ${host}:${offer.port}: ${(e as Error).message}`, e);
  }
}
