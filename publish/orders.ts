/** Collectors gather what is to be published. */
export const CollectorOrder = 0;
/** Validators check it. */
export const ValidatorOrder = 1;
/** Extractors write what is published (fingerprints, thumbnails, reviewables). */
export const ExtractorOrder = 2;
/** Integrators put it into the tracker and storage. */
export const IntegratorOrder = 3;

/**
 * Whether `order` falls in the stage band of `base`: `base - offset <= order < base + offset`, as
 * pyblish's `lib.inrange` (0.5 and 1.49 are validation; 1.5 is extraction).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { inRange, ValidatorOrder } from "./orders.ts";
 *
 * ok(inRange(ValidatorOrder + 0.49, ValidatorOrder));
 * ok(!inRange(1.5, ValidatorOrder));
 * ```
 */
export function inRange(order: number, base: number, offset = 0.5): boolean {
  return base - offset <= order && order < base + offset;
}
