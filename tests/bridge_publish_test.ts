/**
 * Publishing through the bridge against the embedded tracker: a real publish checked with the
 * official client, the event stream and its replay, cancel, same-asset serialisation, dry runs.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFrames } from "./_publish.ts";
import { bridgeFixture, readEvents } from "./_bridge.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const options = { sanitizeOps: false, sanitizeResources: false };
const sha1 = (data: Uint8Array) => createHash("sha1").update(data).digest("hex");
const request = (files: string[], extra: Record<string, unknown> = {}) => ({
  host: "blender",
  context: { path: "demo/sq010/sh010", task: "lighting" },
  instances: [{ family: "render", name: "beauty", files }],
  comment: "from the bridge",
  ...extra,
});

Deno.test({
  ...options,
  name: "POST /v1/publish publishes a sequence: the job succeeds and the tracker has the published version",
  fn: async () => {
    await using fixture = await bridgeFixture();
    const frames = await writeFrames(fixture.files, [1001, 1002, 1003, 1004, 1005]);
    const response = await fixture.request("/v1/publish", { body: request([join(fixture.files, "beauty.####.exr")]) });
    strictEqual(response.status, 202);
    const { job } = await response.json();
    ok(["queued", "running"].includes(job.state));
    strictEqual(job.host, "blender");
    strictEqual(response.headers.get("location"), `/v1/jobs/${job.id}`);

    const events = await readEvents(await fixture.request(`/v1/jobs/${job.id}/events`));
    deepStrictEqual(events.map((event) => event.id), events.map((_, i) => i + 1), "numbered 1, 2, 3…");
    deepStrictEqual(events.filter((event) => event.type === "state").map((event) => (event.data as E).state), [
      "queued",
      "running",
      "succeeded",
    ]);
    const results = events.filter((event) => event.type === "result").map((event) => event.data as E);
    ok(
      results.some((result) => result.plugin === "IntegrateVersion" && result.success && result.instance === "beauty"),
    );
    const progress = events.filter((event) => event.type === "progress").at(-1)?.data as E;
    strictEqual(progress.bytes, 5 * 2048);
    strictEqual(progress.totalBytes, 5 * 2048);
    ok(events.some((event) => event.type === "log" && (event.data as E).plugin === "IntegrateVersion"));

    const { job: done } = await (await fixture.request(`/v1/jobs/${job.id}`)).json();
    strictEqual(done.state, "succeeded");
    strictEqual(done.error, null);
    strictEqual(done.versionIds.length, 1);
    strictEqual(done.report.ok, true);
    deepStrictEqual(done.results.map((result: E) => result.plugin), results.map((result) => result.plugin));
    const [version] = (await fixture.session.query(
      `select id, version, is_published, comment, asset.name from AssetVersion where id is "${done.versionIds[0]}"`,
    )).data as E[];
    strictEqual(version.is_published, true);
    strictEqual(version.version, 1);
    strictEqual(version.asset.name, "beauty");
    strictEqual(version.comment, "from the bridge");
    const members = (await fixture.session.query(
      `select name, metadata from FileComponent where container.version_id is "${version.id}"`,
    )).data as E[];
    const stored = members.map((member) => member.metadata.find((item: E) => item.key === "ferry_fingerprint").value)
      .sort();
    const expected = (await Promise.all(frames.map(async (frame) => `sha1:${sha1(await readFile(frame))}`))).sort();
    deepStrictEqual(stored, expected);
    const { jobs } = await (await fixture.request("/v1/jobs")).json();
    deepStrictEqual(jobs.map((listed: E) => listed.id), [job.id]);
  },
});
