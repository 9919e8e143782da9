/**
 * Three typical pyblish plugins ported to ferry (publish/testdata/ported/: a collector creating
 * instances with members, a validator with a repair action that logs, an extractor), discovered
 * from their folder and run as pyblish runs them. The expected results follow from pyblish-base
 * 1.8.12: discovery sorts by order; the pre-count (before collection) sees only the collector;
 * a validator failure stops before order 1.5; the repair is a result like any other.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { actionsFor, Context, publish, PublishHost, type Result, runAction } from "../publish/mod.ts";
import { Scene } from "../publish/testdata/ported/_scene.ts";

const PORTED = fileURLToPath(new URL("../publish/testdata/ported/", import.meta.url));

const summary = (results: readonly Result[]) =>
  results.map((r) => [
    r.action ?? r.plugin.name,
    r.instance?.name ?? null,
    r.success,
    r.progress,
    r.records.map((record) => `${record.levelName} ${record.message}`),
  ]);

Deno.test("ported pyblish plugins: collect members, fail validation, repair with the action, then publish", async () => {
  const staging = await mkdtemp(join(tmpdir(), "ferry-ported-"));
  try {
    const scene = new Scene({ propB_SET: ["propB_GEO"], propA_SET: ["propA_GEO", "propA_rig"], cam_CAM: ["cam"] });
    const host = new PublishHost({ env: {} });
    host.registerPluginPath(PORTED);
    const signals: string[] = [];
    host.registerCallback(
      "pluginProcessed",
      ({ result }) => signals.push(`processed ${result.action ?? result.plugin.name}`),
    );
    host.registerCallback("pluginFailed", ({ plugin, instance }) => signals.push(`failed ${plugin.name}/${instance}`));
    host.registerCallback("published", () => signals.push("published"));

    const { plugins } = await host.discover();
    deepStrictEqual(plugins.map((p) => [p.name, p.order, p.families]), [
      ["CollectModels", 0, ["*"]],
      ["ValidateNaming", 1, ["model"]],
      ["ExtractModel", 2, ["model"]],
    ]);

    // First publish: propA has a misnamed node.
    const first = new Context();
    Object.assign(first.data, { scene, stagingDir: staging });
    const { results } = await publish({ host, context: first });
    deepStrictEqual(summary(results), [
      ["CollectModels", null, true, 1, [
        "INFO Collected propA with 2 node(s)",
        "INFO Collected propB with 1 node(s)",
      ]],
      ["ValidateNaming", "propA", false, 2, ["ERROR propA_rig is not named *_GEO"]],
      ["ValidateNaming", "propB", true, 3, []],
    ]);
    deepStrictEqual([...first].map((instance) => [instance.name, [...instance]]), [
      ["propA", ["propA_GEO", "propA_rig"]],
      ["propB", ["propB_GEO"]],
    ]);
    strictEqual(results[1]!.error?.message, "1 node(s) of propA are misnamed");

    // The repair action is offered on failure and runs like pyblish's process(action=…).
    const validate = results[1]!.plugin;
    const offered = actionsFor(validate, results);
    deepStrictEqual(offered.map((a) => [a.name, a.label, a.on, a.icon]), [[
      "RepairNaming",
      "Repair",
      "failed",
      "wrench",
    ]]);
    const repaired = await runAction(validate, offered[0]!, first, { host });
    deepStrictEqual(summary([repaired]), [
      ["RepairNaming", null, true, 0, ["INFO Renamed propA_rig to propA_rig_GEO"]],
    ]);
    deepStrictEqual(first.data.results, [...results, repaired]);

    // Second publish: everything passes and is extracted.
    const second = new Context();
    Object.assign(second.data, { scene, stagingDir: staging });
    const again = await publish({ host, context: second });
    deepStrictEqual(
      summary(again.results).map(([name, instance, success, progress]) => [name, instance, success, progress]),
      [
        ["CollectModels", null, true, 1],
        ["ValidateNaming", "propA", true, 2],
        ["ValidateNaming", "propB", true, 3],
        ["ExtractModel", "propA", true, 4],
        ["ExtractModel", "propB", true, 5],
      ],
    );
    const files = [...second].map((instance) => (instance.data.files as string[])[0]!);
    deepStrictEqual(files, [join(staging, "propA.ma"), join(staging, "propB.ma")]);
    strictEqual(await readFile(files[0]!, "utf8"), "propA_GEO\npropA_rig_GEO");
    ok(again.results[3]!.records[0]!.message.startsWith("Extracted propA to "));

    deepStrictEqual(signals, [
      "processed CollectModels",
      "failed ValidateNaming/propA",
      "processed ValidateNaming",
      "processed ValidateNaming",
      "published",
      "processed RepairNaming",
      "processed CollectModels",
      "processed ValidateNaming",
      "processed ValidateNaming",
      "processed ExtractModel",
      "processed ExtractModel",
      "published",
    ]);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
});
