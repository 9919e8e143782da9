/**
 * `deno task release`: builds a release of ferry into one folder: per target an archive of the binaries with
 * the README, the licence, an example settings file (and systemd units on Linux); the Blender add-on as an
 * installable zip; the Python host client as a zip; the npm tarball of the common module; and `SHA256SUMS`.
 * The version comes from `deno.json` and is stamped into every artefact.
 *
 * @module
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { unzipSync, type Zippable, zipSync } from "fflate";
import { z } from "zod";
import { FERRY_VERSION } from "../services/bridge/version.ts";
import { readCommandFlags } from "../src/cli/read_command_flags.ts";
import { EXIT, exitCodesHelp } from "../src/cli/exit_codes.ts";
import { BINARIES } from "./build/binaries.ts";
import { binaryFileName, COMPILE_TARGETS, type CompileTarget, resolveTargets } from "./build/compile_targets.ts";
import { parseDenoConfig } from "./build/deno_config.ts";
import { sha256Sums } from "./build/sha256sums.ts";
import { stampBlInfo, stampPythonVersion } from "./build/stamp_version.ts";
import { type ArchiveFile, tarGz } from "./build/tar_gz.ts";
import { buildBlenderAddon } from "./build_blender_addon.ts";
import { buildNpmPackage } from "./build_npm.ts";
import { compileBinaries, CompileError } from "./compile.ts";

/** The checkout's root. */
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** One fixed time for every archive entry, so that the same inputs give the same archives. */
const ARCHIVE_TIME = new Date("2026-01-01T00:00:00Z");

/** The usage text of the command. */
export const USAGE = `Usage: deno task release [--out <dir>] [--target <name>]... [--allow-missing-binaries]

Builds a release of ferry (version from deno.json, stamped into every artefact) into <dir>
(default dist/release/<version>/, emptied first; a given --out must be empty or new):

  ferry-<version>-<target>.tar.gz (.zip on Windows)   bin/ (the binaries of 'deno task compile'),
      README.md, LICENSE, settings.example.json, and on Linux systemd/ (a unit per service, ferry.env)
  ferry_blender-<version>.zip     the Blender add-on (Edit › Preferences › Add-ons › Install…)
  ferry_host-<version>.zip        the Python host client (put the zip on PYTHONPATH, or unzip it)
  ferry-common-<version>.tgz      the npm package of the common module (npm install ./ferry-common-….tgz)
  SHA256SUMS                      for every file above ('sha256sum --check SHA256SUMS')

Options:
  --out <dir>                where the release goes
  --target <name>            ${COMPILE_TARGETS.map((target) => target.name).join(", ")}
                             (repeatable or comma-separated; default: all of them)
  --allow-missing-binaries   where no Deno runtime base (denort) is available to build a target's
                             binaries, build everything else: that target's archive is named
                             ferry-<version>-<target>-nobin and holds no bin/ folder
  -h, --help                 show this help
  --version                  print the version

${
  exitCodesHelp({
    [EXIT.OK]: "the release is built",
    [EXIT.FAILED]: "a build step failed (its message says which)",
    [EXIT.USAGE]: "usage error: an unknown target, an --out folder that is not empty",
    [EXIT.ENVIRONMENT]:
      "binaries could not be built (no denort; see DENORT_BIN) and --allow-missing-binaries was not given",
  })
}`;

/** Options of {@linkcode buildRelease}. */
export interface ReleaseOptions {
  /** Where the release goes (must be empty or new). @default {"dist/release/<version>"}, emptied first */
  out?: string;
  /** @default {every target} */
  targets?: readonly CompileTarget[];
  /** Build everything else when a target's binaries cannot be built for want of a runtime base. @default {false} */
  allowMissingBinaries?: boolean;
  /** The checkout. @default {this script's checkout} */
  root?: string;
  /** The environment of `deno compile` and `npm`. @default {Deno.env.toObject()} */
  env?: Record<string, string>;
  /** Progress lines. @default {console.error} */
  log?: (line: string) => void;
  /** Type-check the binaries' modules before compiling them. @default {true} */
  check?: boolean;
}

/** A per-target archive of a release. */
export interface ReleaseArchive {
  target: string;
  /** Its file name in the release folder. */
  file: string;
  /** The binaries it holds (file names). */
  binaries: string[];
  /** Why it holds no binaries, when it holds none. */
  missing?: string;
}

/** What {@linkcode buildRelease} made. */
export interface Release {
  version: string;
  /** The release folder. */
  out: string;
  /** Every file of the release but `SHA256SUMS`, sorted. */
  artefacts: string[];
  archives: ReleaseArchive[];
  /** Binaries not built because their service does not exist yet. */
  notYet: string[];
}

/** The release could not be built; `exitCode` says why (see {@linkcode USAGE}). */
export class ReleaseError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = "ReleaseError";
    this.exitCode = exitCode;
  }
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) =>
    relative(folder, join(entry.parentPath, entry.name)).replaceAll("\\", "/")
  ).filter((path) => !path.split("/").includes("__pycache__") && !path.endsWith(".pyc")).sort();
}

function zip(files: readonly ArchiveFile[]): Uint8Array {
  const entries: Zippable = {};
  for (const file of files) {
    // Unix modes in the external attributes, so unzip keeps programs runnable.
    const mode = file.executable ? 0o100755 : 0o100644;
    entries[file.path] = [file.data, { mtime: ARCHIVE_TIME, os: 3, attrs: mode << 16 }];
  }
  return zipSync(entries, { level: 9 });
}

/** The Blender add-on zip with `bl_info` and the vendored client's `__version__` stamped. */
async function addonZip(root: string, work: string, version: string): Promise<Uint8Array> {
  const built = await buildBlenderAddon({ root, out: join(work, "ferry_blender.zip") });
  const entries = unzipSync(await readFile(built.path));
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const stamp = (path: string, how: (text: string, version: string, path: string) => string) => {
    const data = entries[path];
    if (data === undefined) throw new ReleaseError(`Cannot stamp '${path}': the add-on zip has no such file`, 1);
    entries[path] = encoder.encode(how(decoder.decode(data), version, path));
  };
  stamp("ferry_blender/__init__.py", stampBlInfo);
  stamp("ferry_blender/ferry_host/__init__.py", stampPythonVersion);
  return zip(Object.entries(entries).sort(([a], [b]) => a < b ? -1 : 1).map(([path, data]) => ({ path, data })));
}

/** The Python client as a zip: `ferry_host/` at its top (importable from the zip on `PYTHONPATH`). */
async function hostZip(root: string, version: string): Promise<Uint8Array> {
  const folder = join(root, "hosts", "python", "ferry_host");
  const files: ArchiveFile[] = [];
  for (const path of await filesUnder(folder)) {
    let data = new Uint8Array(await readFile(join(folder, path)));
    if (path === "__init__.py") {
      const text = stampPythonVersion(new TextDecoder().decode(data), version, `hosts/python/ferry_host/${path}`);
      data = new TextEncoder().encode(text);
    }
    files.push({ path: `ferry_host/${path}`, data });
  }
  return zip(files);
}

/** The npm tarball of the common module, packed by `npm pack` into `out`; returns its file name. */
async function npmTarball(root: string, work: string, out: string, options: {
  version: string;
  env: Record<string, string>;
}): Promise<string> {
  const build = await buildNpmPackage({ root, outDir: join(work, "npm") });
  if (build.packageJson.version !== options.version) {
    throw new ReleaseError(`The npm package has version ${build.packageJson.version}, not ${options.version}`, 1);
  }
  let output;
  try {
    output = await new Deno.Command("npm", {
      args: ["pack", "--json", "--pack-destination", out],
      cwd: build.outDir,
      env: options.env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new ReleaseError(`Cannot pack the npm package: npm cannot be run (${(error as Error).message})`, 3);
  }
  if (!output.success) {
    throw new ReleaseError(`npm pack failed: ${new TextDecoder().decode(output.stderr)}`, 1);
  }
  const packed = JSON.parse(new TextDecoder().decode(output.stdout)) as Array<{ filename: string }>;
  return packed[0]!.filename.replace(/^@/, "").replace("/", "-");
}

/**
 * Builds a release (see {@linkcode USAGE}). Binaries come from {@linkcode compileBinaries}; a target without
 * a runtime base fails the release with a {@linkcode ReleaseError} (exit code 3) unless
 * `allowMissingBinaries` is set.
 *
 * @example
 * ```ts ignore
 * import { buildRelease } from "./release.ts";
 *
 * const release = await buildRelease({ out: "/tmp/ferry-release", allowMissingBinaries: true });
 * console.log(release.artefacts);
 * ```
 */
export async function buildRelease(options: ReleaseOptions = {}): Promise<Release> {
  const {
    root = ROOT,
    targets = COMPILE_TARGETS,
    allowMissingBinaries = false,
    env = Deno.env.toObject(),
    log = (line: string) => console.error(line),
    check = true,
  } = options;
  const { version } = parseDenoConfig(await readFile(join(root, "deno.json"), "utf8"), join(root, "deno.json"));
  const out = resolve(options.out ?? join(root, "dist", "release", version));
  if (options.out === undefined) await rm(out, { recursive: true, force: true });
  else if (existsSync(out) && readdirSync(out).length > 0) {
    throw new ReleaseError(`--out '${out}' is not empty: give a new or empty folder`, EXIT.USAGE);
  }
  await mkdir(out, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), "ferry-release-"));
  try {
    log(`ferry ${version}: compiling the binaries …`);
    let compiled;
    try {
      compiled = await compileBinaries({ targets, binaries: BINARIES, out: join(work, "bin"), root, env, log, check });
    } catch (error) {
      if (error instanceof CompileError) throw new ReleaseError(error.message, EXIT.FAILED);
      throw error;
    }
    if (compiled.missingBase.length > 0 && !allowMissingBinaries) {
      throw new ReleaseError(
        `Cannot build the binaries:\n  ${compiled.missingBase.map((missing) => missing.problem).join("\n  ")}\n` +
          `(give --allow-missing-binaries to build everything else)`,
        EXIT.ENVIRONMENT,
      );
    }
    const readme = await readFile(join(root, "README.md"));
    const license = await readFile(join(root, "LICENSE"));
    const settings = await readFile(join(root, "examples", "settings.json"));
    const systemdFolder = join(root, "examples", "systemd");
    const systemd = await Promise.all(
      (await filesUnder(systemdFolder)).map(async (path) => ({
        path,
        data: await readFile(join(systemdFolder, path)),
      })),
    );
    const archives: ReleaseArchive[] = [];
    const artefacts: string[] = [];
    for (const target of targets) {
      const top = `ferry-${version}-${target.name}`;
      const missing = compiled.missingBase.find((entry) => entry.target === target.name);
      const binaries = compiled.built.filter((entry) => entry.target === target.name);
      const files: ArchiveFile[] = [
        ...await Promise.all(binaries.map(async (entry) => ({
          path: `${top}/bin/${binaryFileName(entry.binary, target)}`,
          data: new Uint8Array(await readFile(entry.path)),
          executable: true,
        }))),
        { path: `${top}/README.md`, data: readme },
        { path: `${top}/LICENSE`, data: license },
        { path: `${top}/settings.example.json`, data: settings },
        ...(target.os === "linux"
          ? systemd.map((file) => ({ path: `${top}/systemd/${file.path}`, data: file.data }))
          : []),
      ];
      const file = `${top}${missing ? "-nobin" : ""}${target.os === "windows" ? ".zip" : ".tar.gz"}`;
      await writeFile(join(out, file), target.os === "windows" ? zip(files) : tarGz(files, { mtime: ARCHIVE_TIME }));
      archives.push({
        target: target.name,
        file,
        binaries: binaries.map((entry) => binaryFileName(entry.binary, target)),
        ...(missing ? { missing: missing.problem } : {}),
      });
      artefacts.push(file);
      log(`${file}${missing ? `: WITHOUT BINARIES (${missing.problem})` : ""}`);
    }
    const addon = `ferry_blender-${version}.zip`;
    await writeFile(join(out, addon), await addonZip(root, work, version));
    const host = `ferry_host-${version}.zip`;
    await writeFile(join(out, host), await hostZip(root, version));
    const npm = await npmTarball(root, work, out, { version, env });
    artefacts.push(addon, host, npm);
    for (const file of [addon, host, npm]) log(file);
    artefacts.sort();
    await writeFile(join(out, "SHA256SUMS"), await sha256Sums(artefacts.map((file) => join(out, file))));
    log("SHA256SUMS");
    return { version, out, artefacts, archives, notYet: compiled.notYet.map((entry) => entry.binary) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const FlagsSchema = z.object({
  out: z.string().min(1).optional(),
  target: z.array(z.string()).default([]),
  "allow-missing-binaries": z.boolean().default(false),
  help: z.boolean().default(false),
  version: z.boolean().default(false),
});

/** Runs the command; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const read = readCommandFlags(args, {
    name: "release",
    options: {
      out: { type: "string" },
      target: { type: "string", multiple: true },
      "allow-missing-binaries": { type: "boolean" },
    },
    schema: FlagsSchema,
    usage: USAGE,
    versionLine: `ferry release ${FERRY_VERSION}`,
  });
  if ("exit" in read) return read.exit;
  const { flags } = read;
  let targets: CompileTarget[];
  try {
    targets = resolveTargets(flags.target);
  } catch (error) {
    console.error(`release: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  try {
    const release = await buildRelease({
      out: flags.out,
      targets,
      allowMissingBinaries: flags["allow-missing-binaries"],
    });
    const without = release.archives.filter((archive) => archive.missing);
    if (without.length > 0) {
      console.error(
        `\nrelease: WITHOUT BINARIES for ${without.map((archive) => archive.target).join(", ")}: ` +
          `no Deno runtime base (set DENORT_BIN, see above); their archives are named *-nobin`,
      );
    }
    if (release.notYet.length > 0) console.error(`release: not built yet: ${release.notYet.join(", ")}`);
    console.log(relative(Deno.cwd(), release.out) || ".");
    return EXIT.OK;
  } catch (error) {
    if (!(error instanceof ReleaseError)) throw error;
    console.error(`release: ${error.message}`);
    return error.exitCode;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
