import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { defineHandler, type Handler, type HandlerSpec, isHandler } from "./define_handler.ts";

/** A plain object shaped like a handler (modules that cannot import ferry export these). */
function looksLikeSpec(value: unknown): value is HandlerSpec {
  const spec = value as Partial<HandlerSpec> | null;
  return spec !== null && typeof spec === "object" && typeof spec.name === "string" &&
    typeof spec.subscription === "string" && typeof spec.handle === "function";
}

/** A module that could not be loaded, and why. */
export interface HandlerLoadFailure {
  path: string;
  error: string;
}

/** What {@linkcode discoverHandlers} found. */
export interface DiscoveredHandlers {
  handlers: Handler[];
  failures: HandlerLoadFailure[];
}

const MODULE = /\.(ts|js|mjs|mts)$/;

/**
 * Loads the handlers of folders: every `.ts`/`.js` module not starting with `_` (nor in a folder
 * starting with `_`, nor a `_test` file), searched recursively, and every export made by
 * `defineHandler`, or a plain `{ name, subscription, handle }` object (or an array of them). A module that fails to load, or a second handler of a
 * name already taken, is reported in `failures` and skipped; the others still load. A missing
 * folder is a failure too.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { discoverHandlers } from "./discover_handlers.ts";
 *
 * const folder = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${folder}/notes.js`, 'export const notes = { name: "notes", subscription: "topic=ftrack.update", handle() {} };');
 * const { handlers, failures } = await discoverHandlers([folder]);
 * ok(handlers[0]?.name === "notes" && failures.length === 0);
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function discoverHandlers(folders: string[]): Promise<DiscoveredHandlers> {
  const handlers: Handler[] = [];
  const failures: HandlerLoadFailure[] = [];
  const names = new Map<string, string>();
  for (const folder of folders) {
    const root = resolve(folder);
    let files: string[];
    try {
      files = await modulesIn(root);
    } catch (error) {
      failures.push({ path: root, error: `cannot read the handler folder: ${(error as Error).message}` });
      continue;
    }
    for (const path of files) {
      let module: Record<string, unknown>;
      try {
        module = await import(pathToFileURL(path).href);
      } catch (error) {
        failures.push({ path, error: (error as Error).message.split("\n")[0] ?? String(error) });
        continue;
      }
      for (const value of Object.values(module)) {
        for (const item of Array.isArray(value) ? value : [value]) {
          let candidate: Handler;
          if (isHandler(item)) candidate = item;
          else if (looksLikeSpec(item)) {
            try {
              candidate = defineHandler(item);
            } catch (error) {
              failures.push({ path, error: (error as Error).message });
              continue;
            }
          } else continue;
          const taken = names.get(candidate.name);
          if (taken !== undefined) {
            failures.push({ path, error: `handler '${candidate.name}' is already defined in ${taken}` });
            continue;
          }
          names.set(candidate.name, path);
          handlers.push(candidate);
        }
      }
    }
  }
  return { handlers, failures };
}

async function modulesIn(folder: string): Promise<string[]> {
  if (!(await stat(folder)).isDirectory()) throw new Error(`'${folder}' is not a folder`);
  const found: string[] = [];
  const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith("_") || entry.name.startsWith(".")) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) found.push(...await modulesIn(path));
    else if (MODULE.test(entry.name) && !/_test\.[a-z]+$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
      found.push(path);
    }
  }
  return found;
}
