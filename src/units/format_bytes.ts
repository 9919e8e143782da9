/**
 * A byte count for people, in SI units as file browsers show them: `950 B`, `1.2 kB`, `3.4 GB`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { formatBytes } from "./format_bytes.ts";
 *
 * ok(formatBytes(1_234_567_890) === "1.2 GB");
 * ok(formatBytes(999) === "999 B");
 * ```
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`Cannot format '${bytes}' as a byte count`);
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(bytes)} B`;
  return `${value < 10 ? value.toFixed(1) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ${units[unit]}`;
}
