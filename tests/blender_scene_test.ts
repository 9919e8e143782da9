/**
 * Scene validation with REAL headless Blender (`blender -b --factory-startup`): a scene whose frame range and fps
 * differ from the shot's (fps 24, frames 1001–1100, set through @ftrack/api) fails validation through the add-on;
 * the bridge hands the repairs back with the failed results; `ferry.apply_repair` applies them to the scene; the
 * second publish succeeds, and the published .blend has the shot's values.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { buildBlenderAddon } from "../scripts/build_blender_addon.ts";
import { checkFile, hasCommand, hostFixture, publishedVersion, ROOT, run } from "./_hosts.ts";

const BLENDER = Deno.env.get("FERRY_BLENDER") ?? "blender";
const HAS_BLENDER = await hasCommand(BLENDER, ["-b", "--factory-startup", "--version"]);
if (!HAS_BLENDER) {
  console.warn(`\n*** SKIPPED: the Blender scene validation test needs '${BLENDER}' (apt-get install blender) ***\n`);
}

// deno-lint-ignore no-explicit-any
type E = any;

/** Sets custom attributes of an entity through the official client. */
async function setAttributes(session: Session, entityId: string, values: Record<string, unknown>) {
  const [row] = (await session.query(`select custom_attributes from TypedContext where id is "${entityId}"`))
    .data as E[];
  for (const [key, value] of Object.entries(values)) {
    const configuration = row.custom_attributes.find((item: E) => item.key === key);
    ok(configuration, `no custom attribute '${key}'`);
    await session.update("ContextCustomAttributeValue", [configuration.configuration_id, entityId], { value });
  }
}

Deno.test({
  name: "ferry.apply_repair: headless Blender fails the shot's frame range and fps, repairs the scene, publishes",
  ignore: !HAS_BLENDER,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await hostFixture();
    await setAttributes(fixture.session, fixture.made.shot.id, {
      fps: 24,
      frameStart: 1001,
      frameEnd: 1100,
      resolutionWidth: 1920,
      resolutionHeight: 1080,
      pixelAspect: 1,
    });
    const addon = await buildBlenderAddon({ out: join(fixture.work, "ferry_blender.zip") });
    const output = join(fixture.work, "scene.json");
    const env = {
      ...fixture.env,
      BLENDER_USER_SCRIPTS: join(fixture.work, "blender-scripts"),
      BLENDER_USER_CONFIG: join(fixture.work, "blender-config"),
      TMPDIR: fixture.work,
    };
    const blender = await run(BLENDER, [
      "-b",
      "--factory-startup",
      "--python-exit-code",
      "1",
      "--python",
      join(ROOT, "hosts", "blender", "tests", "scene_validation.py"),
      "--",
      addon.path,
      fixture.work,
      output,
    ], { env });
    ok(blender.code === 0, `blender exited with ${blender.code}:\n${blender.stdout.slice(-6000)}\n${blender.stderr}`);
    const seen = JSON.parse(await readFile(output, "utf8"));

    // The facts the add-on collected from the scene.
    const facts = seen.factsSent;
    deepStrictEqual(
      [facts.frameStart, facts.frameEnd, facts.fps, facts.resolutionWidth, facts.resolutionHeight, facts.pixelAspect],
      [1, 48, 30, 1920, 1080, 1],
    );
    strictEqual(facts.camera, "Camera");
    strictEqual(typeof facts.unsavedChanges, "boolean");
    strictEqual(facts.filePath, "");
    deepStrictEqual(facts.dcc, { name: "blender", version: seen.blender });
    ok(typeof facts.colorManagement.viewTransform === "string" && typeof facts.colorManagement.display === "string");
    strictEqual(typeof facts.units.system, "string");

    // The first publish failed validation: nothing published; each failure names expected and found values.
    strictEqual(seen.pollBefore, false);
    strictEqual(seen.first.state, "failed");
    strictEqual(seen.first.versions, "");
    match(seen.firstError, /failed in ValidateScene(FrameRange|Fps) \(instance 'layout'\)/);
    const byPlugin = Object.fromEntries(seen.validations.map((item: E) => [item.plugin, item]));
    deepStrictEqual(Object.keys(byPlugin).sort(), ["ValidateSceneFps", "ValidateSceneFrameRange"]);
    strictEqual(
      byPlugin.ValidateSceneFrameRange.message,
      "Cannot publish 'layout' from this scene: frame start is 1, expected 1001 (shot 'sh010'); frame end is 48, expected 1100 (shot 'sh010')",
    );
    strictEqual(
      byPlugin.ValidateSceneFps.message,
      "Cannot publish 'layout' from this scene: frame rate (fps) is 30, expected 24 (shot 'sh010')",
    );
    deepStrictEqual(byPlugin.ValidateSceneFrameRange.repair, {
      label: "Set the shot's frame range",
      set: { frameStart: 1001, frameEnd: 1100 },
    });
    deepStrictEqual(byPlugin.ValidateSceneFps.repair, { label: "Set the shot's frame rate", set: { fps: 24 } });

    // The bridge's job has the repairs on its failed results.
    const bridge = (await fixture.bridge())!;
    const answer = await fetch(`${bridge.url}/v1/jobs/${seen.first.job}`, {
      headers: { Authorization: `Bearer ${bridge.token}` },
    });
    const { job } = await answer.json();
    strictEqual(job.state, "failed");
    deepStrictEqual(job.request.context.scene.frameStart, 1);
    const failed = job.results.filter((result: E) => !result.success);
    deepStrictEqual(
      failed.map((result: E) => [result.plugin, result.repairs?.[0]?.set]).sort(),
      [["ValidateSceneFps", { fps: 24 }], ["ValidateSceneFrameRange", { frameStart: 1001, frameEnd: 1100 }]],
    );

    // ferry.apply_repair made the changes in the scene; unknown changes are returned, not applied.
    deepStrictEqual(seen.afterRepair, {
      frameStart: 1001,
      frameEnd: 1100,
      fps: 24,
      fpsBase: 1,
      applied: [true, true],
      unknown: ["", ""],
    });
    strictEqual(seen.pollAfter, false);
    deepStrictEqual(seen.mixedRepair.applied, ["colorManagement.viewTransform"]);
    deepStrictEqual(seen.mixedRepair.unknown, ["handleStart", "reframe"]);
    match(seen.badCamera, /Cannot set camera to 'NoSuchCamera' in Blender: .*no camera object of that name/);
    deepStrictEqual(seen.ntsc, [24, 1.001001, 23.976]);

    // The second publish succeeded with the shot's values; the published .blend has them.
    strictEqual(seen.second.state, "succeeded", seen.second.message);
    strictEqual(seen.second.validations, 0);
    strictEqual(seen.second.message, "Published demo/sq010/sh010 layout v001");
    deepStrictEqual([seen.factsSecond.frameStart, seen.factsSecond.frameEnd, seen.factsSecond.fps], [1001, 1100, 24]);
    const { version } = await publishedVersion(fixture.session, seen.second.versions);
    deepStrictEqual([version.asset.name, version.asset.type.short, version.is_published], ["layout", "workfile", true]);
    await checkFile(fixture, seen.second.versions, seen.scenePath, { name: "blend" });
    const reopened = await run(BLENDER, [
      "-b",
      seen.scenePath,
      "--factory-startup",
      "--python-expr",
      "import bpy; s = bpy.context.scene; print('FERRY', s.frame_start, s.frame_end, s.render.fps, s.render.fps_base)",
    ], { env });
    match(reopened.stdout, /^FERRY 1001 1100 24 1\.0$/m, reopened.stdout + reopened.stderr);
    deepStrictEqual(seen.doctest, { attempted: 1, failed: 0 });
  },
});

const HAS_XVFB = HAS_BLENDER && await hasCommand("xvfb-run", ["--help"]);
if (HAS_BLENDER && !HAS_XVFB) {
  console.warn(`\n*** SKIPPED: the Blender repair interface test needs xvfb-run (apt-get install xvfb xauth) ***\n`);
}

Deno.test({
  name: "ferry panel: with its interface (xvfb), failed validations are drawn with Repair buttons that fix the scene",
  ignore: !HAS_XVFB,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await hostFixture();
    const addon = await buildBlenderAddon({ out: join(fixture.work, "ferry_blender.zip") });
    const output = join(fixture.work, "ui.json");
    const blender = await run("xvfb-run", [
      "-a",
      BLENDER,
      "--factory-startup",
      "--python",
      join(ROOT, "hosts", "blender", "tests", "ui_repair.py"),
      "--",
      addon.path,
      output,
    ], {
      env: {
        ...fixture.env,
        BLENDER_USER_SCRIPTS: join(fixture.work, "blender-scripts"),
        BLENDER_USER_CONFIG: join(fixture.work, "blender-config"),
        TMPDIR: fixture.work,
      },
    });
    ok(blender.code === 0, `blender exited with ${blender.code}:\n${blender.stdout.slice(-6000)}\n${blender.stderr}`);
    const seen = JSON.parse(await readFile(output, "utf8"));
    ok(!seen.error, seen.error);
    deepStrictEqual(seen.firstPress, ["RUNNING_MODAL"]);
    match(seen.firstMessage, /failed in ValidateScene(FrameRange|Fps)/);
    // The panel drew both failed validations, their messages and one Repair button each.
    const kinds = (drawn: Array<[string, string]>, kind: string) =>
      drawn.filter(([k]) => k === kind).map(([, text]) => text).sort();
    deepStrictEqual(kinds(seen.drawnFailed, "failed"), [
      "ValidateSceneFps (uilayout)",
      "ValidateSceneFrameRange (uilayout)",
    ]);
    deepStrictEqual(kinds(seen.drawnFailed, "repair"), ["Set the shot's frame range", "Set the shot's frame rate"]);
    ok(
      seen.drawnFailed.some(([kind, text]: [string, string]) => kind === "message" && /frame start is 1,/.test(text)),
      JSON.stringify(seen.drawnFailed),
    );
    // Pressing them repaired the scene; the panel then says so, without buttons.
    deepStrictEqual(seen.pressed, [["FINISHED"], ["FINISHED"]]);
    deepStrictEqual(seen.afterRepair, [1001, 1100, 24]);
    strictEqual(kinds(seen.drawnRepaired, "repaired").length, 2);
    strictEqual(kinds(seen.drawnRepaired, "repair").length, 0);
    // Published the second time; the list is cleared.
    deepStrictEqual(seen.secondPress, ["RUNNING_MODAL"]);
    strictEqual(seen.state, "succeeded", seen.message);
    strictEqual(seen.message, "Published demo/sq010/sh010 uilayout v001");
    strictEqual(seen.validationsAtEnd, 0);
    ok(!/Traceback/.test(blender.stdout + blender.stderr), blender.stdout + blender.stderr);
    const { version } = await publishedVersion(fixture.session, seen.versions);
    deepStrictEqual([version.asset.name, version.is_published], ["uilayout", true]);
  },
});
