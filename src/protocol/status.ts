/** The data plane's HTTP statuses: the status an MMC error is answered with under /api/v1/objects. */
import { MMC } from '../errors.js';

const DATA_PLANE_STATUS: Record<number, number> = {
  [MMC.MMC_INVALID_PARAM]: 400,
  [MMC.MMC_UNMATCHED_KEY]: 404,
  [MMC.MMC_OBJECT_NOT_EXISTS]: 404,
  [MMC.MMC_DUPLICATED_OBJECT]: 409,
  [MMC.MMC_NOT_ENOUGH_MEMORY]: 507,
  [MMC.MMC_EXCEED_CAPACITY]: 507,
  [MMC.MMC_NOT_INITIALIZED]: 503,
  [MMC.MMC_NOT_STARTED]: 503,
};

/** Real HTTP status of an MMC error on the data plane (500 for a code not listed). */
export function dataPlaneStatus(code: number): number {
  return DATA_PLANE_STATUS[code] ?? 500;
}
