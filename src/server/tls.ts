/**
 * TLS: the server over node:https with the same handler, and the certificate files read and checked
 * up front, so that TLS asked for and impossible refuses to start, naming the flag or key and path.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createSecureContext, type TlsOptions as TlsServerOptions } from 'node:tls';
import { readFailure } from '../config.js';
import { MMC, MmcError } from '../errors.js';

/** PEM contents, as node:tls takes them. */
export interface TlsOptions {
  /** The server certificate (chain). */
  cert: string | Buffer;
  /** Its private key. */
  key: string | Buffer;
  /** The key's passphrase, when it is encrypted. */
  passphrase?: string;
  /**
   * CA certificate(s). Given, the server requires a client certificate signed by one of them
   * (mutual TLS, as the reference's meta and local services both present certificates).
   */
  ca?: string | Buffer;
  /** Certificate revocation list(s) for client certificates. */
  crl?: string | Buffer;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** node:http without `tls`, else node:https with it; the same handler either way. */
export function createHttpServer(tls: TlsOptions | undefined, options: http.ServerOptions, handler: Handler): http.Server | https.Server {
  if (tls === undefined) return http.createServer(options, handler);
  return https.createServer({ ...options, ...tlsServerOptions(tls) }, handler);
}

/** The node:tls server options of `tls` (HTTPS and the binary data path alike). */
export function tlsServerOptions(tls: TlsOptions): TlsServerOptions {
  const mutual = tls.ca !== undefined;
  return {
    cert: tls.cert, key: tls.key, passphrase: tls.passphrase, ca: tls.ca, crl: tls.crl,
    requestCert: mutual, rejectUnauthorized: mutual, minVersion: 'TLSv1.2',
  };
}

/** A file named by the flag or conf key that gave it. */
export interface NamedPath {
  /** `--tls-cert`, `ock.mmc.tls.cert.path`, ... */
  what: string;
  path: string;
}

export interface TlsFiles {
  cert: NamedPath;
  key: NamedPath;
  /** A file holding the key's passphrase (plain text, one line). */
  pass?: NamedPath;
  ca?: NamedPath;
  crl?: NamedPath;
}

function refusal(f: NamedPath, why: string): MmcError {
  return new MmcError(MMC.MMC_INVALID_PARAM, `${f.what}: ${f.path}: ${why}`, { path: f.path });
}

/** A file's bytes; missing, unreadable or empty throws naming flag/key and path. */
export function readNamed(f: NamedPath): Buffer {
  let b: Buffer;
  try {
    b = readFileSync(f.path);
  } catch (e) {
    throw refusal(f, readFailure(e));
  }
  if (b.length === 0) throw refusal(f, 'empty file');
  return b;
}

function certificate(f: NamedPath, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw refusal(f, 'not a PEM certificate');
  }
}

/**
 * Read and check the files of `files`: each certificate parses, the key parses (with its
 * passphrase) and belongs to the certificate, and node:tls accepts the whole. Any failure throws
 * MmcError(MMC_INVALID_PARAM) naming the flag or key and the path.
 */
export function loadTls(files: TlsFiles): TlsOptions {
  const cert = readNamed(files.cert);
  const x509 = certificate(files.cert, cert);
  const key = readNamed(files.key);
  let passphrase: string | undefined;
  if (files.pass !== undefined) {
    passphrase = readNamed(files.pass).toString('utf8').replace(/\r?\n$/, '');
    if (passphrase === '') throw refusal(files.pass, 'empty passphrase');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key, passphrase });
  } catch {
    throw refusal(files.key, passphrase === undefined ? 'not a PEM private key (or one that needs a passphrase)' : 'not a PEM private key, or the passphrase does not open it');
  }
  if (!x509.checkPrivateKey(privateKey)) throw refusal(files.key, `not the key of the certificate in ${files.cert.path}`);
  const out: TlsOptions = { cert, key, passphrase };
  if (files.ca !== undefined) {
    out.ca = readNamed(files.ca);
    certificate(files.ca, out.ca);
  }
  if (files.crl !== undefined) {
    out.crl = readNamed(files.crl);
    try {
      createSecureContext({ crl: out.crl });
    } catch {
      throw refusal(files.crl, 'not a PEM certificate revocation list');
    }
  }
  try {
    createSecureContext({ cert: out.cert, key: out.key, passphrase, ca: out.ca });
  } catch {
    throw refusal(files.cert, 'node:tls refuses this certificate and key');
  }
  return out;
}
