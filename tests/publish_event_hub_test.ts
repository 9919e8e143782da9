/**
 * The announcement of a publish leaves the session's event hub as it found it: a long-lived
 * process keeps its hub (and the `ftrack.update` listeners on it), a one-shot command whose hub the
 * announcement connected gets it disconnected (so it can exit).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { Event, type Session } from "@ftrack/api";
import { cachedQuery, trackerCacheOf } from "../src/tracker/cached_query.ts";
import { hubSession, makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { PLUGINS, publishWith, tempFolder, until, writeFrames } from "./_publish.ts";
import { discover } from "../publish/discover.ts";
import { definePlugin } from "../publish/plugin.ts";
import { parsePublishRequest } from "../publish/request.ts";
import { runPublish } from "../publish/run_publish.ts";
import { parsePublishSettings } from "../publish/settings.ts";
import { bridgeFixture, readEvents } from "./_bridge.ts";

const options = { sanitizeOps: false, sanitizeResources: false };

/** The hub holds a socket (connected or connecting): what `announce()` calls "up". */
const hubUp = (session: Session) =>
  session.eventHub.isConnected() || Boolean((session.eventHub as unknown as { _socketIo?: object | null })._socketIo);

/** A tracker with the demo shot, a ferry session (hub as asked), an artist listening to announcements. */
async function hubFixture(eventHub: boolean) {
  const running = await memoryTracker();
  const session = await openSession(running, { eventHub });
  const made = await makeShot(session);
  const { user, apiKey } = running.tracker.addUser({ username: "artist" });
  const artist = await hubSession(running, String(user.username), apiKey);
  const announced: string[] = [];
  artist.eventHub.subscribe("topic=ferry.publish.finished", (event) => {
    announced.push(String((event.data as { asset?: unknown }).asset));
  });
  await until(() => artist.eventHub.isConnected() && (!eventHub || session.eventHub.isConnected()), "the event hubs");
  // The subscription is sent asynchronously: an announcement of the artist's own reaches it once it is registered.
  let probed = false;
  artist.eventHub.subscribe("topic=ferry.test.probe", () => void (probed = true));
  await until(async () => {
    await artist.eventHub.publish(new Event("ferry.test.probe", {}));
    return probed;
  }, "the artist's subscriptions");
  const folder = await tempFolder();
  return {
    running,
    session,
    made,
    artist,
    announced,
    folder,
    async file(name: string) {
      const path = join(folder.path, `${name}.abc`);
      await Deno.writeTextFile(path, `${name} alembic bytes `.repeat(200));
      return path;
    },
    async [Symbol.asyncDispose]() {
      artist[Symbol.dispose]();
      session.eventHub.disconnect();
      await folder[Symbol.asyncDispose]();
      await running[Symbol.asyncDispose]();
    },
  };
}

const request = (name: string, path: string) => ({
  context: { path: "demo/sq010/sh010", task: "lighting" },
  instances: [{ family: "geometry", name, files: [path] }],
});

Deno.test({
  name: "announce() leaves a connected hub connected: the session's tracker cache still hears ftrack.update",
  ...options,
  fn: async () => {
    await using fixture = await hubFixture(true);
    const { session, made, artist } = fixture;
    const cache = trackerCacheOf(session); // made while the hub is connected: it listens to ftrack.update
    const { report, results } = await publishWith(session, request("layout", await fixture.file("layout")));
    ok(report.ok, JSON.stringify(results.filter((r) => !r.success).map((r) => r.error?.message)));
    await until(() => fixture.announced.includes("layout"), "the announcement");
    ok(session.eventHub.isConnected(), "the publish disconnected the session's hub");

    const lookup = `select id, name from Task where id is "${made.task.id}"`;
    strictEqual((await cachedQuery(session, lookup))[0]?.name, "lighting");
    strictEqual((await cachedQuery(session, lookup))[0]?.name, "lighting");
    ok(cache.stats.hits > 0, "the second lookup came from the cache");
    const invalidated = cache.stats.invalidated;
    await artist.update("Task", [made.task.id], { name: "comp" });
    await until(async () => (await cachedQuery(session, lookup))[0]?.name === "comp", "the renamed task");
    ok(cache.stats.invalidated > invalidated, "the artist's ftrack.update invalidated the cache");
  },
});

Deno.test({
  name: "announce() connects a disconnected hub for the announcement and disconnects it afterwards",
  ...options,
  fn: async () => {
    await using fixture = await hubFixture(false);
    const { session } = fixture;
    ok(!hubUp(session));
    const { report } = await publishWith(session, request("layout", await fixture.file("layout")));
    ok(report.ok);
    await until(() => fixture.announced.includes("layout"), "the announcement");
    ok(!hubUp(session), "the hub the announcement connected is left connected");
    // A second publish on the same session connects it again at once, and lets it go again.
    const again = await publishWith(session, request("props", await fixture.file("props")));
    ok(again.report.ok);
    await until(() => fixture.announced.includes("props"), "the second announcement");
    ok(!hubUp(session));
  },
});

Deno.test({
  name: "announce() of concurrent publishes sharing a session: every one announces, the last disconnects",
  ...options,
  fn: async () => {
    await using fixture = await hubFixture(false);
    const { session } = fixture;
    const names = ["layout", "props", "camera"];
    const paths = await Promise.all(names.map((name) => fixture.file(name)));
    const outcomes = await Promise.all(names.map((name, i) => publishWith(session, request(name, paths[i]!))));
    deepStrictEqual(outcomes.map((outcome) => outcome.report.ok), [true, true, true]);
    deepStrictEqual(
      outcomes.flatMap((outcome) => outcome.results.map((r) => r.error?.message ?? "")).filter(Boolean),
      [],
    );
    await until(() => names.every((name) => fixture.announced.includes(name)), "the three announcements");
    ok(!hubUp(session), "the hub stays connected after the last announcement");
  },
});

Deno.test({
  name: "announce() does not close a socket another session of the same user holds",
  ...options,
  fn: async () => {
    await using fixture = await hubFixture(false);
    const { session, running } = fixture;
    // Same server, user and key: the official client gives both hubs one socket.
    await using listener = Object.assign(await openSession(running, { eventHub: true }), {
      [Symbol.asyncDispose]: async () => {},
    });
    await until(() => listener.eventHub.isConnected(), "the listener's hub");
    const { report } = await publishWith(session, request("layout", await fixture.file("layout")));
    ok(report.ok);
    await until(() => fixture.announced.includes("layout"), "the announcement");
    ok(!hubUp(session), "the publishing session's hub is let go");
    ok(listener.eventHub.isConnected(), "the other session's hub lost its socket");
    listener.eventHub.disconnect();
  },
});

Deno.test({
  name: "startBridge() keeps its session's hub up across concurrent publishes: every job announces",
  ...options,
  fn: async () => {
    await using fixture = await bridgeFixture({ concurrency: 2 });
    const hub = fixture.bridge.tracker.session.eventHub;
    const { user, apiKey } = fixture.running.tracker.addUser({ username: "artist" });
    using artist = await hubSession(fixture.running, String(user.username), apiKey);
    const announced: string[] = [];
    artist.eventHub.subscribe("topic=ferry.publish.finished", (event) => {
      announced.push(String((event.data as { asset?: unknown }).asset));
    });
    let probed = false;
    artist.eventHub.subscribe("topic=ferry.test.probe", () => void (probed = true));
    await until(async () => {
      if (artist.eventHub.isConnected()) await artist.eventHub.publish(new Event("ferry.test.probe", {}));
      return probed;
    }, "the artist's subscriptions");
    const names = ["beauty", "fog"];
    const jobs = [];
    for (const name of names) {
      await writeFrames(join(fixture.files, name), [1, 2], { name });
      const files = [join(fixture.files, name, `${name}.####.exr`)];
      const body = {
        host: "blender",
        context: { path: "demo/sq010/sh010", task: "lighting" },
        instances: [{ family: "render", name, files }],
      };
      jobs.push((await (await fixture.request("/v1/publish", { body })).json()).job);
    }
    for (const job of jobs) await readEvents(await fixture.request(`/v1/jobs/${job.id}/events`));
    for (const job of jobs) {
      const { job: done } = await (await fixture.request(`/v1/jobs/${job.id}`)).json();
      strictEqual(done.state, "succeeded", JSON.stringify(done.error));
    }
    await until(() => names.every((name) => announced.includes(name)), "both announcements");
    ok(hub.isConnected(), "a publish disconnected the bridge's hub");
  },
});

/** Publishes with ferry's plugins and a collector that sets `context.data.eventHub` to `policy`. */
async function publishWithPolicy(session: Session, body: unknown, policy: unknown) {
  const { plugins } = await discover({ paths: [PLUGINS], hosts: ["shell"] });
  const setPolicy = definePlugin({
    name: "CollectEventHubPolicy",
    kind: "context",
    order: 0,
    process(context) {
      context.data.eventHub = policy;
    },
  });
  return await runPublish({
    request: parsePublishRequest(body),
    session,
    plugins: [setPolicy, ...plugins],
    settings: parsePublishSettings({}),
  });
}

Deno.test({
  name: "announce() follows context.data.eventHub: keep leaves it up, disconnect lets it go, a bad value is named",
  ...options,
  fn: async () => {
    await using fixture = await hubFixture(false);
    const { session } = fixture;
    const kept = await publishWithPolicy(session, request("layout", await fixture.file("layout")), "keep");
    ok(kept.report.ok);
    await until(() => fixture.announced.includes("layout"), "the announcement");
    ok(hubUp(session), "keep: the hub the announcement connected stays up");
    await until(() => session.eventHub.isConnected(), "the kept hub");

    const cut = await publishWithPolicy(session, request("props", await fixture.file("props")), "disconnect");
    ok(cut.report.ok);
    await until(() => fixture.announced.includes("props"), "the second announcement");
    ok(!hubUp(session), "disconnect: the hub found connected is disconnected");

    const bad = await publishWithPolicy(session, request("camera", await fixture.file("camera")), "sometimes");
    ok(bad.report.ok, "the version is published all the same");
    const messages = bad.results.flatMap((result) => result.records.map((record) => record.message));
    ok(
      messages.some((message) => message.includes(`context.data.eventHub must be`) && message.includes(`"sometimes"`)),
      JSON.stringify(messages),
    );
    ok(!fixture.announced.includes("camera"));
  },
});
