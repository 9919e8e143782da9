import { join } from "node:path";
import type { CompileTarget } from "./compile_targets.ts";

/**
 * Where `deno compile` keeps the runtime base (`denort`) of a target once downloaded:
 * `$DENO_DIR/dl/release/v<deno version>/denort-<triple>.zip`. An air-gapped machine gets the zip from
 * `https://dl.deno.land/release/v<version>/denort-<triple>.zip` on another machine and puts it there.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { runtimeBaseCachePath } from "./runtime_base.ts";
 * import { resolveTargets } from "./compile_targets.ts";
 *
 * const path = runtimeBaseCachePath(resolveTargets(["linux-arm64"])[0]!, { denoDir: "/c", denoVersion: "2.9.5" });
 * ok(path === "/c/dl/release/v2.9.5/denort-aarch64-unknown-linux-gnu.zip");
 * ```
 */
export function runtimeBaseCachePath(
  target: CompileTarget,
  options: { denoDir: string; denoVersion: string },
): string {
  return join(options.denoDir, "dl", "release", `v${options.denoVersion}`, `denort-${target.triple}.zip`);
}

/**
 * Whether `deno compile` failed for want of a runtime base (no download, a `DENORT_BIN` that is not there),
 * rather than for a problem in the code.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { isRuntimeBaseFailure } from "./runtime_base.ts";
 *
 * ok(isRuntimeBaseFailure("error: Writing deno compile executable …\n    0: Setting up base binary.\n    1: dns error"));
 * ok(isRuntimeBaseFailure("0: Could not find denort at '/opt/denort'"));
 * ok(!isRuntimeBaseFailure("error: TS2322 [ERROR]: Type 'string' is not assignable to type 'number'."));
 * ```
 */
export function isRuntimeBaseFailure(stderr: string): boolean {
  return /Setting up base binary|Could not find denort|denort-[\w-]+\.zip|dl\.deno\.land/.test(stderr);
}

/**
 * The one line `deno task compile` prints when a target has no runtime base: what failed, and the two ways
 * to provide one (`DENORT_BIN` for this machine's own target, the cache zip for any target).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { runtimeBaseProblem } from "./runtime_base.ts";
 * import { resolveTargets } from "./compile_targets.ts";
 *
 * const line = runtimeBaseProblem(resolveTargets(["linux-x86_64"])[0]!, {
 *   host: true,
 *   denortBin: undefined,
 *   cachePath: "/c/dl/release/v2.9.5/denort-x86_64-unknown-linux-gnu.zip",
 *   denoVersion: "2.9.5",
 * });
 * ok(line.includes("DENORT_BIN") && !line.includes("\n"));
 * ```
 */
export function runtimeBaseProblem(
  target: CompileTarget,
  options: { host: boolean; denortBin: string | undefined; cachePath: string; denoVersion: string },
): string {
  const url = `https://dl.deno.land/release/v${options.denoVersion}/denort-${target.triple}.zip`;
  const why = options.host && options.denortBin
    ? `DENORT_BIN='${options.denortBin}' cannot be used`
    : `it could not be downloaded from ${url}`;
  const fix = options.host
    ? `set DENORT_BIN to a local denort ${options.denoVersion} binary for ${target.triple}, or put ${url} at '${options.cachePath}'`
    : `put ${url} at '${options.cachePath}' (DENORT_BIN only serves this machine's own target)`;
  return `no Deno runtime base (denort) for ${target.name} (${target.triple}): ${why}; ${fix}`;
}
