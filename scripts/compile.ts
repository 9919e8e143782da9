/**
 * `deno task compile`: builds ferry's single binaries with `deno compile`, one per service and `ferry` for
 * the command line, for every target Deno supports (or those of `--target`), into `dist/bin/<target>/`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join, relative, resolve } from "node:path";
import { z } from "zod";
import { FERRY_VERSION } from "../services/bridge/version.ts";
import { readCommandFlags } from "../src/cli/read_command_flags.ts";
import { EXIT, exitCodesHelp } from "../src/cli/exit_codes.ts";
import { BINARIES, type BinarySpec, selectBinaries, WEB_ASSETS } from "./build/binaries.ts";
import {
  binaryFileName,
  COMPILE_TARGETS,
  type CompileTarget,
  hostTarget,
  resolveTargets,
} from "./build/compile_targets.ts";
import { type EmbeddedFiles, embeddedFiles } from "./build/embedded_files.ts";
import { writeWebAssets } from "./build/web_assets.ts";
import { isRuntimeBaseFailure, runtimeBaseCachePath, runtimeBaseProblem } from "./build/runtime_base.ts";

/** The checkout's root. */
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The usage text of the command. */
export const USAGE = `Usage: deno task compile [--target <name>]... [--only <binary>]... [--out <dir>] [--dry-run]

Builds ferry's single binaries with 'deno compile' into <out>/<target>/ (default dist/bin/<target>/):
${BINARIES.map((binary) => `  ${binary.name.padEnd(18)}${binary.summary}`).join("\n")}
Each answers --version and --help, needs nothing from the checkout at run time, and holds only the
permissions it needs (see scripts/build/binaries.ts).

Options:
  --target <name>     ${COMPILE_TARGETS.map((target) => target.name).join(", ")}
                      (or Deno's triples; repeatable or comma-separated; default: all of them)
  --only <binary>     build only these binaries (repeatable or comma-separated)
  --out <dir>         where the <target>/ folders go (default dist/bin)
  --dry-run           print the 'deno compile' commands and what each binary embeds; build nothing
  -h, --help          show this help
  --version           print the version

'deno compile' needs a Deno runtime base (denort) per target, which it downloads from dl.deno.land the
first time. Offline, set DENORT_BIN to a local denort for this machine's target, or put
denort-<triple>.zip (same Deno version) into $DENO_DIR/dl/release/v<version>/ for any target.

${
  exitCodesHelp({
    [EXIT.OK]: "every binary built",
    [EXIT.FAILED]: "deno compile failed on the code (its output says why)",
    [EXIT.USAGE]: "usage error: an unknown target or binary",
    [EXIT.ENVIRONMENT]: "no runtime base for a target (the line naming DENORT_BIN says what to do)",
  })
}`;

/**
 * The arguments of `deno compile` for one binary and target.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { compileArgs } from "./compile.ts";
 * import { BINARIES } from "./build/binaries.ts";
 * import { resolveTargets } from "./build/compile_targets.ts";
 *
 * const leecher = BINARIES.find((binary) => binary.name === "ferry-leecher")!;
 * const args = compileArgs(leecher, {
 *   target: resolveTargets(["linux-arm64"])[0]!,
 *   output: "dist/bin/linux-arm64/ferry-leecher",
 *   excludes: ["node_modules/typescript"],
 * });
 * ok(args.join(" ") === "compile --no-check --no-prompt --allow-net --allow-read --allow-write --allow-env --allow-sys " +
 *   "--target aarch64-unknown-linux-gnu --output dist/bin/linux-arm64/ferry-leecher " +
 *   "--exclude node_modules/typescript scripts/bin/ferry_leecher.ts");
 * ```
 */
export function compileArgs(
  binary: BinarySpec,
  options: { target: CompileTarget; output: string; excludes: readonly string[] },
): string[] {
  return [
    "compile",
    "--no-check", // checked once for every binary beforehand
    "--no-prompt",
    ...binary.permissions.map((permission) => permission.flag),
    "--target",
    options.target.triple,
    "--output",
    options.output,
    ...binary.include.flatMap((include) => ["--include", include]),
    ...options.excludes.flatMap((exclude) => ["--exclude", exclude]),
    binary.entry,
  ];
}

/** Options of {@linkcode compileBinaries}. */
export interface CompileBinariesOptions {
  /** @default {every target} */
  targets?: readonly CompileTarget[];
  /** @default {every binary} */
  binaries?: readonly BinarySpec[];
  /** Where the `<target>/` folders go. @default {"dist/bin"} in the checkout */
  out?: string;
  /** Print the commands only. @default {false} */
  dryRun?: boolean;
  /** The checkout. @default {this script's checkout} */
  root?: string;
  /** The `deno` to run. @default {Deno.execPath()} */
  deno?: string;
  /** Progress lines. @default {console.error} */
  log?: (line: string) => void;
  /** The environment of `deno compile` (`DENORT_BIN`, `DENO_DIR`, proxies). @default {Deno.env.toObject()} */
  env?: Record<string, string>;
  /** Type-check every binary's modules once before compiling (`deno check`). @default {true} */
  check?: boolean;
}

/** What {@linkcode compileBinaries} did. */
export interface CompileOutcome {
  /** Binaries written. */
  built: Array<{ binary: string; target: string; path: string }>;
  /** Targets with no runtime base: the binaries not built, and the one line saying what to do. */
  missingBase: Array<{ target: string; binaries: string[]; problem: string }>;
  /** Binaries whose service does not exist yet. */
  notYet: Array<{ binary: string; source: string }>;
  /** What each binary embeds. */
  embedded: Record<string, EmbeddedFiles>;
}

/** `deno compile` failed on the code, not for want of a runtime base. */
export class CompileError extends Error {
  /** Exit code 1. */
  readonly exitCode = EXIT.FAILED;
  constructor(message: string) {
    super(message);
    this.name = "CompileError";
  }
}

/**
 * Builds the binaries for the targets. A target without a runtime base is reported in `missingBase` (its
 * other binaries are not tried); a compile that fails on the code throws a {@linkcode CompileError}.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { compileBinaries } from "./compile.ts";
 * import { selectBinaries } from "./build/binaries.ts";
 * import { resolveTargets } from "./build/compile_targets.ts";
 *
 * const lines: string[] = [];
 * const outcome = await compileBinaries({
 *   targets: resolveTargets(["macos-arm64"]),
 *   binaries: selectBinaries(["ferry-leecher"]),
 *   dryRun: true,
 *   log: (line) => lines.push(line),
 * });
 * ok(outcome.built.length === 0 && lines[0]!.includes("--target aarch64-apple-darwin"));
 * ```
 */
export async function compileBinaries(options: CompileBinariesOptions = {}): Promise<CompileOutcome> {
  const {
    targets = COMPILE_TARGETS,
    binaries = BINARIES,
    root = ROOT,
    deno = Deno.execPath(),
    dryRun = false,
    log = (line: string) => console.error(line),
    env = Deno.env.toObject(),
    check = true,
  } = options;
  const out = resolve(options.out ?? join(root, "dist", "bin"));
  const outcome: CompileOutcome = { built: [], missingBase: [], notYet: [], embedded: {} };
  const available = binaries.filter((binary) => {
    const there = existsSync(join(root, binary.source)) && existsSync(join(root, binary.entry));
    if (!there) {
      outcome.notYet.push({ binary: binary.name, source: binary.source });
      log(`${binary.name}: not built: ${binary.source} does not exist yet`);
    }
    return there;
  });
  if (available.some((binary) => binary.include.includes(WEB_ASSETS))) {
    // Bundled once here, embedded as files: the binary serves them and never runs esbuild.
    const written = await writeWebAssets({ root });
    log(`built the web view's assets: ${written.join(", ")}`);
  }
  for (const binary of available) outcome.embedded[binary.name] = await embeddedFiles(binary, { root, deno });
  const info = JSON.parse(
    new TextDecoder().decode(
      (await new Deno.Command(deno, { args: ["info", "--json"], env, clearEnv: true, stdout: "piped" }).output())
        .stdout,
    ),
  ) as { denoVersion: string; denoDir: string };
  if (check && !dryRun && available.length > 0 && targets.length > 0) {
    // One type check for every binary and target (deno compile would check each one again).
    const roots = available.flatMap((binary) => [
      binary.entry,
      ...outcome.embedded[binary.name]!.files.filter((file) =>
        binary.include.some((include) => file.startsWith(include)) && /\.[cm]?tsx?$/.test(file)
      ),
    ]);
    log(`checking ${available.map((binary) => binary.name).join(", ")} …`);
    const checked = await new Deno.Command(deno, {
      args: ["check", ...new Set(roots)],
      cwd: root,
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!checked.success) {
      throw new CompileError(`the binaries' modules do not type-check:\n${new TextDecoder().decode(checked.stderr)}`);
    }
  }
  const host = hostTarget(Deno.build.target);
  for (const target of targets) {
    const folder = join(out, target.name);
    const isHost = target.triple === host?.triple;
    // DENORT_BIN is a base for this machine's own target; other targets come from the cache (or a download).
    const targetEnv = { ...env };
    if (!isHost) delete targetEnv.DENORT_BIN;
    for (const [index, binary] of available.entries()) {
      const output = join(folder, binaryFileName(binary.name, target));
      const args = compileArgs(binary, { target, output, excludes: outcome.embedded[binary.name]!.excludes });
      if (dryRun) {
        const embedded = outcome.embedded[binary.name]!;
        log(`${relative(root, deno) || deno} ${args.map((arg) => /[\s']/.test(arg) ? `'${arg}'` : arg).join(" ")}`);
        log(`  embeds ${embedded.files.length} files and ${embedded.packages.length} npm packages`);
        continue;
      }
      await mkdir(folder, { recursive: true });
      log(`compiling ${binary.name} for ${target.name} …`);
      const result = await new Deno.Command(deno, {
        args,
        cwd: root,
        env: targetEnv,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      if (result.success) {
        // A binary for this machine must answer --version as itself: a DENORT_BIN that is not a runtime base
        // (the deno CLI, say) gives a file that runs something else.
        const answer = isHost ? await versionAnswer(output) : `${binary.name} `;
        if (answer.startsWith(`${binary.name} `)) {
          outcome.built.push({ binary: binary.name, target: target.name, path: output });
          continue;
        }
        const problem = `${binary.name} for ${target.name} was built but does not run as ${binary.name} ` +
          `('--version' printed '${answer.split("\n")[0]}'): ${
            env.DENORT_BIN ? `DENORT_BIN='${env.DENORT_BIN}' is not a denort runtime base` : "its runtime base is wrong"
          }; set DENORT_BIN to the denort ${info.denoVersion} binary for ${target.triple}`;
        await rm(output, { force: true });
        outcome.missingBase.push({ target: target.name, binaries: available.slice(index).map((b) => b.name), problem });
        log(problem);
        break;
      }
      if (isRuntimeBaseFailure(stderr)) {
        const problem = runtimeBaseProblem(target, {
          host: isHost,
          denortBin: isHost ? env.DENORT_BIN : undefined,
          cachePath: runtimeBaseCachePath(target, info),
          denoVersion: info.denoVersion,
        });
        outcome.missingBase.push({
          target: target.name,
          binaries: available.slice(index).map((binary) => binary.name),
          problem,
        });
        log(problem);
        break;
      }
      throw new CompileError(`deno compile failed for ${binary.name} (${target.name}):\n${stderr}`);
    }
  }
  return outcome;
}

/** What a freshly built binary prints for `--version` (stdin closed; stopped after 30 s). */
async function versionAnswer(path: string): Promise<string> {
  try {
    const output = await new Deno.Command(path, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    return new TextDecoder().decode(output.stdout).trim();
  } catch (error) {
    return `(it did not run: ${(error as Error).message})`;
  }
}

const FlagsSchema = z.object({
  target: z.array(z.string()).default([]),
  only: z.array(z.string()).default([]),
  out: z.string().min(1).optional(),
  "dry-run": z.boolean().default(false),
  help: z.boolean().default(false),
  version: z.boolean().default(false),
});

/** Runs the command; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const read = readCommandFlags(args, {
    name: "compile",
    options: {
      target: { type: "string", multiple: true },
      only: { type: "string", multiple: true },
      out: { type: "string" },
      "dry-run": { type: "boolean" },
    },
    schema: FlagsSchema,
    usage: USAGE,
    versionLine: `ferry compile ${FERRY_VERSION}`,
  });
  if ("exit" in read) return read.exit;
  const { flags } = read;
  let targets: CompileTarget[];
  let binaries: BinarySpec[];
  try {
    targets = resolveTargets(flags.target);
    binaries = selectBinaries(flags.only);
  } catch (error) {
    console.error(`compile: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  let outcome: CompileOutcome;
  try {
    outcome = await compileBinaries({ targets, binaries, out: flags.out, dryRun: flags["dry-run"] });
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    console.error(`compile: ${error.message}`);
    return error.exitCode;
  }
  for (const built of outcome.built) console.log(relative(Deno.cwd(), built.path) || built.path);
  if (outcome.missingBase.length > 0) {
    console.error(
      `\ncompile: NOT BUILT for ${outcome.missingBase.map((missing) => missing.target).join(", ")}: ` +
        `no Deno runtime base (set DENORT_BIN, see above)`,
    );
    return EXIT.ENVIRONMENT;
  }
  return EXIT.OK;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
