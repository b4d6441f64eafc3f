/**
 * Listening: node:http (node:https with TLS) behind the in-order start and the access gate; a
 * request that is not HTTP at all (or a head over the limit) still gets the error body.
 */
import type http from 'node:http';
import type https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { answerSocket, clientErrorAnswer } from './answer.js';
import { accessGate, type AccessOptions } from './auth.js';
import { inOrder } from './inorder.js';
import type { DataPathInfo } from './data-listen.js';
import { createHttpServer } from './tls.js';

export interface RunningServer {
  /** `http://host:port` (`https://` with TLS) */
  url: string;
  /** `host:port` as advertised in leader_address. */
  address: string;
  port: number;
  server: http.Server | https.Server;
  /** Where the binary data path listens (undefined: off). */
  dataPath?: DataPathInfo;
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** As Node's own handler: answer only if no response on this socket has begun. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
  if (socket.writable && (!inFlight || !inFlight.headersSent)) answerSocket(socket, clientErrorAnswer(err.code));
  socket.destroy();
}

/** Listen on `host:port`; `onAddress` learns the `host:port` actually listened on. */
export function listen(handler: Handler, access: AccessOptions, host: string, port: number, onAddress: (address: string) => void): Promise<RunningServer> {
  // A request head of up to 1 MiB (Node's default is 16 KiB), so that an oversized key in the
  // query string gets the contract's `key too long` answer rather than a bare 431.
  const server = createHttpServer(access.tls, { keepAliveTimeout: 65_000, maxHeaderSize: 1 << 20 }, inOrder(accessGate(access.token, handler)));
  server.on('clientError', onClientError);
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const a = server.address() as AddressInfo;
      const h = a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]` : a.address;
      const address = `${h}:${a.port}`;
      onAddress(address);
      resolve({
        url: `${access.tls ? 'https' : 'http'}://${address}`, address, port: a.port, server,
        close: () => new Promise<void>((res) => {
          server.close(() => res());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2000).unref();
        }),
      });
    });
  });
}
