// Shared helpers of the server tests: a real store behind a real server on a free loopback port.
import http from 'node:http';
import net from 'node:net';
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

/**
 * A raw TCP connection to the server, for what node:http's client will not do (pipelining,
 * a body that stops). `responses(n)` waits for n complete HTTP/1.1 responses (Content-Length
 * bodies) and parses them; `closed` resolves when the server closes the connection.
 */
export function raw(port) {
  const sock = net.connect(port, '127.0.0.1');
  const chunks = [];
  let total = 0;
  let buf = Buffer.alloc(0);
  let off = 0; // where the next response starts in buf
  let need = 0; // bytes needed before the response at `off` can be complete
  const parsed = [];
  const waiters = new Set();
  const closed = new Promise((resolve) => sock.on('close', resolve));
  sock.on('error', () => {});
  const check = () => { for (const w of waiters) w(); };
  sock.on('data', (c) => { chunks.push(c); total += c.length; if (total >= need) check(); });
  sock.on('close', check);
  /** Parses what has arrived into `parsed` (each byte looked at about once). */
  const parse = () => {
    if (chunks.length) { buf = Buffer.concat([buf, ...chunks]); chunks.length = 0; }
    for (;;) {
      const end = buf.indexOf('\r\n\r\n', off);
      if (end < 0) { need = total + 1; return; }
      const head = buf.subarray(off, end).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const headers = {};
      for (const h of head.slice(1)) { const i = h.indexOf(':'); headers[h.slice(0, i).toLowerCase()] = h.slice(i + 1).trim(); }
      const len = Number(headers['content-length'] ?? 0);
      if (buf.length < end + 4 + len) { need = end + 4 + len; return; }
      const body = buf.subarray(end + 4, end + 4 + len);
      parsed.push({ status, headers, body, text: body.toString('utf8'), json() { return JSON.parse(body.toString('utf8')); } });
      off = end + 4 + len;
      need = 0;
    }
  };
  return {
    sock,
    closed,
    write(data) { sock.write(data); },
    responses(n, timeoutMs = 20000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(w); reject(new Error(`no ${n} responses in ${timeoutMs} ms: ${Buffer.concat([buf, ...chunks]).toString('latin1').slice(0, 300)}`)); }, timeoutMs);
        const w = () => {
          parse();
          if (parsed.length >= n || sock.destroyed) { clearTimeout(timer); waiters.delete(w); resolve(parsed.slice()); }
        };
        waiters.add(w);
        w();
      });
    },
    destroy() { sock.destroy(); },
  };
}

/** Waits until `pred()` holds (polling), failing after `ms`. */
export async function until(pred, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A request head as raw bytes. */
export function head(method, path, headers = {}) {
  let h = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
  return h + '\r\n';
}

/** A key list frame from raw key bytes (Buffers), as the client would send it. */
export function keyFrame(keys) {
  const h = Buffer.alloc(4 + 4 * keys.length);
  h.writeUInt32LE(keys.length, 0);
  keys.forEach((k, i) => h.writeUInt32LE(k.length, 4 + 4 * i));
  return Buffer.concat([h, ...keys]);
}

/** A batch_put frame from raw key bytes and values. */
export function putFrame(entries) {
  const n = entries.length;
  const h = Buffer.alloc(4 + 8 * n);
  h.writeUInt32LE(n, 0);
  entries.forEach(([k, v], i) => { h.writeUInt32LE(k.length, 4 + 4 * i); h.writeUInt32LE(v.length, 4 + 4 * (n + i)); });
  return Buffer.concat([h, ...entries.map((e) => e[0]), ...entries.map((e) => e[1])]);
}
