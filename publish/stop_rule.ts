import { inRange, ValidatorOrder } from "./orders.ts";

/** What a stop rule sees before each plugin (pyblish's test `vars`). */
export interface StopState {
  /** The order of the plugin about to run. */
  nextOrder: number;
  /** The orders of plugins that failed so far in this pass (a set, as in pyblish). */
  ordersWithError: ReadonlySet<number>;
}

/**
 * Decides whether to stop before a plugin (pyblish's registered test); a truthy value stops the
 * pass and becomes the reason. It is consulted in every pass pyblish consults it: the progress
 * pre-count, the collectors and the main loop.
 */
export type StopRule = (state: StopState) => unknown;

/**
 * pyblish's `default_test`: stop before the first plugin at order ≥ 1.5 once a validator
 * (0.5 ≤ order < 1.5) failed.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { stopAfterFailedValidation } from "./stop_rule.ts";
 *
 * ok(stopAfterFailedValidation({ nextOrder: 2, ordersWithError: new Set([1.2]) }) === "failed validation");
 * ok(!stopAfterFailedValidation({ nextOrder: 1.4, ordersWithError: new Set([1]) }));
 * ```
 */
export const stopAfterFailedValidation: StopRule = ({ nextOrder, ordersWithError }) => {
  if (nextOrder < ValidatorOrder + 0.5) return undefined;
  for (const order of ordersWithError) if (inRange(order, ValidatorOrder)) return "failed validation";
  return undefined;
};
