import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

const PackageJsonSchema = z.object({
  dependencies: z.record(z.string(), z.string()).default({}),
  optionalDependencies: z.record(z.string(), z.string()).default({}),
  peerDependencies: z.record(z.string(), z.string()).default({}),
});

/**
 * Every installed npm package the given ones need at run time: themselves and, recursively, their
 * `dependencies`, `optionalDependencies` and `peerDependencies`, each found as Node finds it (the package's own
 * `node_modules`, then each folder above up to `root`). Dependencies that are not installed (an optional one
 * for another platform, an unmet peer) are left out. Folders are relative to `root`, `/`-separated, sorted.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { npmClosure } from "./npm_closure.ts";
 *
 * const packages = npmClosure(".", ["node_modules/@hono/zod-validator"]);
 * ok(packages.includes("node_modules/@hono/zod-validator"));
 * ok(!packages.includes("node_modules/typescript"));
 * ```
 */
export function npmClosure(root: string, packages: readonly string[]): string[] {
  const found = new Set<string>();
  const pending = [...packages];
  while (pending.length > 0) {
    const folder = pending.pop()!;
    if (found.has(folder)) continue;
    const manifest = join(root, folder, "package.json");
    if (!existsSync(manifest)) throw new TypeError(`Cannot embed npm package '${folder}': '${manifest}' is missing`);
    found.add(folder);
    const json = PackageJsonSchema.parse(JSON.parse(readFileSync(manifest, "utf8")));
    const names = new Set([
      ...Object.keys(json.dependencies),
      ...Object.keys(json.optionalDependencies),
      ...Object.keys(json.peerDependencies),
    ]);
    for (const name of names) {
      const resolved = resolvePackage(root, folder, name);
      if (resolved !== undefined) pending.push(resolved);
    }
  }
  return [...found].sort();
}

/** Where Node finds package `name` from package folder `from`: its own `node_modules`, then each one above. */
function resolvePackage(root: string, from: string, name: string): string | undefined {
  for (let at = from;;) {
    const candidate = `${at}/node_modules/${name}`;
    if (existsSync(join(root, candidate, "package.json"))) return candidate;
    const index = at.lastIndexOf("/node_modules/");
    if (index < 0) break;
    at = at.slice(0, index);
  }
  const top = `node_modules/${name}`;
  return existsSync(join(root, top, "package.json")) ? top : undefined;
}

/**
 * What `deno compile --exclude` leaves out of the top of `node_modules` so that only `keep` (package folders
 * relative to `root`) is embedded: every other package (scoped ones one by one), `.bin` and npm's own files.
 * Relative to `root`, `/`-separated, sorted.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { nodeModulesExcludes } from "./npm_closure.ts";
 *
 * const excludes = nodeModulesExcludes(".", ["node_modules/zod"]);
 * ok(excludes.includes("node_modules/deno") && excludes.includes("node_modules/.bin"));
 * ok(!excludes.includes("node_modules/zod"));
 * ```
 */
export function nodeModulesExcludes(root: string, keep: readonly string[]): string[] {
  const kept = (path: string) => keep.some((folder) => folder === path || folder.startsWith(`${path}/`));
  const excludes: string[] = [];
  const folder = join(root, "node_modules");
  if (!existsSync(folder)) return excludes;
  for (const name of readdirSync(folder)) {
    const path = `node_modules/${name}`;
    if (name.startsWith("@")) {
      if (!kept(path)) excludes.push(path);
      else {for (const inner of readdirSync(join(folder, name))) {
          if (!kept(`${path}/${inner}`)) excludes.push(`${path}/${inner}`);
        }}
    } else if (!kept(path)) excludes.push(path);
  }
  return excludes.sort();
}
