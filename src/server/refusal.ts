import type { Reason } from '../protocol/reasons.js';

/** A refusal: the error body with `reason`, HTTP `status` (200 on the contract's 24 endpoints). */
export class Refusal extends Error {
  constructor(readonly reason: Reason, readonly status = 200) { super(reason); }
}
