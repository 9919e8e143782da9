import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Context } from "./context.ts";
import { PublishHost } from "./host.ts";
import { definePlugin, InvalidPluginError } from "./plugin.ts";
import { publish } from "./run.ts";

const PLUGIN_MODULE = new URL("./plugin.ts", import.meta.url).href;

Deno.test("PublishHost registers hosts and targets as pyblish does, reading FERRY_HOSTS / FERRY_TARGETS", () => {
  const host = new PublishHost({ env: { FERRY_HOSTS: "shell", FERRY_TARGETS: "farm" }, hosts: ["maya"] });
  strictEqual(host.currentHost(), "maya");
  host.registerHost("shell"); // no duplicates
  deepStrictEqual(host.registeredHosts(), ["shell", "maya"]);
  host.deregisterHost("maya");
  strictEqual(host.currentHost(), "shell");
  throws(() => host.deregisterHost("houdini"), { name: "RangeError", message: /'houdini'/ });
  host.deregisterHost("houdini", { quiet: true });
  host.deregisterAllHosts();
  strictEqual(host.currentHost(), "unknown");

  host.registerTarget("local");
  host.registerTarget("farm"); // moves to the end
  deepStrictEqual(host.registeredTargets(), ["local", "farm"]);
  strictEqual(host.currentTarget(), "farm");
  host.deregisterAllTargets();
  strictEqual(host.currentTarget(), "");
  throws(() => host.registerHost(""), TypeError);
});

Deno.test("PublishHost callbacks: register, deregister, errors, custom signals, failures swallowed", async () => {
  const host = new PublishHost({ env: {} });
  const heard: string[] = [];
  const first = ({ result }: { result: { plugin: { name: string } } }) => heard.push(`1:${result.plugin.name}`);
  const second = () => heard.push("2");
  host.registerCallback("pluginProcessed", first);
  host.registerCallback("pluginProcessed", second);
  host.registerCallback("pluginProcessed", () => {
    throw new Error("a broken callback");
  });
  host.registerCallback("shotChecked", (payload) => heard.push(`shot:${payload.shot}`));
  throws(() => host.registerCallback("x", "nope" as never), { name: "TypeError", message: /'x'.*not a function/ });
  throws(() => host.deregisterCallback("neverRegistered", second), { name: "RangeError", message: /no callbacks/ });
  throws(() => host.deregisterCallback("pluginProcessed", () => {}), { name: "RangeError", message: /not registered/ });
  strictEqual(host.registeredCallbacks().get("pluginProcessed")?.length, 3);

  const errors: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void errors.push(args);
  try {
    await publish({
      host,
      plugins: [
        definePlugin({
          kind: "context",
          name: "P",
          process: (_c, tools) => tools.emit("shotChecked", { shot: "sh010" }),
        }),
      ],
    });
  } finally {
    console.error = original;
  }
  deepStrictEqual(heard, ["shot:sh010", "1:P", "2"]);
  strictEqual(errors.length, 1);
  ok(String(errors[0]![0]).includes("'pluginProcessed' callback failed"));

  host.deregisterCallback("pluginProcessed", first);
  host.deregisterAllCallbacks();
  strictEqual(host.registeredCallbacks().size, 0);
});

Deno.test("PublishHost.toggleInstance() / togglePlugin() switch what runs and emit instanceToggled / pluginToggled", async () => {
  const host = new PublishHost({ env: {} });
  const heard: unknown[] = [];
  host.registerCallback(
    "instanceToggled",
    ({ instance, newValue, oldValue }) => heard.push([instance.name, newValue, oldValue]),
  );
  host.registerCallback(
    "pluginToggled",
    ({ plugin, newValue, oldValue }) => heard.push([plugin.name, newValue, oldValue]),
  );
  const context = new Context();
  const a = context.createInstance("A", { family: "f" });
  context.createInstance("B", { family: "f" });
  const check = definePlugin({ kind: "instance", name: "Check", order: 1, families: ["f"], process() {} });
  const extract = definePlugin({ kind: "context", name: "Extract", order: 2, optional: true, process() {} });
  host.toggleInstance(a, false);
  host.togglePlugin(extract, false);
  const { results } = await publish({ host, context, plugins: [check, extract] });
  deepStrictEqual(results.map((r) => `${r.plugin.name}/${r.instance?.name}`), ["Check/B"]);
  deepStrictEqual(heard, [["A", false, true], ["Extract", false, true]]);
  ok(extract.active, "the shared plugin object is not changed");
  // Another host sharing the plugin is unaffected.
  const other = await publish({ context: new Context(), plugins: [extract], host: new PublishHost({ env: {} }) });
  strictEqual(other.results.length, 1);
  host.togglePlugin(extract, true);
  ok(host.isPluginEnabled(extract));
});

Deno.test("PublishHost.registerPlugin() checks hosts; publish() without plugins discovers through the host", async () => {
  const folder = await mkdtemp(join(tmpdir(), "ferry-host-"));
  try {
    await writeFile(
      join(folder, "plugins.ts"),
      `import { definePlugin, InstancePlugin } from "${PLUGIN_MODULE}";
export const CollectMaya = definePlugin({ kind: "context", name: "CollectMaya", order: 0, hosts: ["maya"],
  process(context) { context.createInstance("fromMaya", { family: "model" }); } });
export const CollectHoudini = definePlugin({ kind: "context", name: "CollectHoudini", order: 0, hosts: ["houdini"],
  process(context) { context.createInstance("fromHoudini", { family: "model" }); } });
export class ValidateModel extends InstancePlugin {
  static order = 1;
  static families = ["model"];
  process(instance) { this.log.info("checked %s", instance.name); }
}
`,
    );
    const host = new PublishHost({ env: {} });
    throws(
      () => host.registerPlugin(definePlugin({ kind: "context", name: "NukeOnly", hosts: ["nuke"], process() {} })),
      (error: unknown) => error instanceof InvalidPluginError && /'NukeOnly'.*\["nuke"\]/.test(error.message),
    );
    host.registerHost("maya");
    host.registerPluginPath(folder);
    strictEqual(host.registerPluginPath(folder), false);
    const extra = host.registerPlugin({ kind: "context", name: "Extra", order: 3, process() {} });
    strictEqual(host.registeredPlugins()[0], extra);
    const { context, results } = await publish({ host });
    deepStrictEqual(results.map((r) => `${r.plugin.name}/${r.instance?.name ?? "-"}`), [
      "CollectMaya/-",
      "ValidateModel/fromMaya",
      "Extra/-",
    ]);
    deepStrictEqual(results[1]!.records.map((r) => r.message), ["checked fromMaya"]);
    strictEqual(context.length, 1);
    host.registerDiscoveryFilter((plugins) => plugins.splice(0, plugins.length - 1));
    deepStrictEqual((await host.discover()).plugins.map((p) => p.name), ["Extra"]);
    host.deregisterPlugin("Extra");
    throws(() => host.deregisterPlugin("Extra"), RangeError);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

Deno.test("PublishHost.registerTest() replaces the stop rule of its publishes; deregisterTest() restores it", async () => {
  const host = new PublishHost({ env: {} });
  const plugins = [
    definePlugin({
      kind: "context",
      name: "V",
      order: 1,
      process: () => {
        throw new Error("bad");
      },
    }),
    definePlugin({ kind: "context", name: "E", order: 2, process() {} }),
  ];
  host.registerTest(() => false);
  deepStrictEqual((await publish({ host, plugins })).results.map((r) => r.plugin.name), ["V", "E"]);
  host.deregisterTest();
  deepStrictEqual((await publish({ host, plugins })).results.map((r) => r.plugin.name), ["V"]);
});

Deno.test("PublishHost discovers from FERRY_PLUGIN_PATH in its env, filtered by FERRY_HOSTS", async () => {
  const folder = await mkdtemp(join(tmpdir(), "ferry-host-env-"));
  try {
    await writeFile(
      join(folder, "collect.ts"),
      `import { definePlugin } from "${PLUGIN_MODULE}";
export const ForShell = definePlugin({ kind: "context", name: "ForShell", order: 0, hosts: ["shell"], process() {} });
export const ForNuke = definePlugin({ kind: "context", name: "ForNuke", order: 0, hosts: ["nuke"], process() {} });
`,
    );
    const host = new PublishHost({ env: { FERRY_PLUGIN_PATH: folder, FERRY_HOSTS: "shell" } });
    const { results } = await publish({ host });
    deepStrictEqual(results.map((r) => r.plugin.name), ["ForShell"]);
    ok(results[0]!.plugin.source?.endsWith("collect.ts"));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
