/**
 * Publishing flows on the embedded tracker: locations, concurrency, interruption and resume,
 * review media and the announcement event.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { HubEvent } from "../src/events/event.ts";
import { hasFfmpeg } from "../services/tracker/encode_media.ts";
import { testFrame } from "../scripts/_png.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { NO_REVIEW_TOOLS, publishFixture, publishWith, tempFolder, writeFrames } from "./_publish.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const sha1 = (data: Uint8Array) => createHash("sha1").update(data).digest("hex");
const FFMPEG = await hasFfmpeg();
if (!FFMPEG) console.warn("SKIPPED: publish_flows_test 'review media' needs ffmpeg (apt-get install ffmpeg)");
const request = (files: string[], extra: Record<string, unknown> = {}) => ({
  context: { path: "demo/sq010/sh010", task: "lighting" },
  instances: [{ family: "render", name: "beauty", files }],
  comment: "flows",
  ...extra,
});
const options = { name: "", sanitizeOps: false, sanitizeResources: false };

Deno.test({
  ...options,
  name: "publish to a disk location: files land where the structure template says, with relative locators",
  fn: async () => {
    await using fixture = await publishFixture();
    const { session, folder } = fixture;
    await using root = await tempFolder("ferry-disk-");
    const sources = await writeFrames(folder.path, [1001, 1002, 1003]);
    const readme = join(folder.path, "notes.txt");
    await writeFile(readme, "lighting notes");
    const { report } = await publishWith(
      session,
      request([join(folder.path, "beauty.####.exr"), readme], { location: { disk: root.path } }),
      { settings: { tools: NO_REVIEW_TOOLS } },
    );
    ok(report.ok, JSON.stringify(report.results.filter((r) => !r.success)));
    for (const [i, frame] of ["1001", "1002", "1003"].entries()) {
      const target = join(root.path, "demo/sq010/sh010/beauty/v001", `exr.${frame}.exr`);
      deepStrictEqual(await readFile(target), await readFile(sources[i]!));
    }
    strictEqual(await Deno.readTextFile(join(root.path, "demo/sq010/sh010/beauty/v001/txt.txt")), "lighting notes");
    const created = report.created[0] as E;
    const locations = (await session.query(
      `select resource_identifier, location.name, component.name from ComponentLocation where component.version_id is ${created.versionId} or component.container.version_id is ${created.versionId}`,
    )).data as E[];
    ok(locations.every((location) => location.location.name === "ferry.disk"));
    deepStrictEqual(
      locations.map((location) => location.resource_identifier).sort(),
      [
        "demo/sq010/sh010/beauty/v001/exr.%04d.exr",
        "demo/sq010/sh010/beauty/v001/exr.1001.exr",
        "demo/sq010/sh010/beauty/v001/exr.1002.exr",
        "demo/sq010/sh010/beauty/v001/exr.1003.exr",
        "demo/sq010/sh010/beauty/v001/txt.txt",
      ],
    );
  },
});

Deno.test({
  ...options,
  name: "publish unmanaged: components point at the files with file://host locators and their fingerprints",
  fn: async () => {
    await using fixture = await publishFixture();
    const { running, session, folder } = fixture;
    const [path] = await writeFrames(folder.path, [7], { name: "still" });
    const { report } = await publishWith(
      session,
      request([path!], { location: "unmanaged", instances: [{ family: "image", name: "still", files: [path] }] }),
      { settings: { tools: NO_REVIEW_TOOLS } },
    );
    ok(report.ok, JSON.stringify(report.results.filter((r) => !r.success)));
    const [location] =
      (await session.query(`select resource_identifier, location.name, component.metadata from ComponentLocation`))
        .data as E[];
    strictEqual(location.location.name, "ftrack.unmanaged");
    strictEqual(location.resource_identifier, `file://${hostname()}${encodeURI(path!)}`);
    const meta = Object.fromEntries(location.component.metadata.map((m: E) => [m.key, m.value]));
    strictEqual(meta.ferry_fingerprint, `sha1:${sha1(await readFile(path!))}`);
    strictEqual(running.tracker.files.has(location.component.id), false, "nothing uploaded");
  },
});

Deno.test({
  ...options,
  name: "two publishes of one asset at once get versions n and n+1 of the same asset",
  fn: async () => {
    await using running = await memoryTracker();
    const session = await openSession(running);
    await makeShot(session);
    await using first = await tempFolder();
    await using second = await tempFolder();
    await writeFrames(first.path, [1001, 1002, 1003, 1004]);
    await writeFrames(second.path, [2001, 2002, 2003, 2004]);
    const outcomes = await Promise.all([
      publishWith(session, request([join(first.path, "beauty.####.exr")]), { settings: { tools: NO_REVIEW_TOOLS } }),
      publishWith(session, request([join(second.path, "beauty.####.exr")]), { settings: { tools: NO_REVIEW_TOOLS } }),
    ]);
    ok(
      outcomes.every((outcome) => outcome.report.ok),
      JSON.stringify(outcomes.map((o) => o.report.results.filter((r) => !r.success))),
    );
    const versions = outcomes.map((outcome) => (outcome.report.created[0] as E).version).sort();
    deepStrictEqual(versions, [1, 2]);
    strictEqual((await session.query("select id from Asset")).data.length, 1, "one asset");
  },
});

Deno.test({
  ...options,
  name: "review media: a thumbnail and an H.264 review movie with ftr_meta, and ferry.publish.finished on the hub",
  ignore: !FFMPEG,
  fn: async () => {
    await using fixture = await publishFixture();
    const { running, session, folder } = fixture;
    for (let frame = 1001; frame <= 1024; frame++) {
      await writeFile(join(folder.path, `beauty.${frame}.png`), testFrame(frame));
    }
    const events: HubEvent[] = [];
    running.tracker.hub.listeners.add((event) => {
      if (event.topic === "ferry.publish.finished") events.push(event);
    });
    const { report } = await publishWith(session, request([join(folder.path, "beauty.####.png")]));
    ok(report.ok, JSON.stringify(report.results.filter((r) => !r.success)));
    const created = report.created[0] as E;
    const components = (await session.query(
      `select name, metadata, component_locations.location.name from Component where version_id is ${created.versionId}`,
    )).data as E[];
    const byName = new Map(components.map((component) => [component.name, component]));
    for (const name of ["png", "ftrackreview-mp4", "ftrackreview-image", "thumbnail"]) {
      ok(byName.has(name), `component ${name}`);
    }
    const meta = JSON.parse(byName.get("ftrackreview-mp4").metadata.find((m: E) => m.key === "ftr_meta").value);
    deepStrictEqual([meta.frameIn, meta.frameOut, meta.frameRate, meta.width, meta.height], [1001, 1024, 24, 320, 180]);
    strictEqual(byName.get("ftrackreview-mp4").component_locations[0].location.name, "ftrack.server");
    const [version] = (await session.query(`select thumbnail.name from AssetVersion where id is ${created.versionId}`))
      .data as E[];
    strictEqual(version.thumbnail.name, "thumbnail");
    const movie = (await stat(running.tracker.files.path(byName.get("ftrackreview-mp4").id))).size;
    ok(movie > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    strictEqual(events.length, 1);
    strictEqual((events[0]!.data as E).versionId, created.versionId);
    strictEqual((events[0]!.data as E).context, "demo/sq010/sh010");
  },
});

Deno.test({
  ...options,
  name: "publish requests are checked field by field; the naming rule comes from settings",
  fn: async () => {
    const { parsePublishRequest, PublishRequestError } = await import("../publish/request.ts");
    try {
      parsePublishRequest({
        context: { path: "", task: "lighting" },
        instances: [{ family: "render", name: "", files: [] }],
        location: "cloud",
      });
      throw new Error("expected an error");
    } catch (error) {
      ok(error instanceof PublishRequestError);
      const problems = (error as InstanceType<typeof PublishRequestError>).problems.join("\n");
      ok(/'context.path': needs a context/.test(problems), problems);
      ok(/'instances.0.name'/.test(problems), problems);
      ok(/'instances.0.files': needs at least one file/.test(problems), problems);
      ok(/'location': must be 'server', 'unmanaged'.*\(got "cloud"\)/.test(problems), problems);
    }
    await using fixture = await publishFixture();
    const { session, folder } = fixture;
    await writeFrames(folder.path, [1, 2]);
    const { report } = await publishWith(session, request([join(folder.path, "beauty.####.exr")]), {
      settings: { assetNamePattern: "^[A-Z]" },
    });
    strictEqual(report.ok, false);
    ok(/does not match the naming rule/.test(JSON.stringify(report.results)));
  },
});
