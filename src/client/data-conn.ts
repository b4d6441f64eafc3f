/**
 * One connection of the binary data path (src/protocol/data-frames.ts), client side: requests
 * assembled as they are made and written together (request-out.ts), answers matched to them by
 * id, each answer's payload streamed into its request's Sink as the socket reads arrive.
 */
import net from 'node:net';
import tls from 'node:tls';
import { MMC, MmcError } from '../errors.js';
import { OP, type Op } from '../protocol/data-frames.js';
import { FrameReader } from '../protocol/data-reader.js';
import { readReason } from '../protocol/reasons.js';
import { ReadSlab, SMALL_MIN_READ, type SlabOwner } from '../protocol/read-slab.js';
import { RequestOut } from './request-out.js';

/** Where an answer's payload goes. */
export interface Sink {
  /** The payload's length, before any byte: an error refuses it (its bytes are dropped). */
  begin(len: number): MmcError | undefined;
  write(chunk: Uint8Array): void;
  /** Where the next payload bytes go, at most `max` (a socket read lands there; advance tells how many did). */
  target?(max: number): Uint8Array | undefined;
  advance?(n: number): void;
  /** The answer is complete (`error`: it will not be, the connection is lost). */
  end?(error?: MmcError): void;
}

export interface Answer {
  code: number;
  /** The answer's aux bytes (SIZE's size), or its reason when `code` is not 0. */
  aux: Uint8Array;
  /** Payload bytes received (into the request's Sink). */
  length: number;
}

/** The payload gathered as the chunks it arrived in (batch answers, decoded in place). */
export class ChunkSink implements Sink {
  chunks: Uint8Array[] = [];
  begin(): undefined { return undefined; }
  write(chunk: Uint8Array): void { this.chunks.push(chunk); }
}

/** Payload bytes still to come from which a read goes straight into the request's sink. */
const DIRECT_BYTES = 64 * 1024;

interface Waiting {
  resolve(a: Answer): void;
  reject(e: unknown): void;
  sink: Sink | undefined;
  refused?: MmcError;
  got: number;
  aux?: Uint8Array;
}

export interface ConnTarget {
  host: string;
  port: number;
  /** node:tls options (ca, cert, key, passphrase, servername) when the data path is TLS. */
  tls?: tls.ConnectionOptions;
}

export class DataConn implements SlabOwner {
  private readonly reader = new FrameReader(true);
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private readonly out: RequestOut;
  /** Set once the connection is lost: every later request fails with it. */
  private lost: MmcError | undefined;
  private current: Waiting | undefined;
  /** When a byte last arrived, or the first request went out after a quiet spell (ms). */
  private heard = Date.now();

  private constructor(private readonly socket: net.Socket, readonly where: string, slab: ReadSlab | undefined) {
    socket.setNoDelay(true);
    this.out = new RequestOut(socket);
    if (slab) slab.owner = this; else socket.on('data', (c: Buffer) => this.push(c));
    socket.on('error', (e) => this.fail(new MmcError(MMC.MMC_ERROR, `data path ${where}: ${e.message}`)));
    socket.on('close', () => this.fail(new MmcError(MMC.MMC_ERROR, `data path ${where}: connection closed`)));
  }

  /** Connect, then HELLO with the token (the server's refusal is the MmcError it names). */
  static open(t: ConnTarget, token: string | undefined): Promise<DataConn> {
    const where = `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    return new Promise<DataConn>((resolve, reject) => {
      const slab = t.tls ? undefined : new ReadSlab(SMALL_MIN_READ);
      const socket = t.tls
        ? tls.connect({ ...t.tls, host: t.host, port: t.port })
        : net.connect({ host: t.host, port: t.port, onread: slab!.onread });
      const onError = (e: Error) => reject(new MmcError(MMC.MMC_ERROR, `data path ${where}: ${e.message}`, { cause: e }));
      socket.once('error', onError);
      socket.once(t.tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', onError);
        const c = new DataConn(socket, where, slab);
        c.request(OP.HELLO, token ?? '', '', [], 0).then((a) => {
          if (a.code === 0) { resolve(c); return; }
          c.close();
          reject(answerError(a));
        }, reject);
      });
    });
  }

  /** Requests waiting for their answers. */
  get busy(): number {
    return this.waiting.size;
  }

  get alive(): boolean {
    return this.lost === undefined;
  }

  /** One request; `value` (valueLen bytes in all) is written after the header, as given. */
  request(op: Op, key: string | Uint8Array, aux: Uint8Array | string, value: readonly Uint8Array[], valueLen: number, sink?: Sink): Promise<Answer> {
    if (this.lost) return Promise.reject(this.lost);
    if (this.waiting.size === 0) this.heard = Date.now();
    const id = this.nextId;
    this.nextId = id === 0xffffffff ? 1 : id + 1;
    this.out.add(op, id, key, aux, value, valueLen);
    return new Promise<Answer>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, sink, got: 0 });
    });
  }

  /** Bytes read from the socket. */
  push(c: Buffer): void {
    this.heard = Date.now();
    this.reader.push(c);
    this.drain();
  }

  /**
   * Where the next socket read may go straight (no copy): the rest of the payload being read, in
   * its sink's memory, when nothing else is buffered and at least DIRECT_BYTES of it are to come.
   */
  readonly direct = (): Uint8Array | undefined => {
    const w = this.current;
    const left = this.reader.valueLeft;
    if (w === undefined || w.refused || left < DIRECT_BYTES || !w.sink?.target) return undefined;
    return w.sink.target(left);
  };

  /** `n` payload bytes were read straight into the current sink's target. */
  readonly onDirect = (n: number): void => {
    this.heard = Date.now();
    const w = this.current!;
    this.reader.skip(n);
    w.sink!.advance!(n);
    w.got += n;
    this.drain();
  };

  /** Answers from the bytes buffered, as far as they go. */
  private drain(): void {
    try {
      for (let ev = this.reader.next(); ev !== undefined; ev = this.reader.next()) {
        if (ev.kind === 'value') {
          const w = this.current;
          if (w && !w.refused) { w.sink!.write(ev.chunk); w.got += ev.chunk.byteLength; }
          continue;
        }
        const h = ev.head;
        if (ev.kind === 'head') {
          const w = this.waiting.get(h.id);
          if (h.op === 0) { // about the connection (the server closes it): the request it names fails
            if (w) { this.waiting.delete(h.id); w.sink?.end?.(); w.reject(answerError({ code: h.a, aux: ev.aux, length: 0 })); }
            continue;
          }
          if (w === undefined) throw new MmcError(MMC.MMC_ERROR, `data path ${this.where}: answer to unknown request ${h.id}`);
          this.current = w;
          if (h.len > 0) {
            w.sink ??= new ChunkSink();
            w.refused = w.sink.begin(h.len);
          }
          w.aux = ev.aux;
          continue;
        }
        const w = this.current;
        this.current = undefined;
        if (!w) continue;
        this.waiting.delete(h.id);
        w.sink?.end?.();
        if (w.refused) w.reject(w.refused);
        else w.resolve({ code: h.a, aux: w.aux ?? new Uint8Array(0), length: w.got });
      }
    } catch (e) {
      this.fail(e instanceof MmcError ? e : new MmcError(MMC.MMC_ERROR, `data path ${this.where}: ${(e as Error).message}`));
      this.socket.destroy();
    }
  }

  private fail(e: MmcError): void {
    this.lost ??= e;
    for (const w of this.waiting.values()) { w.sink?.end?.(this.lost); w.reject(this.lost); }
    this.waiting.clear();
    this.current = undefined;
  }

  /**
   * Requests waiting while nothing arrived for `timeoutMs` (a server that stopped answering):
   * they fail, and the connection is dropped (the transport opens another).
   */
  expire(now: number, timeoutMs: number): void {
    if (this.waiting.size === 0 || now - this.heard < timeoutMs) return;
    this.fail(new MmcError(MMC.MMC_TIMEOUT, `data path ${this.where}: no answer for ${timeoutMs} ms`));
    this.socket.destroy();
  }

  close(): void {
    this.fail(new MmcError(MMC.MMC_NOT_INITIALIZED, 'client is closed'));
    this.socket.destroy();
  }
}

/** The MmcError of an answer with a code: its reason read as the HTTP client reads error bodies. */
export function answerError(a: Answer): MmcError {
  const reason = Buffer.from(a.aux.buffer, a.aux.byteOffset, a.aux.byteLength).toString('utf8');
  if (reason === '') return new MmcError(a.code, 'data path answer');
  const { code, message } = readReason(reason);
  return new MmcError(code, message);
}
