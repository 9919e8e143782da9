/**
 * The Blender add-on end to end with REAL Blender (`blender -b --factory-startup`): the zip built by
 * scripts/build_blender_addon.ts is installed, a 10-frame sequence is rendered and published with
 * `ferry.publish_render`, the cube with `ferry.publish_selection` (glTF) and the .blend with `ferry.publish_scene`,
 * through a bridge the add-on starts; the versions, components and stored bytes are checked through @ftrack/api.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { buildBlenderAddon } from "../scripts/build_blender_addon.ts";
import { checkFile, checkSequence, hasCommand, hostFixture, publishedVersion, ROOT, run } from "./_hosts.ts";

const BLENDER = Deno.env.get("FERRY_BLENDER") ?? "blender";
const HAS_BLENDER = await hasCommand(BLENDER, ["-b", "--factory-startup", "--version"]);
if (!HAS_BLENDER) {
  console.warn(`\n*** SKIPPED: the Blender end-to-end tests need '${BLENDER}' (apt-get install blender) ***\n`);
}
const HAS_XVFB = HAS_BLENDER && await hasCommand("xvfb-run", ["--help"]);
if (HAS_BLENDER && !HAS_XVFB) {
  console.warn(`\n*** SKIPPED: the Blender interface test needs xvfb-run (apt-get install xvfb xauth) ***\n`);
}

/** The environment of a Blender run: the fixture's, with Blender's user folders and temp files in `work`. */
const blenderEnv = (fixture: { env: Record<string, string>; work: string }) => ({
  ...fixture.env,
  BLENDER_USER_SCRIPTS: join(fixture.work, "blender-scripts"),
  BLENDER_USER_CONFIG: join(fixture.work, "blender-config"),
  TMPDIR: fixture.work,
});

Deno.test({
  name: "ferry_blender: headless Blender renders 10 frames and publishes render, glTF selection and scene",
  ignore: !HAS_BLENDER,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await hostFixture();
    // The shot is what the test scene is (frames 1-10, 64x36): the add-on's scene facts pass ferry's validators.
    const [shot] = (await fixture.session.query(
      `select custom_attributes from Shot where id is "${fixture.made.shot.id}"`,
    )).data as Array<{ custom_attributes: Array<{ key: string; configuration_id: string }> }>;
    for (
      const [key, value] of Object.entries({ frameStart: 1, frameEnd: 10, resolutionWidth: 64, resolutionHeight: 36 })
    ) {
      const configuration = shot!.custom_attributes.find((item) => item.key === key)!;
      await fixture.session.update("ContextCustomAttributeValue", [
        configuration.configuration_id,
        fixture.made.shot.id,
      ], { value });
    }
    const addon = await buildBlenderAddon({ out: join(fixture.work, "ferry_blender.zip") });
    const output = join(fixture.work, "blender.json");
    const blender = await run(BLENDER, [
      "-b",
      "--factory-startup",
      "--python-exit-code",
      "1",
      "--python",
      join(ROOT, "hosts", "blender", "tests", "e2e_publish.py"),
      "--",
      addon.path,
      fixture.work,
      output,
    ], { env: blenderEnv(fixture) });
    ok(blender.code === 0, `blender exited with ${blender.code}:\n${blender.stdout.slice(-6000)}\n${blender.stderr}`);
    const results = JSON.parse(await readFile(output, "utf8"));

    // The zip is self-contained: the add-on and its client were loaded from where Blender installed it.
    ok(results.addon.startsWith(join(fixture.work, "blender-scripts", "addons", "ferry_blender")), results.addon);
    ok(results.client.startsWith(join(fixture.work, "blender-scripts", "addons", "ferry_blender", "ferry_host")));
    match(results.unrendered, /frames 1-10 of .*beauty\.####\.png are not on disk \(10 of 10\)/);
    ok(results.contexts.includes("demo/sq010/sh010/lighting"), JSON.stringify(results.contexts));
    deepStrictEqual(results.picked, ["demo", "demo/sq010/sh010", "lighting"]);
    strictEqual(results.bridge, (await fixture.bridge())?.url, "the add-on started the bridge of FERRY_HOME");

    // The render: one version with a 10-frame sequence whose stored files are the rendered frames.
    strictEqual(results.render.versionIds.length, 1, JSON.stringify(results.render));
    const renderId = results.render.versionIds[0];
    match(results.render.message, /^Published demo\/sq010\/sh010 beauty v001$/);
    const render = await publishedVersion(fixture.session, renderId);
    strictEqual(render.version.is_published, true);
    strictEqual(render.version.asset.name, "beauty");
    strictEqual(render.version.asset.type.short, "render");
    strictEqual(render.version.comment, "from blender");
    strictEqual(render.version.task_id, fixture.made.task.id);
    const frames = new Map(
      Object.entries(results.frames as Record<string, string>).map(([frame, path]) => [Number(frame), path]),
    );
    strictEqual(frames.size, 10);
    const sequence = await checkSequence(fixture, renderId, frames, { name: "png" });
    strictEqual(sequence.padding, 4);

    // The selection as glTF binary, the scene as a .blend copy.
    const model = await publishedVersion(fixture.session, results.model.versionId);
    deepStrictEqual([model.version.asset.name, model.version.asset.type.short], ["Cube", "geo"]);
    await checkFile(fixture, results.model.versionId, results.model.path, { name: "glb" });
    strictEqual(new TextDecoder().decode((await readFile(results.model.path)).subarray(0, 4)), "glTF");
    const scene = await publishedVersion(fixture.session, results.scene.versionId);
    deepStrictEqual([scene.version.asset.name, scene.version.asset.type.short], ["layout", "workfile"]);
    await checkFile(fixture, results.scene.versionId, results.scene.path, { name: "blend" });

    // Camera: Alembic when this Blender has it; else the operator says so (Debian's blender has no Alembic).
    if (results.camera.error) {
      strictEqual(results.camera.alembic, false);
      match(results.camera.error, /built without Alembic .*publish the 'camera' selection as glTF/);
    } else {
      const camera = await publishedVersion(fixture.session, results.camera.versionId);
      deepStrictEqual([camera.version.asset.name, camera.version.asset.type.short], ["Camera", "cam"]);
      await checkFile(fixture, results.camera.versionId, results.camera.path, { name: "abc" });
    }

    // The interface's background-thread path (dry run): the job, its events, then success; nothing left active.
    deepStrictEqual(results.thread, { kinds: ["event", "job", "succeeded"], step: "succeeded", active: 0 });
    deepStrictEqual(results.cancel.outcome.slice(0, 2), ["failed", "JobCancelled"]);
    match(results.cancel.outcome[2], /was cancelled .*publishing the same request again completes it/);
    strictEqual(results.cancel.first, "succeeded");
    deepStrictEqual(results.doctest, { attempted: 4, failed: 0 });
    strictEqual(results.unregistered, true);
    console.log(`blender ${results.blender}: rendered 10 frames in ${results.renderSeconds} s`);
  },
});

Deno.test({
  name: "ferry_blender: with its interface (xvfb), Publish Scene returns at once and reports the version later",
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
      join(ROOT, "hosts", "blender", "tests", "ui_publish.py"),
      "--",
      addon.path,
      output,
    ], { env: blenderEnv(fixture) });
    ok(blender.code === 0, `blender exited with ${blender.code}:\n${blender.stdout.slice(-6000)}\n${blender.stderr}`);
    const seen = JSON.parse(await readFile(output, "utf8"));
    ok(!seen.error, seen.error);
    // The operator handed the publish to a thread and returned; Blender's loop ran until the job ended.
    deepStrictEqual(seen.returned, ["RUNNING_MODAL"]);
    strictEqual(seen.stateAfterPress, "running");
    strictEqual(seen.activeAfterPress, 1);
    ok(seen.ticks >= 1);
    strictEqual(seen.state, "succeeded", seen.message);
    strictEqual(seen.message, "Published demo/sq010/sh010 uiscene v001");
    strictEqual(seen.activeAtEnd, 0);
    ok(seen.panel?.length >= 1, "the ferry panel was drawn");
    ok(!/Traceback/.test(blender.stdout + blender.stderr), blender.stdout + blender.stderr);
    match(blender.stdout, /Info: Published demo\/sq010\/sh010 uiscene v001/);
    const scene = await publishedVersion(fixture.session, seen.versions);
    deepStrictEqual([scene.version.asset.name, scene.version.is_published], ["uiscene", true]);
  },
});
