import { isBuiltin } from "node:module";

/**
 * The `dependencies` of the npm package: every package the built code imports (esbuild leaves them external),
 * with the version `deno.json`'s import map pins, as a caret range so that a consumer's own copy of the same
 * major version is shared. Node built-ins are not dependencies. A package missing from the import map, or mapped
 * to something other than `npm:`, is an error naming it: the npm package could not install it.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { npmDependencies } from "./npm_dependencies.ts";
 *
 * const dependencies = npmDependencies(["node:os", "zod"], { zod: "npm:zod@4.6.7" });
 * ok(JSON.stringify(dependencies) === `{"zod":"^4.6.7"}`);
 * ```
 */
export function npmDependencies(
  imported: Iterable<string>,
  importMap: Readonly<Record<string, string>>,
): Record<string, string> {
  const dependencies: Record<string, string> = {};
  for (const specifier of imported) {
    if (isBuiltin(specifier)) continue;
    const name = packageName(specifier);
    const target = importMap[name] ?? importMap[`${name}/`];
    if (target === undefined) {
      throw new TypeError(
        `Cannot build the npm package: the common module imports '${specifier}', which deno.json's imports do not map`,
      );
    }
    const match = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)@([^/]+)\/?$/.exec(target);
    if (match === null || match[1] !== name) {
      throw new TypeError(
        `Cannot build the npm package: '${name}' maps to '${target}' in deno.json, not to an npm package of that name`,
      );
    }
    const version = match[2]!;
    dependencies[name] = /^\d+\.\d+\.\d+$/.test(version) ? `^${version}` : version;
  }
  return Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)));
}

/** `zod/mini` → `zod`, `@scope/pkg/sub` → `@scope/pkg`. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}
