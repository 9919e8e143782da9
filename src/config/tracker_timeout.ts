import { z } from "zod";
import { ConfigurationError } from "./configuration_error.ts";

/** Seconds a tracker API call may take when nothing says otherwise. */
export const DEFAULT_TRACKER_TIMEOUT_SECONDS = 60;

const Seconds = z.coerce.number().positive().max(86_400);

/**
 * How long a tracker may take to answer, in milliseconds: the `--timeout` flag (seconds) when
 * given, else the `FERRY_TRACKER_TIMEOUT` environment variable (seconds), else 60 s. API calls
 * must be answered within it; uploads fail when no byte moves for that long (a long upload that
 * keeps moving never times out). A bad value is a {@linkcode ConfigurationError} naming it.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { trackerTimeout } from "./tracker_timeout.ts";
 *
 * ok(trackerTimeout({ env: {} }) === 60_000);
 * ok(trackerTimeout({ env: { FERRY_TRACKER_TIMEOUT: "5" } }) === 5_000);
 * ok(trackerTimeout({ env: { FERRY_TRACKER_TIMEOUT: "5" }, flag: "0.5" }) === 500);
 * ```
 */
export function trackerTimeout(options: { env: Record<string, string | undefined>; flag?: string | number }): number {
  const { env, flag } = options;
  const [setting, value] = flag !== undefined
    ? ["--timeout", String(flag)]
    : env.FERRY_TRACKER_TIMEOUT !== undefined && env.FERRY_TRACKER_TIMEOUT !== ""
    ? ["FERRY_TRACKER_TIMEOUT", env.FERRY_TRACKER_TIMEOUT]
    : [undefined, undefined];
  if (setting === undefined) return DEFAULT_TRACKER_TIMEOUT_SECONDS * 1000;
  const parsed = Seconds.safeParse(value.trim() === "" ? Number.NaN : value);
  if (!parsed.success) {
    throw new ConfigurationError(setting, value, "must be a number of seconds above 0 (at most 86400)");
  }
  return Math.round(parsed.data * 1000);
}
