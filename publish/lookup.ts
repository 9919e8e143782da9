import type { Context, Instance } from "./context.ts";
import { matchFamilies, matchTargets } from "./match.ts";
import type { ResolvedPlugin } from "./plugin.ts";

/**
 * The plugins that handle any of these families (pyblish's `plugins_by_families`): `"*"` in a
 * plugin's families always matches; otherwise its `match` algorithm decides.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { definePlugin, pluginsByFamilies } from "./mod.ts";
 *
 * const plugins = [
 *   definePlugin({ kind: "instance", name: "A", families: ["model"], process() {} }),
 *   definePlugin({ kind: "instance", name: "B", families: ["rig"], process() {} }),
 * ];
 * ok(pluginsByFamilies(plugins, ["model", "cache"]).map((p) => p.name).join() === "A");
 * ```
 */
export function pluginsByFamilies<P extends ResolvedPlugin>(plugins: readonly P[], families: readonly string[]): P[] {
  return plugins.filter((plugin) => matchFamilies(plugin.families, families, plugin.match));
}

/** The plugins that handle one family (pyblish's `plugins_by_family`). */
export function pluginsByFamily<P extends ResolvedPlugin>(plugins: readonly P[], family: string): P[] {
  return pluginsByFamilies(plugins, [family]);
}

/** The plugins that handle an instance's families (pyblish's `plugins_by_instance`). */
export function pluginsByInstance<P extends ResolvedPlugin>(plugins: readonly P[], instance: Instance): P[] {
  return pluginsByFamilies(plugins, instance.families);
}

/** The plugins that load in a host: its name or `"*"` in their `hosts` (pyblish's `plugins_by_host`). */
export function pluginsByHost<P extends ResolvedPlugin>(plugins: readonly P[], host: string): P[] {
  return plugins.filter((plugin) => plugin.hosts.includes(host) || plugin.hosts.includes("*"));
}

/** The plugins a session with these targets runs (no `"*"` for targets; pyblish's `plugins_by_targets`). */
export function pluginsByTargets<P extends ResolvedPlugin>(plugins: readonly P[], targets: readonly string[]): P[] {
  return plugins.filter((plugin) => matchTargets(plugin.targets, targets, plugin.match));
}

/**
 * The instances a plugin processes, in their order (pyblish's `instances_by_plugin`); `publish`
 * is not looked at.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Context, definePlugin, instancesByPlugin } from "./mod.ts";
 *
 * const context = new Context();
 * context.createInstance("a", { family: "model" });
 * context.createInstance("b", { family: "rig", publish: false });
 * const plugin = definePlugin({ kind: "instance", name: "P", families: ["model", "rig"], process() {} });
 * ok(instancesByPlugin(context, plugin).map((i) => i.name).join() === "a,b");
 * ```
 */
export function instancesByPlugin(instances: Iterable<Instance> | Context, plugin: ResolvedPlugin): Instance[] {
  return [...instances].filter((instance) => matchFamilies(plugin.families, instance.families, plugin.match));
}
