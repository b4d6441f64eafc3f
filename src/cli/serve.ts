/**
 * `mmc serve`: plan from the flags (src/server/serve.ts), open the embedded store, serve it; SIGINT
 * and SIGTERM shut down cleanly (exit 0), a failure to start is one line (exit 1).
 */
import { MemCache } from '../index.js';
import { planServe, serve as startServing, type ServeFlags, type ServePlan } from '../server/serve.js';
import { die, withoutCode } from './fail.js';

export interface ServeCommandFlags extends ServeFlags { quiet?: boolean }

export async function serve(opts: ServeCommandFlags): Promise<void> {
  let plan: ServePlan;
  try {
    plan = planServe(opts);
  } catch (e) {
    die(withoutCode(e));
  }
  const log = opts.quiet ? () => {} : (l: string) => { process.stderr.write(l + '\n'); };
  for (const w of plan.warnings) log(`mmc: warning: ${w}`);
  // Handlers first: a signal during start-up waits for the start, then shuts down cleanly.
  let starting: ReturnType<typeof startServing> | undefined;
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`mmc: ${sig}, shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    try {
      const serving = await starting!;
      await serving.stop();
    } catch (e) {
      process.stderr.write(`mmc: shutdown: ${(e as Error).message}\n`);
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  starting = startServing(plan, (o) => MemCache.open(o), log);
  try {
    await starting;
  } catch (e) {
    die((e as Error).message.replace(/^MMC_ERROR: /, ''));
  }
}
