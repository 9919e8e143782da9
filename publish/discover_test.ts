import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { discover, isPluginFile } from "./discover.ts";
import { definePlugin } from "./plugin.ts";

const PLUGIN_MODULE = new URL("./plugin.ts", import.meta.url).href;

function pluginSource(name: string, order: number, extra = ""): string {
  return `import { definePlugin } from "${PLUGIN_MODULE}";
export const ${name} = definePlugin({ kind: "context", name: "${name}", order: ${order}, ${extra} process() {} });\n`;
}

Deno.test("isPluginFile() takes .ts/.js modules and skips private, hidden and test files", () => {
  deepStrictEqual(
    [
      "collect.ts",
      "validate.js",
      "x.mjs",
      "_private.ts",
      ".hidden.ts",
      "collect_test.ts",
      "a.test.ts",
      "readme.md",
      "x.PY",
    ].filter(isPluginFile),
    ["collect.ts", "validate.js", "x.mjs"],
  );
});

Deno.test("discover() loads plugin folders in order, reports broken files, keeps the first of a name", async () => {
  const first = await mkdtemp(join(tmpdir(), "ferry-plugins-a-"));
  const second = await mkdtemp(join(tmpdir(), "ferry-plugins-b-"));
  try {
    await writeFile(join(first, "b_validate.ts"), pluginSource("ValidateB", 1));
    await writeFile(
      join(first, "a_collect.ts"),
      pluginSource("CollectA", 0) + pluginSource("Integrate", 3).replace(/^import.*\n/, ""),
    );
    await writeFile(join(first, "_helper.ts"), pluginSource("Hidden", 0));
    await writeFile(join(first, "c_test.ts"), pluginSource("TestOnly", 0));
    await writeFile(join(first, "broken.ts"), "throw new Error('cannot load this plugin');\n");
    await writeFile(join(first, "maya_only.ts"), pluginSource("MayaOnly", 1, 'hosts: ["maya"],'));
    await writeFile(
      join(second, "dupe.ts"),
      pluginSource("ValidateB", 1.5) + pluginSource("Extract", 2).replace(/^import.*\n/, ""),
    );
    const registered = definePlugin({ kind: "context", name: "CollectA", order: 0, process() {} });
    const extra = definePlugin({ kind: "context", name: "Registered", order: 0.5, process() {} });
    const { plugins, skipped } = await discover({
      paths: [first, second, join(first, "missing-folder")],
      registeredPlugins: [registered, extra],
      hosts: ["shell"],
    });
    deepStrictEqual(plugins.map((plugin) => plugin.name), [
      "CollectA",
      "Registered",
      "ValidateB",
      "Extract",
      "Integrate",
    ]);
    strictEqual(
      plugins[0]!.source,
      join(first, "a_collect.ts"),
      "a file plugin beats a registered one of the same name",
    );
    strictEqual(plugins.find((plugin) => plugin.name === "ValidateB")!.order, 1, "the first folder wins");
    strictEqual(skipped.length, 1);
    strictEqual(skipped[0]!.path, join(first, "broken.ts"));
    ok(/cannot load this plugin/.test(skipped[0]!.reason));
    const maya = await discover({ paths: [first], hosts: ["maya"] });
    ok(maya.plugins.some((plugin) => plugin.name === "MayaOnly"));
    const all = await discover({ paths: [first, second], allowDuplicateNames: true });
    strictEqual(all.plugins.filter((plugin) => plugin.name === "ValidateB").length, 2);
    const filtered = await discover({ paths: [first], filters: [(list) => list.splice(0, 1)] });
    strictEqual(filtered.plugins[0]!.name, "ValidateB");
  } finally {
    await rm(first, { recursive: true, force: true });
    await rm(second, { recursive: true, force: true });
  }
});

Deno.test("discover() reads FERRY_PLUGIN_PATH after the registered paths", async () => {
  const registered = await mkdtemp(join(tmpdir(), "ferry-plugins-r-"));
  const fromEnv = await mkdtemp(join(tmpdir(), "ferry-plugins-e-"));
  try {
    await writeFile(join(registered, "one.ts"), pluginSource("Same", 1));
    await writeFile(
      join(fromEnv, "two.ts"),
      pluginSource("Same", 2) + pluginSource("FromEnv", 2).replace(/^import.*\n/, ""),
    );
    const { plugins } = await discover({
      registeredPaths: [registered],
      env: { FERRY_PLUGIN_PATH: [fromEnv, "/nope"].join(delimiter) },
    });
    deepStrictEqual(plugins.map((plugin) => [plugin.name, plugin.order]), [["Same", 1], ["FromEnv", 2]]);
  } finally {
    await rm(registered, { recursive: true, force: true });
    await rm(fromEnv, { recursive: true, force: true });
  }
});
