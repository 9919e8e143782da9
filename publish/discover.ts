import { readdir, stat } from "node:fs/promises";
import { delimiter, extname, join, normalize, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import { definePlugin, isPluginLike, type PluginSpec, type ResolvedPlugin } from "./plugin.ts";

/** A plugin file that could not be loaded, and why. */
export interface SkippedPlugin {
  path: string;
  reason: string;
}

/** What discovery found. */
export interface Discovery {
  plugins: ResolvedPlugin[];
  skipped: SkippedPlugin[];
}

/** Options of {@linkcode discover}. */
export interface DiscoverOptions {
  /** Folders to search; default: the registered paths, then `FERRY_PLUGIN_PATH` (split on the path delimiter). */
  paths?: readonly string[];
  /** Registered folders, searched before `FERRY_PLUGIN_PATH`. */
  registeredPaths?: readonly string[];
  /** In-memory plugins, added after the files' (a file plugin of the same name wins, as in pyblish). */
  registeredPlugins?: readonly ResolvedPlugin[];
  /** The hosts of this session: plugins load when their `hosts` has `"*"` or one of these. */
  hosts?: readonly string[];
  /** Keep every plugin of a duplicated name instead of the first. @default {FERRY_ALLOW_DUPLICATE_PLUGIN_NAMES is set} */
  allowDuplicateNames?: boolean;
  /** Edit the list after sorting (pyblish's discovery filters). */
  filters?: ReadonlyArray<(plugins: ResolvedPlugin[]) => void>;
  /** @default {process.env} */
  env?: Record<string, string | undefined>;
}

const EXTENSIONS = new Set([".ts", ".js", ".mjs", ".mts"]);

/** Whether a file in a plugin folder is a plugin module: `.ts`/`.js`, not `_private`, not a test. */
export function isPluginFile(name: string): boolean {
  return !name.startsWith("_") && !name.startsWith(".") && EXTENSIONS.has(extname(name)) &&
    !/[._]test\.[mc]?[jt]s$/.test(name);
}

/**
 * Finds publish plugins: every plugin object or plugin class (a subclass of `ContextPlugin` /
 * `InstancePlugin`) exported by the modules of each folder (not
 * recursive; files in name order; exports in name order, a default export first), then the
 * registered in-memory plugins. A module that fails to load is reported in `skipped` and passed
 * over. The first plugin of a name wins; plugins for other hosts are left out; the list is sorted
 * by order (stably, so equal orders keep discovery order), then the filters run.
 */
export async function discover(options: DiscoverOptions = {}): Promise<Discovery> {
  const env = options.env ?? process.env;
  const hosts = options.hosts ?? [];
  const paths = options.paths ?? [
    ...(options.registeredPaths ?? []),
    ...(env.FERRY_PLUGIN_PATH ?? "").split(delimiter).filter(Boolean),
  ];
  const allowDuplicates = options.allowDuplicateNames ?? Boolean(env.FERRY_ALLOW_DUPLICATE_PLUGIN_NAMES);
  const found: ResolvedPlugin[] = [];
  const skipped: SkippedPlugin[] = [];
  const seenFolders = new Set<string>();
  for (const raw of paths) {
    const folder = normalize(resolve(raw));
    if (seenFolders.has(folder)) continue;
    seenFolders.add(folder);
    const info = await stat(folder).catch(() => undefined);
    if (!info?.isDirectory()) continue;
    const names = (await readdir(folder)).filter(isPluginFile).sort();
    for (const name of names) {
      const path = join(folder, name);
      if (!(await stat(path)).isFile()) continue;
      try {
        const module = await import(pathToFileURL(path).href) as Record<string, unknown>;
        const exports = Object.keys(module).sort((
          a,
          b,
        ) => (a === "default" ? -1 : b === "default" ? 1 : a < b ? -1 : 1));
        for (const key of exports) {
          const values = Array.isArray(module[key]) ? module[key] as unknown[] : [module[key]];
          for (const value of values) {
            if (isPluginLike(value)) found.push({ ...definePlugin(value as PluginSpec), source: path });
          }
        }
      } catch (error) {
        skipped.push({ path, reason: (error as Error).message ?? String(error) });
      }
    }
  }
  found.push(...(options.registeredPlugins ?? []));
  const names = new Set<string>();
  let plugins = found.filter((plugin) => {
    if (!allowDuplicates && names.has(plugin.name)) return false;
    names.add(plugin.name);
    return plugin.hosts.includes("*") || plugin.hosts.some((host) => hosts.includes(host));
  });
  plugins = plugins.map((plugin, index) => ({ plugin, index }))
    .sort((a, b) => a.plugin.order - b.plugin.order || a.index - b.index)
    .map(({ plugin }) => plugin);
  for (const filter of options.filters ?? []) filter(plugins);
  return { plugins, skipped };
}
