// Module hooks (loader thread): every URL the ESM loader resolves is appended to $MMC_LOAD_LOG.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, nextResolve) {
  const r = await nextResolve(specifier, context);
  appendFileSync(process.env.MMC_LOAD_LOG, `${r.url}\n`);
  return r;
}
