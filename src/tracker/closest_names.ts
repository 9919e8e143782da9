/** Edit distance between two strings (case-insensitive). */
function distance(a: string, b: string): number {
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  let previous = Array.from({ length: right.length + 1 }, (_, i) => i);
  for (let i = 1; i <= left.length; i++) {
    const current = [i];
    for (let j = 1; j <= right.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (left[i - 1] === right[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[right.length]!;
}

/**
 * The candidates closest to `name`, best first, for "did you mean" messages.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { closestNames } from "./closest_names.ts";
 *
 * ok(closestNames("sh01", ["sh010", "sh020", "sq010"])[0] === "sh010");
 * ```
 */
export function closestNames(name: string, candidates: readonly string[], count = 3): string[] {
  return [...new Set(candidates)]
    .map((candidate) => ({ candidate, score: distance(name, candidate) }))
    .sort((a, b) => a.score - b.score || a.candidate.localeCompare(b.candidate))
    .slice(0, count)
    .map(({ candidate }) => candidate);
}
