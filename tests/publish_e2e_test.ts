/**
 * Publishing end to end on the embedded tracker, through the official client: what a TD gets from
 * `deno task publish`.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { NO_REVIEW_TOOLS, publishFixture, publishWith, writeFrames } from "./_publish.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const sha1 = (data: Uint8Array) => createHash("sha1").update(data).digest("hex");
const request = (files: string[], extra: Record<string, unknown> = {}) => ({
  context: { path: "demo/sq010/sh010", task: "lighting" },
  instances: [{ family: "render", name: "beauty", files, ...extra }],
  comment: "first light",
});

Deno.test({
  name: "publish: a single file becomes a published version with one verified component",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await publishFixture();
    const { session, made, folder } = fixture;
    const path = join(folder.path, "layout.abc");
    await Deno.writeTextFile(path, "alembic bytes ".repeat(500));
    const { report, results } = await publishWith(session, {
      ...request([path]),
      instances: [{ family: "geometry", name: "layout", files: [path] }],
    });
    ok(report.ok, JSON.stringify(results.filter((r) => !r.success).map((r) => r.error)));
    const created = report.created[0] as E;
    const [version] = (await session.query(
      `select version, is_published, comment, task_id, asset.name, asset.type.short, components.name, components.file_type, notes.content from AssetVersion where id is ${created.versionId}`,
    )).data as E[];
    strictEqual(version.is_published, true);
    strictEqual(version.version, 1);
    strictEqual(version.task_id, made.task.id);
    strictEqual(version.asset.name, "layout");
    strictEqual(version.asset.type.short, "geo");
    deepStrictEqual(version.components.map((c: E) => [c.name, c.file_type]), [["abc", ".abc"]]);
    deepStrictEqual(version.notes.map((n: E) => n.content), ["first light"]);
    const [component] = (await session.query(
      `select size, metadata, component_locations.location.name from Component where version_id is ${created.versionId}`,
    )).data as E[];
    const meta = Object.fromEntries(component.metadata.map((m: E) => [m.key, m.value]));
    strictEqual(meta.ferry_fingerprint, `sha1:${sha1(await readFile(path))}`);
    strictEqual(component.size, (await stat(path)).size);
    ok(meta.ferry_origin.startsWith("file://"));
    strictEqual(component.component_locations[0].location.name, "ftrack.server");
    const task = (await session.query(`select status.name from Task where id is ${made.task.id}`)).data[0] as E;
    strictEqual(task.status.name, "Pending Review");
  },
});

Deno.test({
  name: "publish: a sequence with a hole fails validation, naming the frames, and creates nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await publishFixture();
    const { session, folder } = fixture;
    await writeFrames(folder.path, [1001, 1002, 1003, 1005, 1006, 1009, 1010]);
    const { report, results } = await publishWith(session, request([join(folder.path, "beauty.####.exr")]));
    strictEqual(report.ok, false);
    strictEqual(report.stopped, "failed validation");
    const failure = results.find((result) => !result.success)!;
    strictEqual(failure.plugin.name, "ValidateFrameRange");
    strictEqual(failure.instance?.name, "beauty");
    strictEqual(
      failure.error!.message,
      "Cannot publish 'beauty': frames 1004, 1007-1008 are missing from 'beauty.%04d.exr [1001-1003, 1005-1006, 1009-1010]'",
    );
    for (const type of ["Asset", "AssetVersion", "Component"]) {
      strictEqual((await session.query(`select id from ${type}`)).data.length, 0, `${type} created`);
    }
  },
});

Deno.test({
  name: "publish: 100 frames to ftrack.server as one SequenceComponent whose downloads match the fingerprints",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await publishFixture();
    const { running, session, folder } = fixture;
    const frames = Array.from({ length: 100 }, (_, i) => 1001 + i);
    await writeFrames(folder.path, frames, { bytes: 4096 });
    const { report } = await publishWith(session, request([join(folder.path, "beauty.%04d.exr")]), {
      settings: { tools: NO_REVIEW_TOOLS },
    });
    ok(report.ok, JSON.stringify(report.results.filter((r) => !r.success)));
    const created = report.created[0] as E;
    const components = (await session.query(
      `select name, padding, system_type, members, metadata from Component where version_id is ${created.versionId}`,
    )).data as E[];
    const sequence = components.find((component) => component.system_type === "sequence");
    ok(sequence, JSON.stringify(components.map((c) => c.name)));
    strictEqual(sequence.name, "exr");
    strictEqual(sequence.padding, 4);
    strictEqual(sequence.members.length, 100);
    const meta = Object.fromEntries(sequence.metadata.map((m: E) => [m.key, m.value]));
    strictEqual(meta.ferry_frames, "1001-1100");
    const members = (await session.query(
      `select id, name, metadata from FileComponent where container_id is ${sequence.id} order by name`,
    )).data as E[];
    deepStrictEqual(members.map((member) => Number(member.name)), frames);
    for (const member of members) {
      const recorded = member.metadata.find((m: E) => m.key === "ferry_fingerprint").value;
      const download = await fetch(
        `${running.url}/component/get?id=${member.id}&username=${running.apiUser}&apiKey=${running.apiKey}`,
      );
      strictEqual(recorded, `sha1:${sha1(new Uint8Array(await download.arrayBuffer()))}`);
    }
  },
});
