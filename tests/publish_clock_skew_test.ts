/**
 * Publish heartbeats across machines whose clocks disagree: writer and reader both work on the
 * tracker's clock (measured from its `Date` header), so a live publisher whose clock is behind is
 * not taken over, and one whose clock is ahead is not believed alive for longer than it is.
 * Skewed machines are simulated by injecting their local clock (`now`) into the clock functions.
 */
import { ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { NO_REVIEW_TOOLS, publishFixture, publishWith, writeFrames } from "./_publish.ts";
import { trackerAge, trackerNow, trackerOffset } from "../src/tracker/tracker_clock.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const options = { sanitizeOps: false, sanitizeResources: false };
const tools = NO_REVIEW_TOOLS;
const request = (files: string[]) => ({
  context: { path: "demo/sq010/sh010", task: "lighting" },
  instances: [{ family: "render", name: "beauty", files }],
  comment: "skewed clocks",
});
const behind = () => Date.now() - 60_000;
const ahead = () => Date.now() + 60_000;
const near = (actual: number, expected: number, tolerance: number, what: string) =>
  ok(Math.abs(actual - expected) < tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);

/** A stopped publish's unfinished version, now claimed by a publisher on another machine. */
async function foreignUnfinished(fixture: Awaited<ReturnType<typeof publishFixture>>) {
  const { session, folder } = fixture;
  await writeFrames(folder.path, [1001, 1002], { bytes: 2048 });
  const files = [join(folder.path, "beauty.####.exr")];
  const controller = new AbortController();
  const stopped = await publishWith(session, request(files), {
    signal: controller.signal,
    settings: { tools },
    progress: { expect() {}, done: () => controller.abort(new Error("killed")) },
  });
  strictEqual(stopped.report.ok, false);
  const [unfinished] = (await session.query("select id from AssetVersion")).data as E[];
  const setMeta = (key: string, value: string) => session.update("Metadata", [unfinished.id, key], { value });
  await setMeta("ferry_publisher", JSON.stringify({ host: "render-07.invalid", pid: 4242, token: "t" }));
  return { files, versionId: unfinished.id as string, setMeta };
}

Deno.test({
  ...options,
  name: "trackerOffset measures a skewed local clock against the embedded tracker's Date header, within 2 s",
  fn: async () => {
    await using fixture = await publishFixture();
    const { session } = fixture;
    strictEqual(await trackerOffset(session), 0);
    near(await trackerOffset(session, { now: behind }), 60_000, 2_000, "offset of a clock 60 s behind");
    near(await trackerOffset(session, { now: ahead }), -60_000, 2_000, "offset of a clock 60 s ahead");
    near(await trackerNow(session, { now: behind }), Date.now(), 2_000, "tracker time from a clock 60 s behind");
    near(await trackerNow(session, { now: ahead }), Date.now(), 2_000, "tracker time from a clock 60 s ahead");

    // Kept per session and clock: a second call asks nothing of the server until its life is over.
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const skewed = () => Date.now() + 30_000;
    near(await trackerOffset(session, { now: skewed, fetch: counting }), -30_000, 2_000, "offset");
    await Promise.all([trackerOffset(session, { now: skewed, fetch: counting }), trackerNow(session, { now: skewed })]);
    strictEqual(requests, 1);
    await trackerOffset(session, { now: skewed, fetch: counting, lifeMs: 0 });
    strictEqual(requests, 2);
  },
});

Deno.test({
  ...options,
  name:
    "ValidateNotInFlight judges a heartbeat from a publisher whose clock is 60 s behind the tracker as fresh: refused, not taken over",
  fn: async () => {
    await using fixture = await publishFixture();
    const { session } = fixture;
    const { files, setMeta } = await foreignUnfinished(fixture);

    // The writer on a machine 60 s behind stamps on the tracker's clock: heard from just now.
    const stamp = new Date(await trackerNow(session, { now: behind })).toISOString();
    await setMeta("ferry_heartbeat", stamp);
    // Read by machines with a right clock, or one 60 s ahead or behind: the same age, about 0 s.
    for (const now of [Date.now, ahead, behind]) near(await trackerAge(session, stamp, { now }), 0, 2, "age");
    // Stamped on its own clock, the same heartbeat would have looked a minute old, past inFlightSeconds.
    near(await trackerAge(session, new Date(behind()).toISOString()), 60, 2, "age of a local-clock stamp");

    const { report } = await publishWith(session, request(files), { settings: { tools } });
    strictEqual(report.ok, false);
    const refusal = report.results.find((result) => !result.success)?.error?.message ?? "";
    ok(
      /right now by process 4242 on 'render-07.invalid' \(last heard [01] s ago\); if that publish was stopped, run this again in (19|20) s/
        .test(refusal),
      refusal,
    );
    const [version] = (await session.query("select is_published from AssetVersion")).data as E[];
    strictEqual(version.is_published, false);
  },
});

Deno.test({
  ...options,
  name:
    "ValidateNotInFlight does not believe a publisher whose clock is 60 s ahead alive for longer: its 25 s old heartbeat is 25 s old, and it is resumed",
  fn: async () => {
    await using fixture = await publishFixture();
    const { session } = fixture;
    const { files, versionId, setMeta } = await foreignUnfinished(fixture);

    // The writer on a machine 60 s ahead last beat 25 s ago, on the tracker's clock (its beat then).
    const stamp = new Date(await trackerNow(session, { now: ahead }) - 25_000).toISOString();
    await setMeta("ferry_heartbeat", stamp);
    for (const now of [Date.now, ahead, behind]) near(await trackerAge(session, stamp, { now }), 25, 2, "age");
    // Stamped on its own clock, it would have looked 35 s in the future: alive for another 55 s.
    strictEqual(await trackerAge(session, new Date(ahead() - 25_000).toISOString()), 0);

    // 25 s is past inFlightSeconds (20 s): the abandoned version is taken over and completed.
    const resumed = await publishWith(session, request(files), { settings: { tools } });
    ok(resumed.report.ok, JSON.stringify(resumed.report.results.filter((r) => !r.success)));
    strictEqual((resumed.report.created[0] as E).versionId, versionId);
  },
});

Deno.test({
  ...options,
  name: "trackerOffset is 0 when the tracker's clock is unknown (no Date header, request failed), saying so in debug",
  fn: async () => {
    const said: string[] = [];
    const debug = (message: string) => said.push(message);
    const noDate: typeof fetch = () => Promise.resolve(new Response(null, { status: 404 }));
    strictEqual(await trackerOffset({ serverUrl: "http://tracker.invalid" }, { now: ahead, fetch: noDate, debug }), 0);
    ok(
      /http:\/\/tracker\.invalid\/api answered without a usable Date header \(none\); offset 0/.test(said[0]!),
      said[0],
    );

    const badDate: typeof fetch = () => Promise.resolve(new Response(null, { headers: { date: "yesterday" } }));
    strictEqual(await trackerOffset({ serverUrl: "http://a.invalid" }, { now: ahead, fetch: badDate, debug }), 0);
    ok(/without a usable Date header \(yesterday\)/.test(said[1]!), said[1]);

    // Nothing listens on port 9 here: the request fails; local time stands (today's behaviour).
    const unreachable = { serverUrl: "http://127.0.0.1:9" };
    strictEqual(await trackerOffset(unreachable, { now: behind, debug }), 0);
    ok(/^Tracker clock unknown: http:\/\/127\.0\.0\.1:9\/api failed \(.+\); offset 0$/.test(said[2]!), said[2]);
    near(await trackerNow(unreachable, { now: behind, debug }), behind(), 1_000, "local time");
    strictEqual(said.length, 3, "an unknown offset is not asked again at once");
  },
});
