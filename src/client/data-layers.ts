/**
 * The layer calls (client/layers.ts: putFrom*, getInto*Layers, their batches) over the binary
 * data path: the same LayerTransport as over HTTP, so the calls check, count and fail alike. Values
 * go from the caller's views to the socket, and from the socket into the caller's views as the
 * reads arrive (a batch_get answer is read with layers.ts's own reader): no copy of a whole value.
 */
import { OP } from '../protocol/data-frames.js';
import { decodeCodes, encodeBatchPut, encodeKeyList } from '../protocol/framing.js';
import { encodePutOptions } from '../protocol/put-options.js';
import type { PutOptions } from '../store/types.js';
import type { ByteList } from '../store/views.js';
import { ChunkSink, type Sink as ConnSink } from './data-conn.js';
import type { DataTransport } from './data-transport.js';
import type { MmcError } from '../errors.js';
import { Reader, Sink as ViewSink, readBatchGet, sliced, type LayerTransport } from './layers.js';

/** A value poured over a list of views when `accept` takes its size, else dropped. */
export class AcceptSink implements ConnSink {
  size = 0;
  private into: ViewSink | undefined;
  constructor(private readonly list: ByteList, private readonly accept: (size: number) => boolean) {}
  begin(len: number): undefined {
    this.size = len;
    if (this.accept(len)) this.into = new ViewSink(this.list);
    return undefined;
  }
  write(chunk: Uint8Array): void { this.into?.write(chunk); }
}

/** An answer's payload as an async iterable of its reads, for layers.ts's Reader. */
class Pipe implements ConnSink, AsyncIterable<Buffer> {
  private readonly queue: Buffer[] = [];
  private done = false;
  private error: MmcError | undefined;
  private wake: (() => void) | undefined;
  begin(): undefined { return undefined; }
  write(c: Uint8Array): void { this.queue.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength)); this.notify(); }
  end(error?: MmcError): void { this.done = true; this.error ??= error; this.notify(); }
  private notify(): void { const w = this.wake; this.wake = undefined; w?.(); }
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const c = this.queue.shift();
      if (c !== undefined) { yield c; continue; }
      if (this.error) throw this.error;
      if (this.done) return;
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }
}

export class BinaryLayers implements LayerTransport {
  constructor(private readonly t: Pick<DataTransport, 'call' | 'putChunks'>, private readonly batchKeyLimit: number) {}

  put(key: string, chunks: readonly Uint8Array[], length: number, opts?: PutOptions): Promise<void> {
    return this.t.putChunks(key, chunks, length, encodePutOptions(opts));
  }

  batchPut(keys: readonly string[], values: readonly ByteList[], opts?: PutOptions): Promise<number[]> {
    return sliced(this.batchKeyLimit, keys, values, async (k, v) => {
      // encodeBatchPut reads only each value's byteLength, for the header; the views follow it
      const sized = k.map((key, i) => [key, { byteLength: v[i].total }] as unknown as [string, Uint8Array]);
      const head = encodeBatchPut(sized).chunks[0];
      let length = head.byteLength;
      for (const l of v) length += l.total;
      const sink = new ChunkSink();
      await this.t.call(OP.BATCH_PUT, '', encodePutOptions(opts), [head, ...v.flatMap((l) => l.bytes)], length, sink);
      return decodeCodes(Buffer.concat(sink.chunks));
    });
  }

  async get(key: string, into: ByteList, accept: (size: number) => boolean): Promise<number | undefined> {
    const sink = new AcceptSink(into, accept);
    const a = await this.t.call(OP.GET, key, '', [], 0, sink, true);
    return a.code === 0 ? sink.size : undefined;
  }

  batchGet(keys: readonly string[], into: readonly ByteList[], accept: (i: number, size: number) => boolean): Promise<number[]> {
    return sliced(this.batchKeyLimit, keys, into, async (k, v, base) => {
      const pipe = new Pipe();
      const reading = readBatchGet(new Reader(pipe), v, (i, n) => accept(base + i, n));
      reading.catch(() => {}); // a refused call is the answer's error, thrown below
      const list = encodeKeyList(k);
      try {
        await this.t.call(OP.BATCH_GET, '', '', [list], list.length, pipe);
      } finally {
        pipe.end();
      }
      return reading;
    });
  }
}
