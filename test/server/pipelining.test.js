// Requests pipelined on one connection take effect in order: a GET right behind a PUT of the same
// key sees the committed value, never "being written"; PUT+DELETE+GET sees the delete.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, raw, head, until } from './_helpers.js';

for (const fastPath of [true, false]) {
  test(`PUT then GET, and PUT, DELETE, GET, written back to back on one socket (fastPath ${fastPath})`, async () => {
    const T = await startServer({ server: { fastPath } });
    try {
      const value = Buffer.alloc(3 << 20, 0x5a); // big enough that the put spans many socket reads
      for (let round = 0; round < 5; round++) {
        const s = raw(T.port);
        s.write(Buffer.concat([
          Buffer.from(head('PUT', `/api/v1/objects?key=p${round}`, { 'Content-Length': value.length })), value,
          Buffer.from(head('GET', `/api/v1/objects?key=p${round}`)),
          Buffer.from(head('PUT', `/api/v1/objects?key=q${round}`, { 'Content-Length': 5 })), Buffer.from('hello'),
          Buffer.from(head('DELETE', `/api/v1/objects?key=q${round}`)),
          Buffer.from(head('GET', `/api/v1/objects?key=q${round}`)),
          Buffer.from(head('GET', `/health`)),
        ]));
        const r = await s.responses(6);
        assert.equal(r.map((x) => x.status), [200, 200, 200, 200, 404, 200], r.map((x) => x.text.slice(0, 80)).join(' | '));
        assert.ok(r[1].body.equals(value), 'the GET saw the committed value');
        assert.is(r[3].json().message, 'key deleted');
        assert.is(r[4].json().error_message, 'Key not found');
        s.destroy();
      }
    } finally { await T.close(); }
  });
}

test('a pipelined request behind one still receiving its body waits for it; a socket dying mid-put leaves nothing held', async () => {
  const T = await startServer();
  try {
    const s = raw(T.port);
    s.write(head('PUT', '/api/v1/objects?key=slow', { 'Content-Length': 4 }) + 'ab');
    await new Promise((r) => setTimeout(r, 100));
    s.write('cd' + head('DELETE', '/api/v1/objects?key=slow'));
    const r = await s.responses(2);
    assert.equal(r.map((x) => x.status), [200, 200]);
    assert.is(await T.mc.get('slow'), undefined);
    const d = raw(T.port);
    d.write(head('PUT', '/api/v1/objects?key=dead', { 'Content-Length': 4 }) + 'ab');
    await new Promise((r2) => setTimeout(r2, 50));
    d.destroy();
    await d.closed;
    await until(() => T.mc.segments().reduce((a, x) => a + x.usedBytes, 0) === 0, 5000, 'the dead put freed');
    assert.is(await T.mc.get('dead'), undefined);
  } finally { await T.close(); }
});

test.run();
