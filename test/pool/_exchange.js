// Raw data-path frames to a listening session (a rank agent's or the meta service's), for the
// tests that compare the quick path with the run loop: each frame in a write of its own (waiting
// for its answer) or all in one write; the answers as { op, id, code, aux (string), payload (Buffer) }.
import net from 'node:net';
import { HEADER_BYTES, decodeHead } from '../../dist/protocol/data-frames.js';

export async function exchange({ host, port }, frames, answers, oneWrite) {
  const s = net.connect(port, host);
  await new Promise((r) => s.once('connect', r));
  let buf = Buffer.alloc(0);
  const got = [];
  let want = 0;
  let wake;
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= HEADER_BYTES) {
      const h = decodeHead(buf, true);
      const end = HEADER_BYTES + h.aux + h.len;
      if (buf.length < end) break;
      got.push({ op: h.op, id: h.id, code: h.a, aux: buf.subarray(HEADER_BYTES, HEADER_BYTES + h.aux).toString(), payload: Buffer.from(buf.subarray(HEADER_BYTES + h.aux, end)) });
      buf = buf.subarray(end);
    }
    if (got.length >= want) wake?.();
  });
  const until = (n) => new Promise((r) => { want = n; wake = r; if (got.length >= n) r(); });
  try {
    if (oneWrite) {
      s.write(Buffer.concat(frames));
      await until(answers);
    } else {
      for (let i = 0; i < frames.length; i++) { s.write(frames[i]); await until(i + 1); }
    }
  } finally {
    s.destroy();
  }
  return got;
}
