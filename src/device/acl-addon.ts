/**
 * The native ACL addon (build/Release/mmc_acl.node) and the libascendcl.so it loads: where the
 * addon and the library are looked for, and why either is unavailable. The addon does not link
 * against ACL: it dlopen()s libascendcl.so when a backend is created.
 *
 * Option `aclLibrary` (a file, or a folder holding libascendcl.so) is the only place tried when
 * given: a library that cannot be loaded there fails naming that path, never falling back to
 * another one. Without it: env `MMC_ACL_LIBRARY`, the default linker path,
 * `$ASCEND_HOME_PATH/runtime/lib64`, `$ASCEND_TOOLKIT_HOME/runtime/lib64`,
 * `/usr/local/Ascend/ascend-toolkit/latest/runtime/lib64`.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MMC, MmcError } from '../errors.js';

/** The addon's functions (native/acl_addon.cc). */
export interface AclAddon {
  load(paths: string[]):
    | { ok: true; path: string; reused?: boolean }
    | { ok: false; kind: 'not-found'; errors: string[] }
    | { ok: false; kind: 'missing-symbol'; path: string; symbol: string; error: string };
  init(): void;
  finalize(): void;
  setDevice(device: number): void;
  resetDevice(device: number): void;
  malloc(device: number, hbm: boolean, bytes: number): number;
  free(id: number): void;
  write(id: number, offset: number, src: Uint8Array, async: boolean): Promise<void> | undefined;
  read(id: number, offset: number, dst: Uint8Array, async: boolean): Promise<void> | undefined;
  copy(srcId: number, srcOffset: number, dstId: number, dstOffset: number, bytes: number, async: boolean): Promise<void> | undefined;
  stats(): { library: string | null; initRefs: number; devices: number; allocations: number; bytes: number };
}

const LIBRARY = 'libascendcl.so';
const DEFAULT_TOOLKIT_LIB64 = '/usr/local/Ascend/ascend-toolkit/latest/runtime/lib64';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const addonPath = join(packageRoot, 'build', 'Release', 'mmc_acl.node');
const reasonPath = join(packageRoot, 'build', 'mmc_acl.unavailable.txt');

let addonState: { addon: AclAddon } | { reason: string } | undefined;

export function loadAddon(): { addon: AclAddon } | { reason: string } {
  if (addonState) return addonState;
  if (!existsSync(addonPath)) {
    let why = 'it was never built (run `node scripts/build-native.js`, which needs python3, make and a C++ compiler)';
    try {
      const first = readFileSync(reasonPath, 'utf8').split('\n')[0]?.trim();
      if (first) why = `its build failed: ${first}`;
    } catch {
      /* no recorded reason */
    }
    addonState = { reason: `the native ACL addon ${addonPath} is missing: ${why}` };
    return addonState;
  }
  try {
    const require = createRequire(import.meta.url);
    addonState = { addon: require(addonPath) as AclAddon };
  } catch (err) {
    addonState = { reason: `the native ACL addon ${addonPath} failed to load: ${(err as Error).message}` };
  }
  return addonState;
}

/** Why the 'acl' backend cannot be used here (the addon is missing or does not load), or undefined. */
export function aclUnavailableReason(): string | undefined {
  const s = loadAddon();
  return 'reason' in s ? s.reason : undefined;
}

interface Candidate {
  label: string;
  path?: string;
}

/** Where libascendcl.so is looked for, in order: an explicit `aclLibrary` alone, else the search path. */
export function aclLibraryCandidates(aclLibrary?: string, env: NodeJS.ProcessEnv = process.env): Candidate[] {
  const asFile = (p: string): string => {
    try {
      if (statSync(p).isDirectory()) return join(p, LIBRARY);
    } catch {
      /* let dlopen report it */
    }
    return p;
  };
  // An explicit path is what the caller asked for: loading another library would hide the mistake.
  if (aclLibrary) return [{ label: 'option aclLibrary', path: asFile(aclLibrary) }];
  const list: Candidate[] = [];
  if (env.MMC_ACL_LIBRARY) list.push({ label: 'env MMC_ACL_LIBRARY', path: asFile(env.MMC_ACL_LIBRARY) });
  list.push({ label: 'default linker path', path: LIBRARY });
  for (const v of ['ASCEND_HOME_PATH', 'ASCEND_TOOLKIT_HOME']) {
    const home = env[v];
    list.push(home ? { label: `$${v}/runtime/lib64`, path: join(home, 'runtime', 'lib64', LIBRARY) } : { label: `$${v}/runtime/lib64 ($${v} unset)` });
  }
  list.push({ label: 'CANN default install', path: join(DEFAULT_TOOLKIT_LIB64, LIBRARY) });
  return list;
}

function samePath(a: string, b: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  return real(a) === real(b);
}

/**
 * Loads libascendcl.so through the addon (once per process): the path loaded. Throws an
 * MmcError naming the library and every place searched when it or one of its symbols is
 * missing, or when this process already uses another one.
 */
export function loadLibrary(addon: AclAddon, aclLibrary: string | undefined): string {
  const candidates = aclLibraryCandidates(aclLibrary);
  const tried = candidates.filter((c): c is Required<Candidate> => c.path !== undefined);
  const loaded = addon.load(tried.map((c) => c.path));
  if (!loaded.ok) {
    if (loaded.kind === 'missing-symbol') {
      throw new MmcError(
        MMC.MMC_ERROR,
        `acl backend unavailable: ${loaded.path} is not a usable ${LIBRARY}: symbol ${loaded.symbol} is missing (${loaded.error})`,
        { reason: 'missing-symbol', library: loaded.path, symbol: loaded.symbol },
      );
    }
    if (aclLibrary) {
      throw new MmcError(
        MMC.MMC_ERROR,
        `acl backend unavailable: cannot load ${LIBRARY} from aclLibrary ${tried[0].path}: ${loaded.errors[0] ?? 'not loaded'}`,
        { reason: 'library-not-found', library: tried[0].path, searched: [`${tried[0].label}: ${tried[0].path} (${loaded.errors[0] ?? 'not loaded'})`] },
      );
    }
    let i = 0;
    const searched = candidates.map((c) => (c.path === undefined ? c.label : `${c.label}: ${c.path} (${loaded.errors[i++] ?? 'not loaded'})`));
    throw new MmcError(
      MMC.MMC_ERROR,
      `acl backend unavailable: cannot load ${LIBRARY}; searched ${searched.join('; ')}. ` +
        `Install the CANN toolkit, or set option aclLibrary or env MMC_ACL_LIBRARY to the library's path.`,
      { reason: 'library-not-found', searched },
    );
  }
  const explicit = tried[0] && tried[0].label !== 'default linker path' ? tried[0].path : undefined;
  if (loaded.reused && explicit && !samePath(explicit, loaded.path)) {
    throw new MmcError(
      MMC.MMC_ERROR,
      `acl backend unavailable: this process already uses ${loaded.path}; close every ACL store before switching to ${explicit}`,
      { reason: 'library-in-use', library: loaded.path },
    );
  }
  return loaded.path;
}

/** Counters of the native addon, for tests and diagnostics. */
export function aclAddonStats(): ReturnType<AclAddon['stats']> | undefined {
  const s = loadAddon();
  return 'addon' in s ? s.addon.stats() : undefined;
}
