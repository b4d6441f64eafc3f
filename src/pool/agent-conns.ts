/**
 * The meta service's connections to its rank agents' data paths (demotions' COPY, FREE notices):
 * one per address, opened when first needed, opened again when it died.
 */
import { DataConn } from '../client/data-conn.js';
import { parseAddress } from '../address.js';

export interface AgentConns {
  get(addr: string): Promise<DataConn>;
  /** Closes the connection to `addr` (one that stopped answering); the next get opens another. */
  drop(addr: string): void;
  /** Closes every connection (the meta service's close). */
  close(): void;
}

export function agentConns(): AgentConns {
  const conns = new Map<string, Promise<DataConn>>();
  const open = (addr: string): Promise<DataConn> => {
    let c = conns.get(addr);
    if (c === undefined) {
      c = DataConn.open(parseAddress(addr, { emptyHost: '127.0.0.1' }), undefined);
      conns.set(addr, c);
      c.catch(() => conns.delete(addr));
    }
    return c;
  };
  return {
    async get(addr) {
      const c = await open(addr);
      if (c.alive) return c;
      conns.delete(addr);
      return open(addr);
    },
    drop(addr) {
      conns.get(addr)?.then((d) => d.close(), () => {});
      conns.delete(addr);
    },
    close() {
      for (const c of conns.values()) c.then((d) => d.close(), () => {});
      conns.clear();
    },
  };
}
