/**
 * Publishing through the bridge against the embedded tracker: a real publish checked with the
 * official client, the event stream and its replay, cancel, same-asset serialisation, dry runs.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFrames } from "./_publish.ts";
import { bridgeFixture, NO_REVIEW, readEvents, readEventsUntil, waitPlugins } from "./_bridge.ts";

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

Deno.test({
  ...options,
  name: "GET /v1/jobs/{id}/events replays with Last-Event-ID: live, after the end, and across a bridge restart",
  fn: async () => {
    await using plugins = await waitPlugins();
    await using fixture = await bridgeFixture({ pluginPaths: [plugins.path] });
    await writeFrames(fixture.files, [1, 2, 3]);
    const files = [join(fixture.files, "beauty.####.exr")];
    const body = request(files, {
      instances: [{ family: "render", name: "beauty", files, options: { waitMs: 1500 } }],
    });
    const { job } = await (await fixture.request("/v1/publish", { body })).json();

    // Live: read until the wait starts, go away, come back with the last id seen.
    const first = await readEventsUntil(
      await fixture.request(`/v1/jobs/${job.id}/events`),
      (events) => events.some((event) => event.type === "log" && /waiting/.test((event.data as E).message)),
    );
    ok(first.length >= 3);
    const lastSeen = first.at(-1)!.id;
    const rest = await readEvents(
      await fixture.request(`/v1/jobs/${job.id}/events`, { headers: { "last-event-id": String(lastSeen) } }),
    );
    const all = await readEvents(await fixture.request(`/v1/jobs/${job.id}/events`));
    deepStrictEqual([...first, ...rest], all, "nothing missed, nothing twice");
    strictEqual((all.at(-1)!.data as E).state, "succeeded");

    // After the end: the tail, then the stream ends.
    const tail = await readEvents(
      await fixture.request(`/v1/jobs/${job.id}/events`, { headers: { "last-event-id": "2" } }),
    );
    deepStrictEqual(tail, all.slice(2));
    deepStrictEqual(
      await readEvents(
        await fixture.request(`/v1/jobs/${job.id}/events`, { headers: { "last-event-id": String(all.at(-1)!.id) } }),
      ),
      [],
    );
    const bad = await fixture.request(`/v1/jobs/${job.id}/events`, { headers: { "last-event-id": "x" } });
    strictEqual(bad.status, 400);
    deepStrictEqual((await bad.json()).error.issues.map((issue: E) => [issue.path, issue.value]), [[
      "last-event-id",
      "x",
    ]]);

    // A new bridge on the same FERRY_HOME answers for the job and replays the same events.
    await fixture.bridge.close();
    await fixture.start();
    const { job: again } = await (await fixture.request(`/v1/jobs/${job.id}`)).json();
    strictEqual(again.state, "succeeded");
    deepStrictEqual(
      await readEvents(await fixture.request(`/v1/jobs/${job.id}/events`, { headers: { "last-event-id": "2" } })),
      tail,
    );
  },
});

Deno.test({
  ...options,
  name: "POST /v1/jobs/{id}/cancel stops mid-upload without publishing; the same request again completes that version",
  fn: async () => {
    await using fixture = await bridgeFixture({ settings: { ...NO_REVIEW, uploadConcurrency: 1 } });
    const frames = Array.from({ length: 48 }, (_, i) => 1001 + i);
    await writeFrames(fixture.files, frames, { bytes: 512 * 1024 });
    const body = request([join(fixture.files, "beauty.####.exr")]);
    const { job } = await (await fixture.request("/v1/publish", { body })).json();
    await readEventsUntil(
      await fixture.request(`/v1/jobs/${job.id}/events`),
      (events) => events.some((event) => event.type === "progress" && (event.data as E).totalBytes > 0),
    );
    const cancel = await fixture.request(`/v1/jobs/${job.id}/cancel`, { method: "POST" });
    strictEqual(cancel.status, 200);
    const events = await readEvents(await fixture.request(`/v1/jobs/${job.id}/events`));
    const final = events.at(-1)!.data as E;
    strictEqual(final.state, "cancelled");
    ok(/not published/.test(final.error), final.error);
    const { job: cancelled } = await (await fixture.request(`/v1/jobs/${job.id}`)).json();
    strictEqual(cancelled.state, "cancelled");
    deepStrictEqual(cancelled.versionIds, []);
    strictEqual((await fixture.session.query("select id from AssetVersion where is_published is true")).data.length, 0);
    const [unfinished] = (await fixture.session.query("select id from AssetVersion")).data as E[];
    ok(unfinished, "the unpublished version is kept for the next run");
    const sent = (events.filter((event) => event.type === "progress").at(-1)!.data as E).bytes;
    ok(sent < 48 * 512 * 1024, `stopped before every byte was sent (${sent})`);

    // Cancelling a finished job changes nothing.
    deepStrictEqual(
      (await (await fixture.request(`/v1/jobs/${job.id}/cancel`, { method: "POST" })).json()).job,
      cancelled,
    );

    const { job: rerun } = await (await fixture.request("/v1/publish", { body })).json();
    const rerunEvents = await readEvents(await fixture.request(`/v1/jobs/${rerun.id}/events`));
    strictEqual((rerunEvents.at(-1)!.data as E).state, "succeeded", JSON.stringify(rerunEvents.at(-1)));
    const { job: done } = await (await fixture.request(`/v1/jobs/${rerun.id}`)).json();
    deepStrictEqual(done.versionIds, [unfinished.id], "the cancelled version is completed, not a new one");
    const versions = (await fixture.session.query("select id, is_published from AssetVersion")).data as E[];
    deepStrictEqual(versions.map((version) => [version.id, version.is_published]), [[unfinished.id, true]]);
    strictEqual(
      (await fixture.session.query(`select id from FileComponent where container.version_id is "${unfinished.id}"`))
        .data.length,
      48,
    );
  },
});

Deno.test({
  ...options,
  name: "JobRunner runs two publishes of one asset one after the other, and other assets beside them",
  fn: async () => {
    await using plugins = await waitPlugins();
    await using fixture = await bridgeFixture({ pluginPaths: [plugins.path], concurrency: 2 });
    await writeFrames(join(fixture.files, "a"), [1, 2]);
    await writeFrames(join(fixture.files, "b"), [1, 2], { name: "fog" });
    const beauty = (waitMs: number) =>
      request([join(fixture.files, "a", "beauty.####.exr")], {
        instances: [{
          family: "render",
          name: "beauty",
          files: [join(fixture.files, "a", "beauty.####.exr")],
          options: { waitMs },
        }],
      });
    const first = (await (await fixture.request("/v1/publish", { body: beauty(800) })).json()).job;
    const second = (await (await fixture.request("/v1/publish", { body: beauty(0) })).json()).job;
    const other = (await (await fixture.request("/v1/publish", {
      body: request([join(fixture.files, "b", "fog.####.exr")], {
        instances: [{ family: "render", name: "fog", files: [join(fixture.files, "b", "fog.####.exr")] }],
      }),
    })).json()).job;
    for (const job of [first, second, other]) await readEvents(await fixture.request(`/v1/jobs/${job.id}/events`));
    const get = async (id: string) => (await (await fixture.request(`/v1/jobs/${id}`)).json()).job;
    const [a, b, c] = [await get(first.id), await get(second.id), await get(other.id)];
    deepStrictEqual(
      [a.state, b.state, c.state],
      ["succeeded", "succeeded", "succeeded"],
      JSON.stringify([a.error, b.error, c.error]),
    );
    ok(
      b.startedAt >= a.finishedAt,
      `the second beauty started (${b.startedAt}) after the first ended (${a.finishedAt})`,
    );
    ok(c.finishedAt < a.finishedAt, "the other asset did not wait for the slow one");
    const versions = (await fixture.session.query(
      `select version, asset.name from AssetVersion where is_published is true order by version`,
    )).data as E[];
    deepStrictEqual(versions.map((version) => `${version.asset.name} v${version.version}`).sort(), [
      "beauty v1",
      "beauty v2",
      "fog v1",
    ]);
    strictEqual(fixture.bridge.runner.concurrency, 2);
    // Every publish announced its version: one shared session, its event hub kept between jobs.
    for (const job of [a, b, c]) {
      const records = job.results.flatMap((result: E) => result.records.map((record: E) => record.message));
      ok(!records.some((message: string) => /event could not be sent/.test(message)), JSON.stringify(records));
    }
  },
});

Deno.test({
  ...options,
  name: "POST /v1/publish with dryRun collects and validates only: nothing on the tracker",
  fn: async () => {
    await using fixture = await bridgeFixture();
    await writeFrames(fixture.files, [1, 2, 3]);
    const body = request([join(fixture.files, "beauty.####.exr")], { dryRun: true });
    const { job } = await (await fixture.request("/v1/publish", { body })).json();
    strictEqual(job.dryRun, true);
    const events = await readEvents(await fixture.request(`/v1/jobs/${job.id}/events`));
    strictEqual((events.at(-1)!.data as E).state, "succeeded");
    const { job: done } = await (await fixture.request(`/v1/jobs/${job.id}`)).json();
    ok(done.results.length > 0);
    ok(done.report.results.every((result: E) => result.order < 1.5), "no extractor or integrator ran");
    deepStrictEqual(done.versionIds, []);
    strictEqual((await fixture.session.query("select id from AssetVersion")).data.length, 0);

    // A dry run of a bad request fails with the validator's reason.
    const bad = request([join(fixture.files, "missing.####.exr")], { dryRun: true });
    const { job: failing } = await (await fixture.request("/v1/publish", { body: bad })).json();
    const failed = await readEvents(await fixture.request(`/v1/jobs/${failing.id}/events`));
    const end = failed.at(-1)!.data as E;
    strictEqual(end.state, "failed");
    ok(/missing/.test(end.error), end.error);
  },
});
