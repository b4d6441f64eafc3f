/** MemCacheClient.connect's options. */
import type { DataPathMode } from './data-select.js';

export interface ClientOptions {
  /** Keep-alive connections to the server (default 8). */
  connections?: number;
  /** Per-request timeout for headers and body, ms (default 60000). */
  timeoutMs?: number;
  /** Bearer token sent with every request (`Authorization: Bearer <token>`). */
  token?: string;
  /** https: CA certificate(s), PEM, to verify the server with (default: the system's CAs). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** https: client certificate, PEM, for a server that requires one (mutual TLS). */
  cert?: string | Buffer;
  /** https: the client certificate's private key, PEM. */
  key?: string | Buffer;
  /** https: the key's passphrase. */
  passphrase?: string;
  /**
   * Keys in one batch request (default 16384, the server's default `batchKeyLimit`): a larger
   * batch is sent as several requests in turn, and is counted by the server as that many batches.
   */
  batchKeyLimit?: number;
  /** The binary data path (README "Binary data path"): 'auto' (default), 'off' (HTTP) or 'require'. */
  dataPath?: DataPathMode;
  /** Connections of the binary data path (default 4). */
  dataConnections?: number;
  /**
   * Check the token at connect with GET /api/v1/objects/stats (default true); false for a client
   * that makes only the admin API's open reads (adminRead), which need no token and no data path.
   */
  verifyToken?: boolean;
}
