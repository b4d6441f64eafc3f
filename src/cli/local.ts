/**
 * `mmc local --meta URL --rank N [--listen HOST:PORT] [--advertise HOST:PORT] [--hbm SIZE]
 * [--dram SIZE] [--backend sim|acl] [--devices ...] [--acl-library PATH] [--config mmc-local.conf]`:
 * a rank agent (src/pool/agent.ts). The conf's ock.mmc.meta_service_url and
 * ock.mmc.local_service.{hbm,dram}.size stand in for --meta, --hbm and --dram. The meta service's
 * token, if it requires one: --token-file, else $MMC_TOKEN, else ock.mmc.auth.token.path (as mmc serve).
 */
import { parseSize } from '../config.js';
import { startAgent } from '../pool/agent.js';
import { parseListen, planToken } from '../server/serve.js';
import { die, withoutCode } from './fail.js';
import { confOf, logger, runService } from './pool-run.js';

export interface LocalFlags {
  meta?: string; rank?: string; listen?: string; advertise?: string; hbm?: string; dram?: string;
  backend?: 'sim' | 'acl'; devices?: string; aclLibrary?: string; config?: string; tokenFile?: string; quiet?: boolean;
}

const DEFAULT_SIZE = 1024 ** 3;
/** --hbm / --dram: a size, or 0 for no segment of that medium (as the conf's 0). */
const sizeFlag = (v: string): number => (/^\s*0+\s*$/.test(v) ? 0 : parseSize(v));

function plan(flags: LocalFlags, log: (l: string) => void) {
  const conf = confOf(flags.config, log, 'local');
  const meta = flags.meta ?? conf.metaServiceUrl;
  if (meta === undefined) throw new Error('--meta URL is required (or ock.mmc.meta_service_url in --config)');
  const rank = Number(flags.rank);
  if (flags.rank === undefined || !/^\d+$/.test(flags.rank.trim()) || rank > 65535) throw new Error('--rank must be an integer 0..65535');
  const at = flags.listen !== undefined ? parseListen(flags.listen) : { host: '127.0.0.1', port: 0 };
  if (flags.advertise !== undefined) parseListen(flags.advertise, '--advertise');
  const ids = flags.devices?.split(',').map((d) => {
    if (!/^\d+$/.test(d.trim())) throw new Error(`--devices: '${d}' is not a device id`);
    return Number(d);
  });
  // one id: this rank's device (the backend maps rank -> device through the list)
  const devices = ids?.length === 1 ? Array.from({ length: rank + 1 }, () => ids[0]) : ids;
  return {
    meta: /^[a-z]+:\/\//i.test(meta) ? meta : `http://${meta}`, rank, host: at.host, port: at.port, advertise: flags.advertise,
    hbm: flags.hbm !== undefined ? sizeFlag(flags.hbm) : conf.hbmSize ?? DEFAULT_SIZE,
    dram: flags.dram !== undefined ? sizeFlag(flags.dram) : conf.dramSize ?? DEFAULT_SIZE,
    backend: flags.backend ?? 'sim', devices, aclLibrary: flags.aclLibrary, token: planToken(flags, conf, process.env),
  };
}

export async function local(flags: LocalFlags): Promise<void> {
  const log = logger(flags.quiet);
  let p: ReturnType<typeof plan>;
  try {
    p = plan(flags, log);
  } catch (e) {
    die(withoutCode(e));
  }
  await runService('local', log, async () => {
    const a = await startAgent({ ...p, log });
    log(`mmc local: rank ${a.rank} serving its segments on ${a.address} (incarnation ${a.incarnation}); registering at ${p.meta}`);
    return a;
  });
}
