import { fileURLToPath } from "node:url";
import { relative, sep } from "node:path";

/** What a module graph (`deno info --json`) holds that a compiled binary embeds. */
export interface GraphFiles {
  /** The checkout's own modules, relative to the checkout, `/`-separated, sorted. */
  modules: string[];
  /** The npm packages the graph reaches, as folders relative to the checkout (`node_modules/hono`), sorted. */
  packages: string[];
}

/** The part of `deno info --json` read here. */
export interface DenoInfo {
  modules: Array<{ specifier: string; kind?: string; error?: string }>;
}

/**
 * The local modules and npm package folders of a `deno info --json` graph under `root`. Modules outside the
 * checkout (`node:`, remote) are left out; a module the graph could not load is a `TypeError` naming it.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { graphFiles } from "./module_graph.ts";
 *
 * const files = graphFiles({
 *   modules: [
 *     { specifier: "file:///r/services/a.ts", kind: "esm" },
 *     { specifier: "file:///r/node_modules/@s/p/dist/index.js", kind: "external" },
 *     { specifier: "file:///r/node_modules/a/node_modules/b/x.js", kind: "external" },
 *     { specifier: "node:path", kind: "node" },
 *   ],
 * }, "/r");
 * ok(files.modules.join() === "services/a.ts");
 * ok(files.packages.join() === "node_modules/@s/p,node_modules/a/node_modules/b");
 * ```
 */
export function graphFiles(info: DenoInfo, root: string): GraphFiles {
  const modules = new Set<string>();
  const packages = new Set<string>();
  for (const module of info.modules) {
    if (module.error) throw new TypeError(`Cannot embed '${module.specifier}': ${module.error}`);
    if (!module.specifier.startsWith("file:")) continue;
    const path = relative(root, fileURLToPath(module.specifier)).split(sep).join("/");
    if (path.startsWith("../")) continue;
    const npm = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(path);
    if (npm) packages.add(npm[1]!);
    else modules.add(path);
  }
  return { modules: [...modules].sort(), packages: [...packages].sort() };
}
