/**
 * `mmc meta [--listen HOST:PORT] [--advertise HOST:PORT] [--config mmc-meta.conf] [--token-file F]
 * [--agent-timeout MS]`:
 * the pool's meta service (src/pool/meta.ts). Its address: --listen, else the conf's
 * ock.mmc.meta_service_url, else ock.mmc.meta_service.metrics_url, else 127.0.0.1:5000; its data
 * path on the next port. Its token (as mmc serve's: --token-file, $MMC_TOKEN,
 * ock.mmc.auth.token.path) is required of agents and clients on the data path and of mutating
 * REST requests.
 */
import { parseAddress } from '../address.js';
import { invalid } from '../errors.js';
import { startMeta } from '../pool/meta.js';
import { HEARTBEAT_MS, MIN_SILENT_MS } from '../pool/registry.js';
import { count, parseListen, planToken } from '../server/serve.js';
import { die, withoutCode } from './fail.js';
import { confOf, logger, runService } from './pool-run.js';

export interface MetaFlags { listen?: string; advertise?: string; config?: string; tokenFile?: string; agentTimeout?: string; quiet?: boolean }

export async function meta(flags: MetaFlags): Promise<void> {
  const log = logger(flags.quiet);
  const conf = confOf(flags.config, log, 'meta');
  let at;
  let token: string | undefined;
  let silentMs: number | undefined;
  try {
    token = planToken(flags, conf, process.env);
    at = flags.listen !== undefined ? parseListen(flags.listen)
      : conf.metaServiceUrl !== undefined ? parseAddress(conf.metaServiceUrl)
        : conf.listen ?? { host: '127.0.0.1', port: 5000 };
    if (flags.advertise !== undefined) parseListen(flags.advertise, '--advertise');
    if (flags.agentTimeout !== undefined) {
      silentMs = count(flags.agentTimeout, '--agent-timeout');
      if (silentMs < MIN_SILENT_MS) throw invalid(`--agent-timeout: at least ${MIN_SILENT_MS} ms (agents heartbeat every ${HEARTBEAT_MS} ms), got ${silentMs}`);
    }
  } catch (e) {
    die(withoutCode(e));
  }
  await runService('meta', log, async () => {
    const m = await startMeta({
      host: at.host, port: at.port, log, silentMs,
      server: { advertise: flags.advertise, token },
      store: { config: flags.config },
    });
    const dp = m.server.dataPath!;
    log(`mmc meta: listening on ${m.url}, pool data path on ${dp.host}:${dp.port}; waiting for rank agents (mmc local --meta ${m.url})`);
    return m;
  });
}
