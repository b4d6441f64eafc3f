#!/usr/bin/env node
// The single grant's mac (src/protocol/grant-mac.ts) against createHmac, the way it was computed
// before, in the same run: sign (the meta service, per get/put) and check (a rank agent), ns/op,
// for a short key (one inner SHA-256 block) and a 100-byte one (three).
// Usage: node bench/grant-mac.js
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { grantMacMatches, writeGrantMac } from '../dist/protocol/grant-mac.js';
const secret = randomBytes(32);
const grant = randomBytes(48); // fields, then the mac
const fields = grant.subarray(0, 32);
const N = 200000;
for (const key of ['vs/get4k/12345', 'k'.repeat(100)]) {
  const want = createHmac('sha256', secret).update(fields).update(key, 'utf8').digest().subarray(0, 16);
  const signed = Buffer.concat([fields, want]);
  const ops = {
    'createHmac sign ': () => grant.set(createHmac('sha256', secret).update(fields).update(key, 'utf8').digest().subarray(0, 16), 32),
    'grant-mac sign  ': () => writeGrantMac(secret, grant, key),
    'createHmac check': () => timingSafeEqual(createHmac('sha256', secret).update(fields).update(key, 'utf8').digest().subarray(0, 16), want),
    'grant-mac check ': () => { if (!grantMacMatches(secret, signed, key)) throw new Error('mismatch'); },
  };
  for (let r = 0; r < 2; r++) for (const [name, f] of Object.entries(ops)) {
    for (let i = 0; i < 10000; i++) f();
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) f();
    console.log(`key ${key.length}B ${name} ${(Number(process.hrtime.bigint() - t) / N).toFixed(0)} ns/op`);
  }
}
