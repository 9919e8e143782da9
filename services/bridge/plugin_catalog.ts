import { fileURLToPath } from "node:url";
import { discover, type Discovery } from "../../publish/discover.ts";

/** ferry's own publish plugins. */
export const BUILT_IN_PLUGINS = fileURLToPath(new URL("../../plugins/", import.meta.url));

/** Options of {@linkcode pluginCatalog}. */
export interface PluginCatalogOptions {
  /** More plugin folders (`--plugins`), searched after ferry's own and before `FERRY_PLUGIN_PATH`. */
  paths?: readonly string[];
  /** @default {process.env} */
  env?: Record<string, string | undefined>;
}

/**
 * The plugins a host's publishes run: ferry's own, the `--plugins` folders and
 * `FERRY_PLUGIN_PATH`, filtered by each plugin's `hosts` (pyblish's rule: `"*"` or the host's
 * name). Discovered once per host and kept.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { pluginCatalog } from "./plugin_catalog.ts";
 *
 * const pluginsFor = pluginCatalog({ env: {} });
 * const { plugins } = await pluginsFor("blender");
 * ok(plugins.some((plugin) => plugin.name === "IntegrateVersion"));
 * ```
 */
export function pluginCatalog(options: PluginCatalogOptions = {}): (host: string) => Promise<Discovery> {
  const found = new Map<string, Promise<Discovery>>();
  return (host) => {
    let discovery = found.get(host);
    if (!discovery) {
      discovery = discover({
        registeredPaths: [BUILT_IN_PLUGINS, ...(options.paths ?? [])],
        hosts: [host],
        env: options.env,
      });
      found.set(host, discovery);
      discovery.catch(() => found.delete(host));
    }
    return discovery;
  };
}
