/**
 * Requests on one connection take effect in order. node:http parses pipelined requests as they
 * arrive and calls the handler for each at once; it only holds back their responses, giving a
 * response its socket once the one before it has finished. So a GET pipelined behind a PUT of the
 * same key would run before the put commits. Here a request starts only once its response has
 * the socket, that is once the previous request on the connection has answered (every route
 * answers after its store call). A request whose connection dies while it waits never starts.
 */
import type http from 'node:http';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export function inOrder(handler: Handler): Handler {
  return (req, res) => {
    if (res.socket) handler(req, res);
    else res.once('socket', () => handler(req, res));
  };
}
