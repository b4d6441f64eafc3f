/**
 * The reasons of the contract's error body ({"success":false,"error_message":"<reason>",...}).
 * A reason is either coded, `MMC_X: text` (the MmcError's code name and message), or one of the
 * server's fixed reasons below. The server refuses only with a `Reason` and the client reads a
 * fixed reason back through the same table, so a reason renamed on one side and not the other
 * does not compile.
 */
import { MMC, MmcError, type MmcCodeName } from '../errors.js';

/** The server's fixed reasons (the contract's own wording, no MMC code in the text). */
export const REASON = {
  KEY_NOT_FOUND: 'Key not found',
  METADATA_KEY_NOT_FOUND: 'Metadata key not found',
  SEGMENT_NOT_FOUND: 'Segment not found',
  NOT_SUPPORTED: 'Not supported',
  INTERNAL_ERROR: 'Internal server error',
  NOT_FOUND: 'Not found',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  NO_TOKEN: 'Unauthorized: bearer token required',
  WRONG_TOKEN: 'Forbidden: wrong bearer token',
} as const;

/** The MMC code a client reads each fixed reason as (every reason listed: the type requires it). */
const FIXED_CODES: { readonly [K in keyof typeof REASON]: number } = {
  KEY_NOT_FOUND: MMC.MMC_UNMATCHED_KEY,
  METADATA_KEY_NOT_FOUND: MMC.MMC_UNMATCHED_KEY,
  SEGMENT_NOT_FOUND: MMC.MMC_INVALID_PARAM,
  NOT_SUPPORTED: MMC.MMC_ERROR,
  INTERNAL_ERROR: MMC.MMC_ERROR,
  NOT_FOUND: MMC.MMC_ERROR,
  METHOD_NOT_ALLOWED: MMC.MMC_ERROR,
  NO_TOKEN: MMC.MMC_ERROR,
  WRONG_TOKEN: MMC.MMC_ERROR,
};

export type FixedReason = (typeof REASON)[keyof typeof REASON];
/** A required query parameter that is absent or empty. */
export type MissingParameter = `Missing '${string}' parameter`;
/** An MmcError's message: its code name, then its text. */
export type CodedReason = `${MmcCodeName}: ${string}`;
export type Reason = FixedReason | MissingParameter | CodedReason;

export function missingParameter(name: string): MissingParameter {
  return `Missing '${name}' parameter`;
}

const CODE_OF_FIXED = new Map<string, number>(
  (Object.keys(REASON) as (keyof typeof REASON)[]).map((k) => [REASON[k], FIXED_CODES[k]]),
);
const CODED = /^(MMC_[A-Z_]+): ([\s\S]*)$/;
const MISSING = /^Missing '/;

/**
 * The MMC code and message a reason stands for: `MMC_X: text` gives MMC_X and `text`; a fixed
 * reason its code from the table; a missing parameter MMC_INVALID_PARAM; anything else MMC_ERROR.
 */
export function readReason(reason: string): { code: number; message: string } {
  const m = CODED.exec(reason);
  if (m && m[1] in MMC) return { code: MMC[m[1] as MmcCodeName], message: m[2] };
  let code = CODE_OF_FIXED.get(reason);
  if (code === undefined) code = MISSING.test(reason) ? MMC.MMC_INVALID_PARAM : MMC.MMC_ERROR;
  return { code, message: reason };
}

/** The MmcError an error body stands for: `MMC_X: text` gives code MMC_X (see readReason). */
export function errorFromReason(reason: string, status?: number): MmcError {
  const { code, message } = readReason(reason);
  return new MmcError(code, message, status ? { status } : undefined);
}
