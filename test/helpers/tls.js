// Throwaway certificates for the TLS tests, made with `openssl` (Debian package `openssl`) at test
// time: a CA, a server certificate for 127.0.0.1 and a client certificate signed by it, and a
// client certificate from another CA. Without openssl the TLS tests are skipped with one line;
// with CI set they fail instead (test/helpers/tools.js).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needTool } from './tools.js';

/** True if openssl runs. */
export function opensslRuns() {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

/** The uvu `test` for a file's TLS tests: as `test` where openssl runs, else skipping (failing under CI). */
export function opensslTest(test, fileUrl) {
  return needTool(test, 'openssl', 'Debian package openssl', fileUrl, opensslRuns());
}

const CNF = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = mmc test
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
subjectAltName = IP:127.0.0.1,DNS:localhost
extendedKeyUsage = serverAuth
[client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
`;

function openssl(dir, args) {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Make the certificates in a new temporary directory; returns their paths (and the directory). */
export function makeCerts() {
  const dir = mkdtempSync(join(tmpdir(), 'mmc-tls-'));
  writeFileSync(join(dir, 'openssl.cnf'), CNF);
  const cnf = ['-config', 'openssl.cnf'];
  const ca = (name) => openssl(dir, ['req', ...cnf, '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '2', '-extensions', 'v3_ca', '-subj', `/CN=${name}`]);
  let serial = 1;
  const leaf = (name, caName, ext, cn) => {
    openssl(dir, ['req', ...cnf, '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`,
      '-set_serial', String(++serial), '-days', '2', '-out', `${name}.pem`, '-extfile', 'openssl.cnf', '-extensions', ext]);
  };
  ca('ca');
  ca('other-ca');
  leaf('server', 'ca', 'server', '127.0.0.1');
  leaf('client', 'ca', 'client', 'mmc client');
  leaf('stranger', 'other-ca', 'client', 'stranger');
  const p = (f) => join(dir, f);
  return {
    dir,
    ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'),
    clientCert: p('client.pem'), clientKey: p('client.key'),
    strangerCert: p('stranger.pem'), strangerKey: p('stranger.key'), otherCa: p('other-ca.pem'),
  };
}
