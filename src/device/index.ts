/**
 * Backend selection: 'sim' (host memory, the default) or 'acl' (native, optional, loaded on demand
 * so that nothing native is touched unless asked for).
 */
import { MMC, MmcError, invalid } from '../errors.js';
import { createSimBackend } from './sim.js';
import type { SimBackendOptions } from './sim.js';
import type { DeviceBackend } from './types.js';

export type { DeviceBackend, DeviceSegment, Medium, MaybePromise } from './types.js';
export type { SimBackend, SimBackendOptions, SimOp } from './sim.js';
export { createSimBackend, DEFAULT_CHUNK_BYTES } from './sim.js';

export interface AclBackendOptions {
  /** Path of the ACL runtime library (libascendcl.so). */
  aclLibrary?: string;
  /** rank -> device id map. */
  devices?: number[];
}

export interface CreateBackendOptions extends AclBackendOptions {
  sim?: SimBackendOptions;
}

interface AclModule {
  createAclBackend(options: AclBackendOptions): Promise<DeviceBackend>;
}

/** The backend named `name`: 'sim' or 'acl'. */
export async function createBackend(name: 'sim' | 'acl', options: CreateBackendOptions = {}): Promise<DeviceBackend> {
  if (name === 'sim') return createSimBackend(options.sim);
  if (name === 'acl') {
    // Specifier in a variable: type-checks whether or not acl.ts is present in this tree.
    const spec: string = './acl.js';
    let mod: AclModule;
    try {
      mod = (await import(spec)) as AclModule;
    } catch (err) {
      throw new MmcError(MMC.MMC_ERROR, `acl backend unavailable: ${(err as Error)?.message ?? String(err)}`, {
        cause: err,
      });
    }
    if (typeof mod.createAclBackend !== 'function') {
      throw new MmcError(MMC.MMC_ERROR, 'acl backend unavailable: module has no createAclBackend export');
    }
    return mod.createAclBackend({ aclLibrary: options.aclLibrary, devices: options.devices });
  }
  throw invalid(`unknown backend '${String(name)}' (sim or acl)`);
}
