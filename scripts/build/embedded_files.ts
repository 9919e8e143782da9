import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BinarySpec } from "./binaries.ts";
import { graphFiles } from "./module_graph.ts";
import { nodeModulesExcludes, npmClosure } from "./npm_closure.ts";

/** What a compiled binary embeds, as `deno compile` will embed it. All paths relative to the checkout. */
export interface EmbeddedFiles {
  /** The checkout's files: the entry's module graph, the included files and the modules they import. */
  files: string[];
  /** The npm packages embedded (`node_modules/<name>` folders): what the graph reaches and what they need. */
  packages: string[];
  /** What `--exclude` leaves out: the rest of `node_modules`, and tests inside included folders. */
  excludes: string[];
}

const MODULE = /\.(?:[cm]?[jt]sx?|json|wasm)$/;
const TEST = /(?:^|[._/])test\.[cm]?[jt]sx?$|_test\.[cm]?[jt]sx?$/;

/**
 * The files under an include (a file, or a folder walked recursively), and the tests among them (left out:
 * they would pull test helpers into the binary). `/`-separated, relative to `root`, sorted.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { expandInclude } from "./embedded_files.ts";
 *
 * const { files, tests } = expandInclude(".", "publish/");
 * ok(files.includes("publish/discover.ts") && !files.includes("publish/discover_test.ts"));
 * ok(tests.includes("publish/discover_test.ts"));
 * ```
 */
export function expandInclude(root: string, include: string): { files: string[]; tests: string[] } {
  const path = include.replace(/\/+$/, "");
  const full = join(root, path);
  if (!existsSync(full)) throw new TypeError(`Cannot include '${include}': it does not exist in '${root}'`);
  if (!statSync(full).isDirectory()) return { files: [path], tests: [] };
  const files: string[] = [];
  const tests: string[] = [];
  for (const entry of readdirSync(full, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const relative = `${path}/${join(entry.parentPath, entry.name).slice(full.length + 1).replaceAll("\\", "/")}`;
    if (relative.split("/").includes("__pycache__")) continue;
    (TEST.test(entry.name) ? tests : files).push(relative);
  }
  return { files: files.sort(), tests: tests.sort() };
}

/**
 * Works out what `deno compile` embeds for a binary: the module graph of its entry and of every module among
 * its includes (`deno info --json`), the included files, the npm packages reached with their dependencies,
 * `deno.json` and `package.json`; and what `--exclude` must leave out of `node_modules`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { selectBinaries } from "./binaries.ts";
 * import { embeddedFiles } from "./embedded_files.ts";
 *
 * const processor = selectBinaries(["ferry-processor"])[0]!;
 * const embedded = await embeddedFiles(processor, { root: "." });
 * ok(embedded.files.includes("services/processor/handlers/reconcile_on_leecher_start.ts"));
 * ok(embedded.packages.includes("node_modules/postgres") && embedded.excludes.includes("node_modules/typescript"));
 * ```
 */
export async function embeddedFiles(
  binary: BinarySpec,
  options: { root: string; deno?: string },
): Promise<EmbeddedFiles> {
  const { root, deno = Deno.execPath() } = options;
  const included = binary.include.map((include) => expandInclude(root, include));
  const includeFiles = included.flatMap((entry) => entry.files);
  const roots = [binary.entry, ...includeFiles.filter((file) => MODULE.test(file) && !file.endsWith(".json"))];
  const folder = await mkdtemp(join(tmpdir(), "ferry-graph-"));
  try {
    // One graph for every root: a module that imports them all (deno info takes one module).
    const probe = join(folder, "roots.ts");
    await writeFile(
      probe,
      roots.map((file) => `import ${JSON.stringify(pathToFileURL(join(root, file)).href)};`).join("\n"),
    );
    const output = await new Deno.Command(deno, {
      args: ["info", "--json", "--no-lock", "--config", join(root, "deno.json"), probe],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new TypeError(
        `Cannot work out what ${binary.name} embeds: deno info failed: ${new TextDecoder().decode(output.stderr)}`,
      );
    }
    const graph = graphFiles(JSON.parse(new TextDecoder().decode(output.stdout)), root);
    const packages = npmClosure(root, graph.packages);
    const files = [...new Set([...graph.modules, ...includeFiles, "deno.json", "package.json"])]
      .filter((file) => existsSync(join(root, file))).sort();
    const excludes = [...nodeModulesExcludes(root, packages), ...included.flatMap((entry) => entry.tests)].sort();
    return { files, packages, excludes };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
