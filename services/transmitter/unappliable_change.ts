/**
 * A pipeline change the transmitter cannot apply to the tracker (an unknown status, a user the
 * tracker does not have, a parent not in the tracker yet…): its job ends failed with this reason,
 * shown by `deno task events`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { UnappliableChange } from "./unappliable_change.ts";
 *
 * const error = new UnappliableChange("the tracker has no asset type 'lidar'");
 * ok(error instanceof Error && error.name === "UnappliableChange");
 * ```
 */
export class UnappliableChange extends Error {
  override name = "UnappliableChange";
}
