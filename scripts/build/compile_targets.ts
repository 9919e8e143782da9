/**
 * The targets `deno compile` builds for, by ferry's short name (the folder and archive names) and by Deno's
 * target triple (what `deno compile --target` takes).
 */
export const COMPILE_TARGETS = [
  { name: "linux-x86_64", triple: "x86_64-unknown-linux-gnu", os: "linux" },
  { name: "linux-arm64", triple: "aarch64-unknown-linux-gnu", os: "linux" },
  { name: "macos-x86_64", triple: "x86_64-apple-darwin", os: "darwin" },
  { name: "macos-arm64", triple: "aarch64-apple-darwin", os: "darwin" },
  { name: "windows-x86_64", triple: "x86_64-pc-windows-msvc", os: "windows" },
] as const;

/** One of {@linkcode COMPILE_TARGETS}. */
export type CompileTarget = typeof COMPILE_TARGETS[number];

/**
 * The targets named by `--target` values (short names or triples, each value may hold several separated by
 * commas), in {@linkcode COMPILE_TARGETS} order; every target when none is named. An unknown name is a
 * `RangeError` that lists the known ones.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { resolveTargets } from "./compile_targets.ts";
 *
 * ok(resolveTargets([]).length === 5);
 * const targets = resolveTargets(["windows-x86_64,aarch64-apple-darwin"]);
 * ok(targets.map((target) => target.name).join(" ") === "macos-arm64 windows-x86_64");
 * ```
 */
export function resolveTargets(values: readonly string[]): CompileTarget[] {
  const wanted = values.flatMap((value) => value.split(",")).map((value) => value.trim()).filter(Boolean);
  if (wanted.length === 0) return [...COMPILE_TARGETS];
  for (const value of wanted) {
    if (!COMPILE_TARGETS.some((target) => target.name === value || target.triple === value)) {
      throw new RangeError(
        `Unknown target '${value}': use one of ${COMPILE_TARGETS.map((target) => target.name).join(", ")} ` +
          `(or Deno's triples: ${COMPILE_TARGETS.map((target) => target.triple).join(", ")})`,
      );
    }
  }
  return COMPILE_TARGETS.filter((target) => wanted.includes(target.name) || wanted.includes(target.triple));
}

/**
 * The target of the machine this runs on, from Deno's own triple (`Deno.build.target`); `undefined` when
 * `deno compile` has no runtime base for it.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { hostTarget } from "./compile_targets.ts";
 *
 * ok(hostTarget("x86_64-unknown-linux-gnu")?.name === "linux-x86_64");
 * ok(hostTarget("riscv64gc-unknown-linux-gnu") === undefined);
 * ```
 */
export function hostTarget(triple: string): CompileTarget | undefined {
  return COMPILE_TARGETS.find((target) => target.triple === triple);
}

/**
 * A binary's file name on a target: `.exe` on Windows.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { binaryFileName, resolveTargets } from "./compile_targets.ts";
 *
 * ok(binaryFileName("ferry", resolveTargets(["windows-x86_64"])[0]!) === "ferry.exe");
 * ok(binaryFileName("ferry", resolveTargets(["linux-arm64"])[0]!) === "ferry");
 * ```
 */
export function binaryFileName(name: string, target: CompileTarget): string {
  return target.os === "windows" ? `${name}.exe` : name;
}
