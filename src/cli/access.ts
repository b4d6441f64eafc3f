/**
 * How a client command reaches the server: the URL (-s, $MMC_SERVER), the bearer token
 * (--token-file, else $MMC_TOKEN) and the TLS files (--tls-ca, --tls-cert, --tls-key). The data
 * plane and the open reads of the admin API (keys, query, segments, stats: openRead, which
 * connects without checking the token, as the server keeps them open) go through MemCacheClient.
 */
import { MemCacheClient, type ClientOptions } from '../client/index.js';
import { MMC, MmcError } from '../errors.js';
import { checkToken } from '../protocol/token.js';
import { die, readFlagFile, withoutCode } from './fail.js';

export const DEFAULT_SERVER = process.env.MMC_SERVER || 'http://127.0.0.1:8000';

export interface AccessFlags {
  server: string;
  tokenFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

interface Access {
  origin: string;
  tls: Pick<ClientOptions, 'ca' | 'cert' | 'key'>;
  token?: string;
}

function originOf(url: string): string {
  try {
    return new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`).origin;
  } catch {
    die(`--server: not a URL: ${url}`);
  }
}

/** The bearer token of --token-file, else of $MMC_TOKEN, checked; undefined when neither is set. */
function tokenOf(flags: AccessFlags): string | undefined {
  let token: string;
  let what: string;
  if (flags.tokenFile !== undefined) {
    token = readFlagFile('--token-file', flags.tokenFile).toString('utf8').trim();
    what = `--token-file: ${flags.tokenFile}`;
    if (token === '') die(`${what}: empty token`);
  } else if (process.env.MMC_TOKEN) {
    token = process.env.MMC_TOKEN;
    what = 'MMC_TOKEN';
  } else {
    return undefined;
  }
  try { return checkToken(token, what); } catch (e) { die(withoutCode(e)); }
}

/** The flags checked and read: origin, TLS contents, token; a bad one is one line naming it. */
function access(flags: AccessFlags): Access {
  const origin = originOf(flags.server);
  const secure = origin.startsWith('https:');
  const tls: Access['tls'] = {};
  if (flags.tlsCa !== undefined) tls.ca = readFlagFile('--tls-ca', flags.tlsCa);
  if (flags.tlsCert !== undefined) tls.cert = readFlagFile('--tls-cert', flags.tlsCert);
  if (flags.tlsKey !== undefined) tls.key = readFlagFile('--tls-key', flags.tlsKey);
  if (!secure && Object.keys(tls).length > 0) die(`--tls-ca, --tls-cert and --tls-key need an https:// server, got ${origin}`);
  if ((tls.cert === undefined) !== (tls.key === undefined)) die('--tls-cert and --tls-key go together');
  return { origin, tls, token: tokenOf(flags) };
}

/**
 * The one line of a client failure: an unreachable server as `cannot reach ORIGIN: CODE`, a
 * refusal by the server as its reason (the access gate's and other code-less reasons without the
 * MMC_ERROR the client files them under), anything else as the error's message.
 */
export function clientFailure(origin: string, e: unknown): string {
  if (!(e instanceof MmcError)) return e instanceof Error ? e.message : String(e);
  const { cause, status } = e.detail ?? {};
  if (cause !== undefined) {
    const c = cause as NodeJS.ErrnoException;
    // undici's "other side closed" is node:http's ECONNRESET (a TLS alert shows as the close too)
    return `cannot reach ${origin}: ${c.code === 'UND_ERR_SOCKET' ? 'ECONNRESET' : c.code ?? c.message}`;
  }
  if (e.code !== MMC.MMC_ERROR || status === undefined) return e.message;
  const reason = withoutCode(e);
  return reason.startsWith('unexpected reply: ') ? reason.slice('unexpected reply: '.length) : reason;
}

/**
 * A MemCacheClient for the flags (one connection: a command is one exchange); `verifyToken`
 * false for the open reads, which need no token.
 */
export async function connect(flags: AccessFlags, verifyToken = true): Promise<{ client: MemCacheClient; origin: string }> {
  const { origin, tls, token } = access(flags);
  try {
    return { client: await MemCacheClient.connect(origin, { connections: 1, token, verifyToken, ...tls }), origin };
  } catch (e) {
    die(clientFailure(origin, e));
  }
}

/**
 * GET `path`, one of the admin API's open reads, through MemCacheClient.adminRead (with the
 * token when there is one): the body text, or one line with the server's error body (or
 * `HTTP <status>`).
 */
export async function openRead(flags: AccessFlags, path: string): Promise<string> {
  const { client, origin } = await connect(flags, false);
  let r: Awaited<ReturnType<MemCacheClient['adminRead']>>;
  try {
    r = await client.adminRead(path);
  } catch (e) {
    die(clientFailure(origin, e));
  } finally {
    await client.close();
  }
  const text = r.body.toString('utf8');
  if (r.json) {
    let j: { success?: boolean; error_message?: string } | undefined;
    try { j = JSON.parse(text); } catch { /* plain JSON */ }
    if (j && j.success === false) die(j.error_message);
  }
  if (r.status !== 200) die(`HTTP ${r.status}`);
  return text;
}
