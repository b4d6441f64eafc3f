/**
 * What `mmc meta` and `mmc local` share: the conf file read once (its warnings logged), and a
 * process that shuts its service down cleanly on SIGINT and SIGTERM (exit 0), or fails to start
 * with one line (exit 1).
 */
import { loadConf, type ConfConfig } from '../config.js';
import { die, withoutCode } from './fail.js';

export type Log = (line: string) => void;

export function logger(quiet: boolean | undefined): Log {
  return quiet ? () => {} : (l: string) => { process.stderr.write(l + '\n'); };
}

export function confOf(path: string | undefined, log: Log, name: string): ConfConfig {
  if (path === undefined) return {};
  try {
    const { config, warnings } = loadConf(path);
    for (const w of warnings) log(`mmc ${name}: warning: ${w}`);
    return config;
  } catch (e) {
    die(withoutCode(e));
  }
}

/** Runs `start`; its result's close() on SIGINT / SIGTERM. */
export async function runService(name: string, log: Log, start: () => Promise<{ close(): Promise<void> }>): Promise<void> {
  let running: Promise<{ close(): Promise<void> }> | undefined;
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`mmc ${name}: ${sig}, shutting down`);
    setTimeout(() => process.exit(1), 10_000).unref();
    try {
      await (await running!).close();
    } catch (e) {
      process.stderr.write(`mmc ${name}: shutdown: ${(e as Error).message}\n`);
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  running = start();
  try {
    await running;
  } catch (e) {
    die(withoutCode(e));
  }
}
