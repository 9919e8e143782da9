import { deepStrictEqual } from "node:assert/strict";
import { Context } from "./context.ts";
import {
  instancesByPlugin,
  pluginsByFamilies,
  pluginsByFamily,
  pluginsByHost,
  pluginsByInstance,
  pluginsByTargets,
} from "./lookup.ts";
import { definePlugin, type PluginSpec } from "./plugin.ts";

const plugin = (name: string, extra: Partial<PluginSpec>) =>
  definePlugin({ kind: "instance", name, process() {}, ...extra } as PluginSpec);

Deno.test("pluginsByFamily() / pluginsByFamilies() / pluginsByInstance() follow each plugin's match", () => {
  const plugins = [
    plugin("Any", { families: ["*"] }),
    plugin("Model", { families: ["model"] }),
    plugin("ModelRig", { families: ["model", "rig"], match: "subset" }),
    plugin("Exact", { families: ["model", "cache"], match: "exact" }),
    plugin("None", { families: [] }),
  ];
  const names = (list: { name: string }[]) => list.map((p) => p.name);
  deepStrictEqual(names(pluginsByFamily(plugins, "model")), ["Any", "Model"]);
  deepStrictEqual(names(pluginsByFamilies(plugins, ["model", "rig"])), ["Any", "Model", "ModelRig"]);
  const instance = new Context().createInstance("A", { family: "model", families: ["cache"] });
  deepStrictEqual(names(pluginsByInstance(plugins, instance)), ["Any", "Model", "Exact"]);
});

Deno.test("pluginsByHost() keeps '*' and the host; pluginsByTargets() has no wildcard", () => {
  const plugins = [
    plugin("All", {}),
    plugin("Maya", { hosts: ["maya"] }),
    plugin("Nuke", { hosts: ["nuke"], targets: ["farm"] }),
    plugin("Star", { targets: ["*"] }),
  ];
  deepStrictEqual(pluginsByHost(plugins, "maya").map((p) => p.name), ["All", "Maya", "Star"]);
  deepStrictEqual(pluginsByTargets(plugins, ["default"]).map((p) => p.name), ["All", "Maya"]);
  deepStrictEqual(pluginsByTargets(plugins, ["farm"]).map((p) => p.name), ["Nuke"]);
});

Deno.test("instancesByPlugin() keeps context order and ignores publish", () => {
  const context = new Context();
  context.createInstance("a", { family: "rig" });
  context.createInstance("b", { family: "model", publish: false });
  context.createInstance("c", { family: "x", families: ["model"] });
  deepStrictEqual(instancesByPlugin(context, plugin("M", { families: ["model"] })).map((i) => i.name), ["b", "c"]);
  deepStrictEqual(instancesByPlugin(context.instances, plugin("S", { families: ["*"] })).map((i) => i.name), [
    "a",
    "b",
    "c",
  ]);
});
