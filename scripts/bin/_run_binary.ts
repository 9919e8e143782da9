/**
 * What every ferry binary does before its command runs: `--version` (ferry's version from `deno.json`, the
 * Deno version and the target it runs on) and `--help` in the binary's own name.
 *
 * @module
 */
import config from "../../deno.json" with { type: "json" };

/** ferry's version, from `deno.json`. */
export const FERRY_VERSION: string = config.version;

/**
 * The `--version` line of a binary.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { versionLine } from "./_run_binary.ts";
 *
 * const line = versionLine("ferry-tracker", { ferry: "0.1.0", deno: "2.9.5", target: "aarch64-apple-darwin" });
 * ok(line === "ferry-tracker 0.1.0 (deno 2.9.5, aarch64-apple-darwin)");
 * ```
 */
export function versionLine(name: string, versions: { ferry: string; deno: string; target: string }): string {
  return `${name} ${versions.ferry} (deno ${versions.deno}, ${versions.target})`;
}

/**
 * A command's usage text under the binary's name: `deno task tracker` becomes `ferry-tracker`, and the
 * `--version` flag is listed.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { binaryUsage } from "./_run_binary.ts";
 *
 * const usage = binaryUsage("Usage: deno task leecher [--store <where>]", { task: "leecher", name: "ferry-leecher" });
 * ok(usage.startsWith("Usage: ferry-leecher [--store <where>]"));
 * ok(usage.includes("--version"));
 * ```
 */
export function binaryUsage(usage: string, options: { task: string; name: string }): string {
  const text = usage.replaceAll(`deno task ${options.task}`, options.name);
  return text.includes("--version")
    ? text
    : `${text}\n\n${options.name} --version prints ferry's version, Deno's version and the target.`;
}

/** Options of {@linkcode runBinary}. */
export interface RunBinaryOptions {
  /** The binary's name, e.g. `ferry-tracker`. */
  name: string;
  /** The `deno task` name its usage text uses, e.g. `tracker`. */
  task: string;
  /** The command's usage text. */
  usage: string;
  /** The command: resolves to the exit code. */
  main: (args: string[]) => Promise<number>;
}

/**
 * Runs a binary's command with `--version` and `--help` answered first; resolves to the exit code.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { runBinary } from "./_run_binary.ts";
 *
 * let ran: string[] = [];
 * const code = await runBinary(["--port", "0"], {
 *   name: "ferry-x",
 *   task: "x",
 *   usage: "Usage: deno task x",
 *   main: (args) => Promise.resolve((ran = args).length),
 * });
 * ok(code === 2 && ran.join(" ") === "--port 0");
 * ```
 */
export async function runBinary(args: string[], options: RunBinaryOptions): Promise<number> {
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
    console.log(
      versionLine(options.name, { ferry: FERRY_VERSION, deno: Deno.version.deno, target: Deno.build.target }),
    );
    return 0;
  }
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
    console.log(binaryUsage(options.usage, options));
    return 0;
  }
  return await options.main(args);
}
