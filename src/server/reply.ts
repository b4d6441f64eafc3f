/** Successful answers through a Koa context, and the JSON shapes of queries and segments. */
import type { Context } from 'koa';
import type { QueryResult, SegmentInfo } from '../store/types.js';
import { CT_BINARY, CT_JSON, CT_TEXT, ratio } from './format.js';

export function sendJson(ctx: Context, text: string): void {
  ctx.set('Content-Type', CT_JSON);
  ctx.body = text;
}

export function sendText(ctx: Context, text: string | Buffer): void {
  ctx.set('Content-Type', CT_TEXT);
  ctx.body = text;
}

export function sendBinary(ctx: Context, chunks: Uint8Array[], length: number): void {
  ctx.status = 200;
  ctx.set('Content-Type', CT_BINARY);
  ctx.body = chunks.length === 1 ? Buffer.from(chunks[0].buffer, chunks[0].byteOffset, chunks[0].byteLength) : Buffer.concat(chunks, length);
}

export function queryJson(q: QueryResult): object {
  return {
    key: q.key, size: q.size, prot: q.prot, numBlobs: q.numBlobs, valid: q.valid,
    blobs: q.blobs.map((b) => ({ rank: b.rank, medium: b.medium })),
  };
}

export function segmentJson(s: SegmentInfo, nameField: 'segment' | 'segment_name'): object {
  const remaining = Math.max(0, s.totalBytes - s.usedBytes);
  return {
    [nameField]: s.id, medium: s.medium, total_bytes: s.totalBytes, used_bytes: s.usedBytes,
    remaining_bytes: remaining, remaining_ratio: ratio(remaining, s.totalBytes),
  };
}
