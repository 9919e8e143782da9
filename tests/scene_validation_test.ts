/**
 * ferry's scene validators on the embedded tracker: a shot with fps 24 and range 1001–1100 (set
 * through @ftrack/api) against scene facts that match and that differ in each field; settings
 * rules (camera, colour space, file name, saved scene); the repairs handed back as data.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { repairsFor } from "../plugins/_repair.ts";
import type { Result } from "../publish/run.ts";
import { toJobResult } from "../services/bridge/job_runner.ts";
import { JobResultSchema } from "../services/bridge/schemas.ts";
import { bridgeFixture } from "./_bridge.ts";
import { publishFixture, publishWith } from "./_publish.ts";

const SHOT = {
  fps: 24,
  frameStart: 1001,
  frameEnd: 1100,
  handleStart: 8,
  handleEnd: 8,
  resolutionWidth: 2048,
  resolutionHeight: 858,
  pixelAspect: 1,
};
const MATCHING = { ...SHOT };

/** Sets custom attributes of an entity through the official client. */
async function setAttributes(session: Session, entityId: string, values: Record<string, unknown>) {
  const [row] = (await session.query(`select custom_attributes from TypedContext where id is "${entityId}"`))
    .data as Array<{ custom_attributes: Array<{ key: string; configuration_id: string }> }>;
  for (const [key, value] of Object.entries(values)) {
    const configuration = row!.custom_attributes.find((item) => item.key === key);
    ok(configuration, `no custom attribute '${key}'`);
    await session.update("ContextCustomAttributeValue", [configuration.configuration_id, entityId], { value });
  }
}

async function fixture() {
  const made = await publishFixture();
  await setAttributes(made.session, made.made.shot.id, SHOT);
  const file = join(made.folder.path, "layout.blend");
  await writeFile(file, "scene");
  /** A dry-run publish of one workfile instance with these facts on the context (and the instance). */
  const publish = (
    scene: Record<string, unknown> | undefined,
    options: { instanceScene?: Record<string, unknown>; settings?: unknown } = {},
  ) =>
    publishWith(made.session, {
      host: "blender",
      context: { path: "demo/sq010/sh010", task: "lighting", ...(scene ? { scene } : {}) },
      instances: [{ family: "workfile", name: "layout", files: [file], scene: options.instanceScene }],
    }, { dryRun: true, settings: options.settings });
  return Object.assign(made, { publish });
}

const of = (results: Result[], plugin: string) => {
  const result = results.find((item) => item.plugin.name === plugin);
  ok(result, `${plugin} did not run: ${results.map((item) => item.plugin.name).join(", ")}`);
  return result;
};

const SCENE_PLUGINS = [
  "ValidateSceneFrameRange",
  "ValidateSceneFps",
  "ValidateSceneResolution",
  "ValidateSceneCamera",
  "ValidateSceneColorSpace",
  "ValidateSceneFileName",
  "ValidateSceneSaved",
];

Deno.test("ValidateScene*: facts that match the shot pass, and the shot's attributes are collected", async () => {
  await using made = await fixture();
  const { results, report } = await made.publish(MATCHING);
  ok(report.ok, JSON.stringify(report.results.filter((result) => !result.success)));
  for (const name of ["ValidateSceneFrameRange", "ValidateSceneFps", "ValidateSceneResolution"]) {
    const result = of(results, name);
    ok(result.success && result.records.length === 0, `${name}: ${JSON.stringify(result.records)}`);
  }
  match(of(results, "CollectSceneFacts").records[0]!.message, /^shot 'sh010': fps 24, frameStart 1001, frameEnd 1100/);
});

Deno.test("ValidateScene*: each differing fact fails its validator naming the expected and found values", async (t) => {
  await using made = await fixture();
  const cases: Array<[string, number, string, string]> = [
    ["frameStart", 1, "ValidateSceneFrameRange", "frame start is 1, expected 1001 (shot 'sh010')"],
    ["frameEnd", 1096, "ValidateSceneFrameRange", "frame end is 1096, expected 1100 (shot 'sh010')"],
    ["handleStart", 0, "ValidateSceneFrameRange", "handle start is 0, expected 8 (shot 'sh010')"],
    ["handleEnd", 10, "ValidateSceneFrameRange", "handle end is 10, expected 8 (shot 'sh010')"],
    ["fps", 25, "ValidateSceneFps", "frame rate (fps) is 25, expected 24 (shot 'sh010')"],
    ["resolutionWidth", 1920, "ValidateSceneResolution", "resolution width is 1920, expected 2048 (shot 'sh010')"],
    ["resolutionHeight", 1080, "ValidateSceneResolution", "resolution height is 1080, expected 858 (shot 'sh010')"],
    ["pixelAspect", 2, "ValidateSceneResolution", "pixel aspect is 2, expected 1 (shot 'sh010')"],
  ];
  for (const [key, value, plugin, message] of cases) {
    await t.step(`${key} ${value}`, async () => {
      const { results, report } = await made.publish({ ...MATCHING, [key]: value });
      ok(!report.ok);
      const failed = results.filter((result) => !result.success);
      deepStrictEqual(failed.map((result) => result.plugin.name), [plugin]);
      strictEqual(failed[0]!.error!.message, `Cannot publish 'layout' from this scene: ${message}`);
      const [repair] = repairsFor(failed[0]!);
      deepStrictEqual(repair?.set, { [key]: SHOT[key as keyof typeof SHOT] });
      // The bridge shows the result with its repairs, valid by the bridge's schema.
      const shown = JobResultSchema.parse(toJobResult(failed[0]!));
      deepStrictEqual(shown.repairs, [{ ...repair, action: "Repair" }]);
    });
  }
  await t.step("frame range and fps at once: one message per field, one repair setting all", async () => {
    const { results } = await made.publish({ ...MATCHING, frameStart: 1, frameEnd: 48, fps: 30 });
    const range = of(results, "ValidateSceneFrameRange");
    strictEqual(
      range.error!.message,
      "Cannot publish 'layout' from this scene: frame start is 1, expected 1001 (shot 'sh010'); frame end is 48, expected 1100 (shot 'sh010')",
    );
    deepStrictEqual(repairsFor(range), [{
      action: "Repair",
      label: "Set the shot's frame range",
      set: { frameStart: 1001, frameEnd: 1100 },
    }]);
    deepStrictEqual(repairsFor(of(results, "ValidateSceneFps"))[0]!.set, { fps: 24 });
    // Nothing was extracted or integrated after the failed validation.
    ok(results.every((result) => result.plugin.order < 1.5));
  });
  await t.step("23.976 against 24 fails; within settings.scene.fpsTolerance it passes", async () => {
    ok(!of((await made.publish({ fps: 23.976 })).results, "ValidateSceneFps").success);
    const loose = await made.publish({ fps: 23.976 }, { settings: { scene: { fpsTolerance: 0.05 } } });
    ok(of(loose.results, "ValidateSceneFps").success);
  });
});

Deno.test("ValidateScene*: a check without its fact is skipped, not failed, and says why", async () => {
  await using made = await fixture();
  const none = await made.publish(undefined);
  ok(none.report.ok);
  for (const name of SCENE_PLUGINS) ok(of(none.results, name).success, name);
  ok(!("trackerAttributes" in none.context.data), "no tracker query without facts");
  const partial = await made.publish({ fps: 24 });
  ok(partial.report.ok);
  deepStrictEqual(of(partial.results, "ValidateSceneFrameRange").records.map((record) => record.message), [
    "skipped: the host sent no frameStart, frameEnd, handleStart, handleEnd",
  ]);
  strictEqual(of(partial.results, "ValidateSceneFps").records.length, 0);
  strictEqual(
    of(partial.results, "ValidateSceneCamera").records[0]!.message,
    "skipped: settings scene.allowedCameras is empty",
  );
});

Deno.test("ValidateScene*: an instance's facts override the context's; hierarchical attributes come from parents", async () => {
  await using made = await fixture();
  const { results } = await made.publish({ ...MATCHING, fps: 30 }, { instanceScene: { fps: 24 } });
  ok(of(results, "ValidateSceneFps").success);
  // An fps set on the sequence only reaches a shot without its own: the shot's 24 wins; on a new shot the 25 shows.
  await setAttributes(made.session, made.made.sequence.id, { fps: 25 });
  ok(of((await made.publish({ fps: 24 })).results, "ValidateSceneFps").success);
  const shot = (await made.session.create("Shot", { name: "sh020", parent_id: made.made.sequence.id })).data;
  await made.session.create("Task", { name: "lighting", parent_id: shot.id });
  const other = await publishWith(made.session, {
    context: { path: "demo/sq010/sh020", task: "lighting", scene: { fps: 24 } },
    instances: [{ family: "workfile", name: "layout", files: [join(made.folder.path, "layout.blend")] }],
  }, { dryRun: true });
  strictEqual(
    of(other.results, "ValidateSceneFps").error?.message,
    "Cannot publish 'layout' from this scene: frame rate (fps) is 24, expected 25 (shot 'sh020')",
  );
});

Deno.test("ValidateScene*: settings rules for the camera, colour space, file name and unsaved changes", async (t) => {
  await using made = await fixture();
  const settings = {
    scene: {
      allowedCameras: ["^shotCam$", "^CAM_"],
      colorSpace: { viewTransform: "Filmic", display: "sRGB" },
      fileNamePattern: "^{context}_{task}_v\\d{3}\\.blend$",
      requireSaved: true,
    },
  };
  await t.step("facts that follow the settings pass", async () => {
    const { report } = await made.publish({
      camera: "CAM_main",
      colorManagement: { viewTransform: "Filmic", display: "sRGB", workingSpace: "Linear" },
      filePath: "/shows/demo/sh010_lighting_v003.blend",
      unsavedChanges: false,
    }, { settings });
    ok(report.ok, JSON.stringify(report.results.filter((result) => !result.success)));
  });
  await t.step("facts that do not fail, each naming the rule and the value", async () => {
    const { results } = await made.publish({
      camera: "Camera",
      colorManagement: { viewTransform: "Standard", display: "sRGB" },
      filePath: "/tmp/untitled.blend",
      unsavedChanges: true,
    }, { settings });
    strictEqual(
      of(results, "ValidateSceneCamera").error?.message,
      "Cannot publish 'layout' from this scene: the camera is 'Camera', expected 'one matching /^shotCam$/ or /^CAM_/' (settings scene.allowedCameras)",
    );
    deepStrictEqual(repairsFor(of(results, "ValidateSceneCamera")), []);
    strictEqual(
      of(results, "ValidateSceneColorSpace").error?.message,
      "Cannot publish 'layout' from this scene: view transform is 'Standard', expected 'Filmic' (settings scene.colorSpace.viewTransform)",
    );
    deepStrictEqual(repairsFor(of(results, "ValidateSceneColorSpace"))[0]!.set, {
      "colorManagement.viewTransform": "Filmic",
    });
    match(
      of(results, "ValidateSceneFileName").error!.message,
      /the scene file name is 'untitled\.blend', expected 'a name matching \/\^sh010_lighting_v\\d\{3\}\\\.blend\$\/'/,
    );
    strictEqual(
      of(results, "ValidateSceneSaved").error?.message,
      "Cannot publish 'layout' from this scene: the scene's unsaved changes is 'some', expected 'none' (settings scene.requireSaved)",
    );
    deepStrictEqual(repairsFor(of(results, "ValidateSceneSaved")), [{
      action: "Repair",
      label: "Save the scene",
      save: true,
    }]);
  });
  await t.step("no camera at all fails when cameras are required", async () => {
    const { results } = await made.publish({ camera: null }, { settings });
    match(of(results, "ValidateSceneCamera").error!.message, /the camera is none, expected/);
  });
});

Deno.test("PublishRequestSchema: scene facts are checked, naming the field and the value", async () => {
  await using made = await fixture();
  const refused = async (scene: Record<string, unknown>) => {
    try {
      await made.publish(scene);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error(`facts ${JSON.stringify(scene)} were accepted`);
  };
  const message = await refused({ fps: -1, resolutionWidth: 1.5, camera: 3 });
  match(message, /'context\.scene\.fps': .* \(got -1\)/);
  match(message, /'context\.scene\.resolutionWidth': .* \(got 1\.5\)/);
  match(message, /'context\.scene\.camera': .* \(got 3\)/);
  match(
    await refused({ frameStart: 1100, frameEnd: 1001 }),
    /'context\.scene\.frameEnd': frameStart must not be after frameEnd \(got 1001\)/,
  );
});

Deno.test({
  name: "GET /openapi.json documents the scene facts of requests and the repairs of results",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await bridgeFixture({ shot: false });
    const doc = await (await fixture.request("/openapi.json")).json();
    const schemas = doc.components.schemas;
    deepStrictEqual(Object.keys(schemas.Repair.properties).sort(), ["action", "label", "save", "set"]);
    const result = schemas.Result.properties.repairs;
    strictEqual(result.items.$ref, "#/components/schemas/Repair");
    const text = JSON.stringify(schemas.PublishRequest);
    for (
      const fact of ["frameStart", "handleStart", "fps", "pixelAspect", "colorManagement", "unsavedChanges", "dcc"]
    ) {
      ok(text.includes(`"${fact}"`), `the request schema lacks ${fact}`);
    }
    // The scene validators are listed for hosts, with a Repair action where they can propose changes.
    const { plugins } = await (await fixture.request("/v1/plugins?host=blender")).json();
    const repairable = plugins.filter((plugin: { actions: Array<{ name: string }> }) =>
      plugin.actions.some((action) => action.name === "Repair")
    ).map((plugin: { name: string }) => plugin.name).sort();
    deepStrictEqual(repairable, [
      "ValidateSceneColorSpace",
      "ValidateSceneFps",
      "ValidateSceneFrameRange",
      "ValidateSceneResolution",
      "ValidateSceneSaved",
    ]);
    const camera = plugins.find((plugin: { name: string }) => plugin.name === "ValidateSceneCamera");
    deepStrictEqual(camera?.actions, []);
  },
});
