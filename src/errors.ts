/** MMC result codes, values from the reference implementation (MemCache Hybrid). */
export const MMC = {
  MMC_OK: 0,
  MMC_ERROR: -1,
  MMC_INVALID_PARAM: -3000,
  MMC_MALLOC_FAILED: -3001,
  MMC_NOT_STARTED: -3003,
  MMC_TIMEOUT: -3004,
  MMC_DUPLICATED_OBJECT: -3006,
  MMC_OBJECT_NOT_EXISTS: -3007,
  MMC_NOT_INITIALIZED: -3008,
  MMC_EXCEED_CAPACITY: -3013,
  MMC_NOT_ENOUGH_MEMORY: -3016,
  MMC_UNMATCHED_STATE: -3101,
  MMC_UNMATCHED_KEY: -3102,
  MMC_LEASE_NOT_EXPIRED: -3104,
} as const;

export type MmcCodeName = keyof typeof MMC;

const NAMES = new Map<number, MmcCodeName>(
  (Object.keys(MMC) as MmcCodeName[]).map((name) => [MMC[name], name]),
);

/** The name of a code, `MMC_ERROR` for one we do not know. */
export function codeName(code: number): MmcCodeName {
  return NAMES.get(code) ?? 'MMC_ERROR';
}

/** Every failure of the store: `code` is the MMC code, `codeName` its name. */
export class MmcError extends Error {
  readonly code: number;
  readonly codeName: MmcCodeName;
  /** Extra facts for some errors, e.g. the ACL error code of a device failure. */
  readonly detail?: Record<string, unknown>;

  constructor(code: number, message: string, detail?: Record<string, unknown>) {
    const name = codeName(code);
    super(`${name}: ${message}`);
    this.name = 'MmcError';
    this.code = code;
    this.codeName = name;
    if (detail) this.detail = detail;
  }
}

/** The most common refusal: MMC_INVALID_PARAM with its reason. */
export function invalid(message: string): MmcError {
  return new MmcError(MMC.MMC_INVALID_PARAM, message);
}
