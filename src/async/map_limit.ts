/**
 * Maps `items` through `map` with at most `limit` calls in flight, keeping results in input order.
 * The first rejection stops new calls from starting and rejects the whole, once the calls in
 * flight have settled.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mapLimit } from "./map_limit.ts";
 *
 * const doubled = await mapLimit([1, 2, 3], 2, async (n) => n * 2);
 * ok(doubled.join() === "2,4,6");
 * ```
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`Cannot map with limit '${limit}': it must be a whole number ≥ 1`);
  }
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const at = next++;
      try {
        results[at] = await map(items[at]!, at);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const rejected = lanes.find((lane): lane is PromiseRejectedResult => lane.status === "rejected");
  if (rejected) throw rejected.reason;
  return results;
}
