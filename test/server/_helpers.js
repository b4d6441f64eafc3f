// Shared helpers of the server tests: a real store behind a real server on a free loopback port.
import http from 'node:http';
import { MemCache } from '../../dist/index.js';
import { createServer } from '../../dist/server/index.js';

export const SEGMENTS_2x2 = [
  { rank: 0, medium: 'hbm', bytes: '16MB' }, { rank: 1, medium: 'hbm', bytes: '16MB' },
  { rank: 0, medium: 'dram', bytes: '16MB' }, { rank: 1, medium: 'dram', bytes: '16MB' },
];

/** Open a store and serve it on 127.0.0.1:0. */
export async function startServer({ store = {}, server = {} } = {}) {
  const mc = await MemCache.open({ segments: SEGMENTS_2x2, ...store });
  const s = createServer(mc, server);
  const r = await s.listen('127.0.0.1', 0);
  return {
    mc, url: r.url, address: r.address, port: r.port,
    async close() { await r.close(); await mc.close(); },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** One raw HTTP exchange; `path` is sent exactly as given (no re-encoding). */
export function req(base, method, path, body, headers = {}) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const r = http.request({ host: u.hostname, port: u.port, method, path, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({
          status: res.statusCode, headers: res.headers, body: buf, text: buf.toString('utf8'),
          json() { return JSON.parse(buf.toString('utf8')); },
        });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    if (body !== undefined) r.end(body); else r.end();
  });
}

/** Numeric stats fields that changed while `fn` ran, as { field: delta }. */
export async function delta(mc, fn) {
  const before = mc.stats();
  const result = await fn();
  const after = mc.stats();
  const d = {};
  for (const [k, v] of Object.entries(after)) {
    if (typeof v !== 'number' || k.endsWith('_used') || k.endsWith('_total') || k === 'keys') continue;
    if (v !== before[k]) d[k] = v - before[k];
  }
  return { d, result };
}

/** The contract's error body check: exact field order, success false, integer timestamp. */
export function isErrorBody(res, reason) {
  const t = res.text;
  const m = /^\{"success":false,"error_message":(".*"),"timestamp":(\d+)\}$/.exec(t);
  if (!m) throw new Error(`not the error body: ${t}`);
  const got = JSON.parse(m[1]);
  if (reason instanceof RegExp ? !reason.test(got) : got !== reason) throw new Error(`reason ${JSON.stringify(got)} != ${reason}`);
  if (Math.abs(Number(m[2]) - Date.now() / 1000) > 5) throw new Error(`timestamp ${m[2]} is not now`);
  if (res.headers['content-type'] !== 'application/json; charset=utf-8') throw new Error(`content-type ${res.headers['content-type']}`);
  return true;
}

export { agent };
