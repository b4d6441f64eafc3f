/**
 * How `mmc` fails: one line on stderr, `mmc: <reason>`, exit code 1, never a stack trace.
 */
import { readFileSync } from 'node:fs';

/** Print `mmc: <first line of msg>` and exit 1. */
export function die(msg: unknown): never {
  process.stderr.write(`mmc: ${String(msg).split('\n')[0]}\n`);
  process.exit(1);
}

/** The message of anything thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An MmcError's message without its `MMC_X: ` code prefix, as the flag checks word their refusals. */
export function withoutCode(e: unknown): string {
  return messageOf(e).replace(/^MMC_[A-Z_]+: /, '');
}

const WHY: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory' };

/** A file's contents for a flag; missing, unreadable or empty is one line naming flag and path. */
export function readFlagFile(flag: string, path: string): Buffer {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    die(`${flag}: ${path}: ${(code && WHY[code]) ?? code ?? 'unreadable'}`);
  }
  if (b.length === 0) die(`${flag}: ${path}: empty file`);
  return b;
}
