/**
 * The layer calls (client/layers.ts: putFrom*, getInto*Layers, their batches) through a pool: the
 * same LayerTransport as over HTTP and the data path, so they check, count and fail alike; values
 * go from the caller's views to the agents and from the agents into the caller's views.
 */
import { MMC, MmcError } from '../errors.js';
import { encodePutOptions } from '../protocol/put-options.js';
import type { PutOptions } from '../store/types.js';
import type { ByteList } from '../store/views.js';
import { AcceptSink } from './data-layers.js';
import { sliced, type LayerTransport } from './layers.js';
import type { PoolTransport } from './pool-transport.js';

export class PoolLayers implements LayerTransport {
  constructor(private readonly t: PoolTransport, private readonly batchKeyLimit: number) {}

  put(key: string, chunks: readonly Uint8Array[], length: number, opts?: PutOptions): Promise<void> {
    return this.t.putChunks(key, chunks, length, encodePutOptions(opts));
  }

  batchPut(keys: readonly string[], values: readonly ByteList[], opts?: PutOptions): Promise<number[]> {
    return sliced(this.batchKeyLimit, keys, values, (k, v) => this.t.batchPutLists(k, v.map((l) => l.bytes), v.map((l) => l.total), encodePutOptions(opts)));
  }

  async get(key: string, into: ByteList, accept: (size: number) => boolean): Promise<number | undefined> {
    let sink = new AcceptSink(into, accept);
    const a = await this.t.readOne(key, () => (sink = new AcceptSink(into, accept)), false);
    return a ? sink.size : undefined;
  }

  batchGet(keys: readonly string[], into: readonly ByteList[], accept: (i: number, size: number) => boolean): Promise<number[]> {
    return sliced(this.batchKeyLimit, keys, into, async (k, v, base) => {
      const sinks = k.map((_, i) => new AcceptSink(v[i], (n) => accept(base + i, n)));
      const got = await this.t.batchRead(k, (i) => (sinks[i] = new AcceptSink(v[i], (n) => accept(base + i, n))));
      return got.map((a, i) => (a instanceof MmcError ? (a.code < 0 ? a.code : MMC.MMC_ERROR) : a ? sinks[i].size : MMC.MMC_UNMATCHED_KEY));
    });
  }
}
