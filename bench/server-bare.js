// The baseline of bench/server.js: a bare node:http server answering what the mmc server answers
// (GET /health JSON, GET /api/v1/objects a 4 KiB value), with no framework and no store.
import http from 'node:http';

const health = Buffer.from('{"status":"ok","role":"leader","ha_state":"serving","service_ready":true,"leader_address":"127.0.0.1:0","view_version":0}');
const value = Buffer.alloc(4096, 7);
const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': health.length });
    res.end(health);
  } else if (req.url.startsWith('/api/v1/objects?')) {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': value.length });
    res.end(value);
  } else {
    res.writeHead(404);
    res.end();
  }
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
