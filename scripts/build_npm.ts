/**
 * `deno task build:npm`: builds the npm package of the common module (`mod.ts`) into `dist/npm/`, the shape dnt
 * emits, with esbuild and TypeScript (dnt itself is only on JSR):
 *
 * - `esm/` (ES modules) and `script/` (CommonJS): `mod.js` bundles the module, `_hash_worker.js` beside it is the
 *   fingerprint worker that `HashPool` starts from its own folder; npm packages stay imports (`dependencies`).
 * - `mod.d.ts` and the `src/**.d.ts` tree in both folders, with the JSDoc, type-checked against Node 20.
 * - `package.json` (version from `deno.json`), `README.md` (from the module's JSDoc) and `LICENSE`.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { z } from "zod";
import { parseFlags, UsageError } from "../src/cli/args.ts";
import { apiSymbols } from "./build/api_symbols.ts";
import { bundleOptions } from "./build/bundle_options.ts";
import { declarationProgram, emitDeclarations } from "./build/declarations.ts";
import { parseDenoConfig } from "./build/deno_config.ts";
import { moduleDoc } from "./build/module_doc.ts";
import { NPM_LAYOUT } from "./build/npm_layout.ts";
import { npmDependencies } from "./build/npm_dependencies.ts";
import { CJS_SCOPE_PACKAGE_JSON, COMMON_PACKAGE, npmPackageJson } from "./build/npm_package_json.ts";
import { packageReadme, type ReadmeSection } from "./build/package_readme.ts";

/** The npm name of the common module. */
export const NPM_PACKAGE_NAME = COMMON_PACKAGE.name;
/** The licence of the package: the repository's `LICENSE` must be this one. */
export const NPM_LICENSE = COMMON_PACKAGE.license;
/** The entry, relative to the repository root. */
export const NPM_ENTRY = "mod.ts";
/** The hash worker's source, emitted as its own file beside each format's `mod.js`. */
export const HASH_WORKER_SOURCE = "src/fingerprint/_hash_worker.ts";
const NODE_RANGE = COMMON_PACKAGE.node;

/** Options of {@linkcode buildNpmPackage}. */
export interface BuildNpmOptions {
  /** The repository root. @default {the folder above scripts/} */
  root?: string;
  /** Where the package goes; emptied first. @default {"<root>/dist/npm"} */
  outDir?: string;
}

/** What {@linkcode buildNpmPackage} made. */
export interface NpmBuild {
  /** The package folder. */
  outDir: string;
  /** The `package.json` written. */
  packageJson: ReturnType<typeof npmPackageJson>;
  /** Every file of the package, relative to `outDir`, `/`-separated, sorted. */
  files: string[];
}

/** Builds the package; throws naming the problem (type errors, an unmapped import, a missing LICENSE). */
export async function buildNpmPackage(options: BuildNpmOptions = {}): Promise<NpmBuild> {
  const root = resolve(options.root ?? fileURLToPath(new URL("..", import.meta.url)));
  const outDir = resolve(options.outDir ?? join(root, "dist", "npm"));
  const configPath = join(root, "deno.json");
  const config = parseDenoConfig(readFileSync(configPath, "utf8"), configPath);
  const license = readLicense(root);
  rmSync(outDir, { recursive: true, force: true });

  const { esmDir, cjsDir, entry, worker } = NPM_LAYOUT;
  const entryPoints = { [entry]: NPM_ENTRY, [worker]: HASH_WORKER_SOURCE };
  const bundles = Promise.all((["esm", "cjs"] as const).map((format) =>
    esbuild.build(
      bundleOptions({ root, entryPoints, outdir: join(outDir, format === "esm" ? esmDir : cjsDir), format }),
    )
  ));
  bundles.catch(() => undefined); // awaited below, after the declaration pass
  let symbols;
  try {
    const program = declarationProgram(root, NPM_ENTRY);
    emitDeclarations(program, [join(outDir, esmDir), join(outDir, cjsDir)]);
    symbols = apiSymbols(program, root, NPM_ENTRY);
  } catch (error) {
    await Promise.allSettled([bundles]); // nothing writes into outDir after this returns
    throw error;
  }
  const results = await bundles;
  const warnings = results.flatMap((result) => result.warnings);
  if (warnings.length > 0) {
    const where = (w: esbuild.Message) => (w.location ? `${w.location.file}:${w.location.line}: ` : "");
    throw new TypeError(
      `Cannot build the npm package: esbuild warns\n${warnings.map((w) => `${where(w)}${w.text}`).join("\n")}`,
    );
  }

  const imported = results.flatMap((result) =>
    Object.values(result.metafile!.outputs).flatMap((output) =>
      output.imports.filter((item) => item.external).map((item) => item.path)
    )
  );
  const doc = moduleDoc(readFileSync(join(root, NPM_ENTRY), "utf8"));
  const packageJson = npmPackageJson({
    name: NPM_PACKAGE_NAME,
    version: config.version,
    description: doc.split("\n")[0]!,
    license: NPM_LICENSE,
    dependencies: npmDependencies(imported, config.imports),
    keywords: COMMON_PACKAGE.keywords,
    node: NODE_RANGE,
  });
  const sections = new Map<string, ReadmeSection>();
  for (const { source, ...symbol } of symbols) {
    const folder = dirname(source);
    let section = sections.get(folder);
    if (section === undefined) {
      const modPath = join(root, folder, "mod.ts");
      const title = basename(folder).replace(/^./, (first) => first.toUpperCase()).replaceAll("_", " ");
      section = { title, doc: existsSync(modPath) ? moduleDoc(readFileSync(modPath, "utf8")) : "", symbols: [] };
      sections.set(folder, section);
    }
    section.symbols.push(symbol);
  }
  const entrySource = readFileSync(join(root, NPM_ENTRY), "utf8");
  const position = (folder: string) => entrySource.indexOf(`./${folder}/`) >>> 0; // not found: last
  const readme = packageReadme({
    name: NPM_PACKAGE_NAME,
    version: config.version,
    doc,
    node: NODE_RANGE,
    license: NPM_LICENSE,
    sections: [...sections.entries()].sort(([a], [b]) => position(a) - position(b)).map(([, section]) => section),
  });
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  writeFileSync(join(outDir, "package.json"), json(packageJson));
  writeFileSync(join(outDir, cjsDir, "package.json"), json(CJS_SCOPE_PACKAGE_JSON));
  writeFileSync(join(outDir, "README.md"), readme);
  writeFileSync(join(outDir, "LICENSE"), license);
  return { outDir, packageJson, files: listFiles(outDir) };
}

function readLicense(root: string): string {
  const path = join(root, "LICENSE");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new TypeError(`Cannot build the npm package: '${path}' cannot be read`, { cause: error });
  }
  if (!text.startsWith(`${NPM_LICENSE} License`)) {
    throw new TypeError(
      `Cannot build the npm package: '${path}' is not the ${NPM_LICENSE} License the package declares`,
    );
  }
  return text;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((path) => statSync(join(dir, path)).isFile())
    .map((path) => path.replaceAll("\\", "/"))
    .sort();
}

export const USAGE = `Usage: deno task build:npm [--out <folder>]

Builds the npm package ${NPM_PACKAGE_NAME} of the common module (mod.ts) for Node ${NODE_RANGE}:
ES modules (esm/) and CommonJS (script/) with the hash worker beside each, .d.ts declarations
with the JSDoc, package.json (version from deno.json), README.md and LICENSE. Then, for example:
  cd dist/npm && npm pack

Options:
  --out <folder>   where the package goes, emptied first (default dist/npm)
  -h, --help       show this help

Exit codes: 0 built, 1 the build failed (type errors, an import deno.json does not map), 2 usage error.`;

const FlagsSchema = z.object({ out: z.string().min(1).optional(), help: z.boolean().default(false) });

/** Runs the command; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let flags: z.infer<typeof FlagsSchema>;
  try {
    const parsed = parseFlags(args, { out: { type: "string" }, help: { type: "boolean", short: "h" } }, FlagsSchema);
    if (parsed.positionals.length > 0) throw new UsageError(`Unexpected argument '${parsed.positionals[0]}'`);
    flags = parsed.flags;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`build:npm: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const started = performance.now();
  try {
    const build = await buildNpmPackage({ outDir: flags.out });
    const bytes = build.files.reduce((sum, file) => sum + statSync(join(build.outDir, file)).size, 0);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const where = relative(Deno.cwd(), build.outDir) || ".";
    const { name, version, dependencies } = build.packageJson;
    console.log(
      `Built ${name}@${version} in ${where}: ${build.files.length} files, ${(bytes / 1024).toFixed(0)} KiB, ` +
        `dependencies: ${
          Object.entries(dependencies).map(([n, v]) => `${n}@${v}`).join(", ") || "none"
        } (${seconds} s)`,
    );
    return 0;
  } catch (error) {
    console.error(`build:npm: ${(error as Error).message}`);
    return 1;
  } finally {
    await esbuild.stop();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
