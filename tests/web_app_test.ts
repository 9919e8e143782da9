/**
 * The web view's routes through Hono's `app.request()`: the token rules, the Browse pages and the
 * media proxy on a real publish to the embedded tracker, the bridge proxy on a real bridge, and
 * the Events page on a real pipeline store.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { toWireEvent } from "../src/events/event.ts";
import { LEECH_TOPIC, openStore, type PipelineStore, PROC_TOPIC } from "../src/store/mod.ts";
import { createWebApp, type WebAppOptions } from "../services/web/app.ts";
import { proxyComponent } from "../services/web/media_proxy.ts";
import { publishFixture, publishWith, writeFrames } from "./_publish.ts";
import { bridgeFixture, parseEvents, waitPlugins } from "./_bridge.ts";
import { storeKinds } from "./_store.ts";
import { storeAt } from "../services/web/event_log.ts";
import { processorApp } from "../services/processor/processor_app.ts";
import { emptyMetrics } from "../services/processor/processor_metrics.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const options = { sanitizeOps: false, sanitizeResources: false };
const TOKEN = "t".repeat(43);
const HOST = "127.0.0.1:8072";
const NO_TOOLS = {
  tools: { ffmpeg: "/nonexistent/ffmpeg", ffprobe: "/nonexistent/ffprobe", oiiotool: "/nonexistent/oiiotool" },
};
const ASSETS = {
  "app.js": { body: "console.log(1)", type: "text/javascript; charset=utf-8" },
  "style.css": { body: "body{}", type: "text/css; charset=utf-8" },
};

type Fixture = Awaited<ReturnType<typeof publishFixture>>;

function app(fixture: Fixture | undefined, more: Partial<WebAppOptions> = {}) {
  const running = fixture?.running;
  return createWebApp({
    token: TOKEN,
    version: "0.1.0",
    tracker: {
      session: fixture?.session as WebAppOptions["tracker"]["session"],
      credentials: { server: running?.url ?? "http://127.0.0.1:9", apiUser: running?.apiUser ?? "x", apiKey: "k" },
    },
    bridge: () => Promise.resolve(undefined),
    store: () => Promise.resolve(undefined),
    home: "/tmp/ferry-home",
    storeLocation: "/tmp/ferry-home/store.db",
    assets: ASSETS,
    pid: 1,
    ...more,
    ...(running
      ? {
        tracker: {
          session: fixture!.session,
          credentials: { server: running.url, apiUser: running.apiUser, apiKey: running.apiKey },
        },
      }
      : {}),
  });
}

/** A request as the browser sends it after signing in. */
function get(web: ReturnType<typeof app>, path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  return web.request(path, {
    ...init,
    headers: { host: HOST, cookie: `ferry_web_8072=${TOKEN}`, accept: "text/html", ...init.headers },
  });
}

Deno.test("createWebApp() signs in with ?token= once: an HttpOnly SameSite=Strict cookie and a redirect without it", async () => {
  const web = app(undefined);
  const response = await web.request(`/publishes?token=${TOKEN}`, { headers: { host: HOST } });
  strictEqual(response.status, 303);
  strictEqual(response.headers.get("location"), "/publishes");
  const cookie = response.headers.get("set-cookie") ?? "";
  match(cookie, new RegExp(`^ferry_web_8072=${TOKEN};`));
  match(cookie, /HttpOnly/);
  match(cookie, /SameSite=Strict/);
  match(cookie, /Path=\//);

  const health = await web.request("/health", { headers: { host: HOST } });
  deepStrictEqual(await health.json(), { ok: true, service: "web", version: "0.1.0", pid: 1 });
  const asset = await get(web, "/assets/style.css");
  strictEqual(asset.status, 200);
  strictEqual(await asset.text(), "body{}");
  match(asset.headers.get("content-security-policy") ?? "", /default-src 'self'/);
  const bearer = await web.request("/assets/app.js", { headers: { host: HOST, authorization: `Bearer ${TOKEN}` } });
  strictEqual(bearer.status, 200);
});

Deno.test("createWebApp() refuses a missing or wrong token, a foreign Host and a foreign Origin", async () => {
  const web = app(undefined);
  const missing = await web.request("/", { headers: { host: HOST, accept: "text/html" } });
  strictEqual(missing.status, 401);
  match(await missing.text(), /Not signed in: open the URL &#39;deno task web&#39; printed/);
  const missingJson = await web.request("/api/jobs", { headers: { host: HOST } });
  strictEqual(missingJson.status, 401);
  strictEqual((await missingJson.json()).error.code, "unauthorized");
  const wrongQuery = await web.request("/?token=nope", { headers: { host: HOST } });
  strictEqual(wrongQuery.status, 401);
  strictEqual(wrongQuery.headers.get("set-cookie"), null);
  const wrongCookie = await web.request("/api/jobs", { headers: { host: HOST, cookie: "ferry_web_8072=nope" } });
  strictEqual(wrongCookie.status, 401);
  const otherPort = await web.request("/api/jobs", { headers: { host: HOST, cookie: `ferry_web_9999=${TOKEN}` } });
  strictEqual(otherPort.status, 401, "the cookie of another port's view does not count");

  const rebinding = await get(web, "/api/jobs", { headers: { host: "evil.example:8072" } });
  strictEqual(rebinding.status, 403);
  const body = await rebinding.json();
  strictEqual(body.error.code, "forbidden_host");
  match(body.error.message, /evil\.example:8072/);
  const foreign = await get(web, "/api/jobs", { headers: { origin: "http://evil.example" } });
  strictEqual(foreign.status, 403);
  strictEqual((await foreign.json()).error.code, "forbidden_origin");
  const otherView = await get(web, "/events/x/retry", { method: "POST", headers: { origin: "http://127.0.0.1:8071" } });
  strictEqual(otherView.status, 403, "another port is another origin");
  for (const host of ["localhost:8072", "[::1]:8072", "127.0.0.2:8072"]) {
    const ok200 = await web.request("/health", { headers: { host } });
    strictEqual(ok200.status, 200, host);
  }
  const sameOrigin = await get(web, "/assets/app.js", { headers: { origin: `http://${HOST}` } });
  strictEqual(sameOrigin.status, 200);
  const unknown = await get(web, "/nowhere");
  strictEqual(unknown.status, 404);
  match(await unknown.text(), /No page &#39;GET \/nowhere&#39;/);
});

Deno.test({
  ...options,
  name: "createWebApp() browses a published version: projects, contexts, versions, components and search",
  fn: async () => {
    await using fixture = await publishFixture();
    const paths = await writeFrames(join(fixture.folder.path, "renders"), [1001, 1002, 1003]);
    const { report } = await publishWith(fixture.session, {
      context: { path: "demo/sq010/sh010", task: "lighting" },
      instances: [{
        family: "render",
        name: "beauty",
        files: [join(fixture.folder.path, "renders", "beauty.####.exr")],
      }],
      comment: "first <light>",
    }, { settings: NO_TOOLS });
    ok(report.ok, JSON.stringify(report.results.filter((result) => !result.success)));
    const versionId = (report.created[0] as E).versionId as string;
    const web = app(fixture);

    const front = await (await get(web, "/")).text();
    match(front, new RegExp(`href="/browse/${fixture.made.project.id}"><span class="kind">Project</span> demo</a>`));
    const project = await (await get(web, `/browse/${fixture.made.project.id}`)).text();
    match(project, /<h2 id="group-Sequence">Sequences<\/h2>/);
    match(project, new RegExp(`href="/browse/${fixture.made.sequence.id}"`));
    match(project, new RegExp(`href="/version/${versionId}"`), "a project lists its newest versions");
    match(project, /Newest versions in the project/);
    const sequence = await (await get(web, `/browse/${fixture.made.sequence.id}`)).text();
    match(sequence, new RegExp(`href="/version/${versionId}"`), "a sequence lists the versions below it");
    const shot = await (await get(web, `/browse/${fixture.made.shot.id}`)).text();
    match(shot, /Tasks/);
    match(shot, new RegExp(`href="/version/${versionId}"`));
    match(shot, /beauty v001/);
    const task = await (await get(web, `/browse/${fixture.made.task.id}`)).text();
    match(task, new RegExp(`href="/version/${versionId}"`), "a task lists the versions made for it");

    const versionResponse = await get(web, `/version/${versionId}`);
    strictEqual(versionResponse.status, 200);
    const version = await versionResponse.text();
    match(version, /<h1>beauty v001<\/h1>/);
    match(version, /first &lt;light&gt;/, "the note, escaped");
    match(version, /Pending Review/);
    match(version, /1001-1003/);
    match(version, /\(3 files\)/);
    match(version, /6\.1 kB/);
    const sha1 = (await fixture.session.query(
      `select metadata from SequenceComponent where version_id is "${versionId}"`,
    )).data[0]!.metadata.find((item: E) => item.key === "ferry_fingerprint").value as string;
    ok(version.includes(sha1), `the fingerprint ${sha1} is shown`);
    match(version, /ftrack\.server/);
    ok(!version.includes("<video"), "no review movie without ffmpeg");
    match(version, /<h2>Versions of beauty<\/h2>/);
    match(version, /<span aria-current="page">v001<\/span>/);

    const search = await (await get(web, "/search?q=BEAU")).text();
    match(search, /Versions of assets \(1\)/);
    match(search, new RegExp(`href="/version/${versionId}"`));
    match(search, /demo \/ sq010 \/ sh010/);
    const searchShot = await (await get(web, "/search?q=sh0")).text();
    match(searchShot, /Projects, contexts and tasks \(1\)/);

    const missing = await get(web, "/version/00000000-0000-0000-0000-000000000000");
    strictEqual(missing.status, 404);
    match(await missing.text(), /No asset version with id &#39;00000000-0000-0000-0000-000000000000&#39;/);
    const badId = await get(web, `/browse/${encodeURIComponent('x" or 1')}`);
    strictEqual(badId.status, 404);

    // Media: a member file of the sequence, whole and by ranges (a <video> seeks with them).
    const [member] = (await fixture.session.query(
      `select id from FileComponent where container.version_id is "${versionId}"`,
    )).data as E[];
    ok(member, "the sequence has members");
    const whole = await get(web, `/media/${member.id}`);
    strictEqual(whole.status, 200);
    strictEqual(whole.headers.get("accept-ranges"), "bytes");
    strictEqual(whole.headers.get("content-type"), "application/octet-stream");
    const bytes = new Uint8Array(await whole.arrayBuffer());
    const frames = await Promise.all(paths.map((path) => readFile(path)));
    ok(
      frames.some((frame) => frame.length === bytes.length && frame.every((b, i) => b === bytes[i])),
      "the bytes are one of the published frames",
    );
    const ranged = await get(web, `/media/${member.id}`, { headers: { range: "bytes=100-1123" } });
    strictEqual(ranged.status, 206);
    strictEqual(ranged.headers.get("content-range"), `bytes 100-1123/${bytes.length}`);
    deepStrictEqual(new Uint8Array(await ranged.arrayBuffer()), bytes.subarray(100, 1124));
    const tail = await get(web, `/media/${member.id}`, { headers: { range: "bytes=-10" } });
    deepStrictEqual(new Uint8Array(await tail.arrayBuffer()), bytes.subarray(bytes.length - 10));
    const beyond = await get(web, `/media/${member.id}`, { headers: { range: `bytes=${bytes.length + 5}-` } });
    strictEqual(beyond.status, 416);
    strictEqual(beyond.headers.get("content-range"), `bytes */${bytes.length}`);
    const noComponent = await get(web, "/media/00000000-0000-0000-0000-000000000000");
    strictEqual(noComponent.status, 404);
    strictEqual((await noComponent.json()).error.code, "component_not_found");
  },
});

Deno.test({
  ...options,
  name:
    "createWebApp() shows the bridge's jobs, passes a job's event stream through with the bridge's token hidden, and cancels a job",
  fn: async () => {
    const web0 = app(undefined);
    const none = await get(web0, "/publishes");
    match(await none.text(), /No bridge runs for FERRY_HOME <code>\/tmp\/ferry-home<\/code>/);
    const noneApi = await get(web0, "/api/jobs", { headers: { accept: "application/json" } });
    strictEqual(noneApi.status, 503);
    strictEqual((await noneApi.json()).error.code, "no_bridge");

    await using plugins = await waitPlugins();
    await using fixture = await bridgeFixture({ pluginPaths: [plugins.path] });
    await writeFrames(fixture.files, [1001, 1002]);
    const posted = await fixture.request("/v1/publish", {
      body: {
        host: "blender",
        context: { path: "demo/sq010/sh010", task: "lighting" },
        instances: [{ family: "render", name: "beauty", files: [join(fixture.files, "beauty.####.exr")] }],
        comment: "through the bridge",
      },
    });
    strictEqual(posted.status, 202);
    const { job } = await posted.json();
    const web = app(undefined, {
      bridge: () => Promise.resolve({ url: fixture.bridge.url, token: fixture.bridge.token }),
    });
    const stream = await get(web, `/api/jobs/${job.id}/events`, { headers: { accept: "text/event-stream" } });
    strictEqual(stream.status, 200);
    strictEqual(stream.headers.get("content-type"), "text/event-stream");
    const text = await stream.text();
    ok(!text.includes(fixture.bridge.token), "the bridge's token never reaches the browser");
    const events = parseEvents(text);
    deepStrictEqual(
      events.filter((event) => event.type === "state").map((event) => (event.data as E).state),
      ["queued", "running", "succeeded"],
    );
    ok(events.some((event) => event.type === "result" && (event.data as E).plugin === "IntegrateVersion"));
    const replay = parseEvents(
      await (await get(web, `/api/jobs/${job.id}/events`, { headers: { "last-event-id": String(events.length - 1) } }))
        .text(),
    );
    deepStrictEqual(replay, events.slice(-1), "Last-Event-ID goes to the bridge");

    const list = await (await get(web, "/api/jobs", { headers: { accept: "application/json" } })).json();
    strictEqual(list.jobs[0].id, job.id);
    strictEqual(list.jobs[0].state, "succeeded");
    const publishes = await (await get(web, "/publishes")).text();
    match(publishes, new RegExp(`<tr data-job="${job.id}" data-state="succeeded">`));
    match(publishes, /demo\/sq010\/sh010 · lighting/);
    match(publishes, /data-page="publishes"/);
    const jobPage = await (await get(web, `/publishes/${job.id}`)).text();
    match(jobPage, /IntegrateVersion/);
    match(jobPage, /id="job-report"/);
    match(jobPage, /through the bridge/);
    // A failed publish names the plugin, the instance and the error.
    const failing = await (await fixture.request("/v1/publish", {
      body: {
        host: "blender",
        context: { path: "demo/sq010/sh010", task: "lighting" },
        instances: [{ family: "render", name: "broken", files: [join(fixture.files, "missing.####.exr")] }],
      },
    })).json();
    const failedEvents = parseEvents(await (await get(web, `/api/jobs/${failing.job.id}/events`)).text());
    strictEqual((failedEvents.at(-1)!.data as E).state, "failed");
    const failedRow = await (await get(web, "/publishes")).text();
    match(failedRow, new RegExp(`<tr data-job="${failing.job.id}" data-state="failed">`));
    const failedJob =
      (await (await get(web, `/api/jobs/${failing.job.id}`, { headers: { accept: "application/json" } }))
        .json()).job;
    const failure = failedJob.results.find((result: E) => !result.success);
    ok(failure, "a plugin failed");
    ok(
      failedRow.includes(`${failure.plugin}${failure.instance ? ` on ${failure.instance}` : ""}: `),
      `the row names ${failure.plugin} and ${failure.instance}`,
    );
    const failedPage = await (await get(web, `/publishes/${failing.job.id}`)).text();
    match(failedPage, /<li class="failed">/);

    // Cancel from the job's page.
    const slow = await (await fixture.request("/v1/publish", {
      body: {
        host: "blender",
        context: { path: "demo/sq010/sh010", task: "lighting" },
        instances: [{
          family: "render",
          name: "slow",
          files: [join(fixture.files, "beauty.####.exr")],
          options: { waitMs: 20_000 },
        }],
      },
    })).json();
    match(await (await get(web, `/publishes/${slow.job.id}`)).text(), /<button type="submit">Cancel<\/button>/);
    const cancel = await get(web, `/publishes/${slow.job.id}/cancel`, {
      method: "POST",
      headers: { origin: `http://${HOST}`, "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    strictEqual(cancel.status, 303);
    strictEqual(cancel.headers.get("location"), `/publishes/${slow.job.id}`);
    const cancelled = parseEvents(await (await get(web, `/api/jobs/${slow.job.id}/events`)).text());
    strictEqual((cancelled.at(-1)!.data as E).state, "cancelled");
    ok(!(await (await get(web, `/publishes/${slow.job.id}`)).text()).includes(">Cancel</button>"));

    const unknown = await get(web, "/publishes/00000000-0000-4000-8000-000000000000");
    strictEqual(unknown.status, 404);
  },
});

async function failedJob(store: PipelineStore) {
  const { event: source } = await store.dispatch({
    topic: LEECH_TOPIC,
    project: "demo",
    payload: toWireEvent({ id: crypto.randomUUID(), topic: "ferry.fail", data: { n: 7 } }),
    description: "ferry.fail from the tracker",
  });
  const job = await store.enroll(LEECH_TOPIC, PROC_TOPIC, { sender: "processor", maxRetries: 0 });
  ok(job);
  const error = new Error("flaky: boom on 7");
  ok(await store.failJob(job.event.id, "processor", { error: { message: error.message, stack: error.stack } }));
  return { source, job: job.event };
}

for (const { kind, site: makeSite, ignore } of await storeKinds()) {
  Deno.test({
    ...options,
    ignore,
    name:
      `createWebApp() lists the event log with filters, shows a failed job's error and stack, and retries it (${kind})`,
    fn: async () => {
      const none = await get(app(undefined), "/events");
      match(await none.text(), /No pipeline store at <code>\/tmp\/ferry-home\/store.db<\/code> yet/);

      await using site = await makeSite();
      await (await site.open()).close(); // the services made it
      const opened = storeAt(site.location);
      const store = (await opened.find())!;
      await using _closed = { [Symbol.asyncDispose]: () => opened.close() };
      ok(store, `the store at ${site.location} opens`);
      const { source, job } = await failedJob(store);
      await store.dispatch({ topic: "entity.version.created", project: "other", description: "a version" });
      const web = app(undefined, { store: () => Promise.resolve(store) });

      const all = await (await get(web, "/events")).text();
      match(all, /id="queue-depth">1</);
      match(all, /id="queue-lag">\d/);
      match(all, new RegExp(`data-event="${job.id}" data-status="failed"`));
      match(all, /entity\.version\.created/);
      const failed = await (await get(web, "/events?status=failed&topic=&project=demo")).text();
      match(failed, new RegExp(`data-event="${job.id}"`));
      ok(!failed.includes("entity.version.created"), "filtered by status and project");
      match(failed, /<option value="failed"\s+selected>/);
      const limited = await (await get(web, "/events?limit=1")).text();
      match(limited, /href="\/events\?limit=2">Show up to 2 events<\/a>/);
      const byTopic = await (await get(web, `/events?topic=${LEECH_TOPIC}`)).text();
      match(byTopic, new RegExp(`data-event="${source.id}"`));
      ok(!byTopic.includes(`data-event="${job.id}"`));
      const bad = await get(web, "/events?status=broken");
      strictEqual(bad.status, 400);
      match(await bad.text(), /Invalid filter &#39;status&#39; = &#39;broken&#39;/);

      const detail = await (await get(web, `/events/${job.id}`)).text();
      match(detail, /flaky: boom on 7/);
      match(detail, /<pre class="stack">Error: flaky: boom on 7\n\s+at /);
      match(detail, /<button type="submit" id="retry">Retry<\/button>/);
      match(detail, new RegExp(`href="/events/${source.id}"`));

      const refused = await get(web, `/events/${job.id}/retry`, {
        method: "POST",
        headers: { origin: "http://evil.example" },
      });
      strictEqual(refused.status, 403);
      strictEqual((await store.getEvent(job.id))!.status, "failed", "a foreign page cannot retry");

      const retried = await get(web, `/events/${job.id}/retry`, {
        method: "POST",
        headers: { origin: `http://${HOST}`, "content-type": "application/x-www-form-urlencoded" },
        body: "",
      });
      strictEqual(retried.status, 303);
      strictEqual(retried.headers.get("location"), `/events/${job.id}?retried=1`);
      const after = (await store.getEvent(job.id))!;
      strictEqual(after.status, "pending");
      strictEqual(after.retries, 0);
      const api = await (await get(web, `/api/events/${job.id}`, { headers: { accept: "application/json" } })).json();
      strictEqual(api.event.status, "pending");
      const shown = await (await get(web, `/events/${job.id}?retried=1`)).text();
      match(shown, /Retry requested/);
      ok(!shown.includes('id="retry"'), "no Retry button on a pending job");
      match(shown, /data-page="event"/, "a pending job's page follows it live");
      const again = await get(web, `/events/${source.id}/retry`, {
        method: "POST",
        headers: { accept: "application/json" },
      });
      strictEqual(again.status, 200, "a source's id retries its job");
      const missing = await get(web, "/events/nope/retry", { method: "POST" });
      strictEqual(missing.status, 404);
    },
  });
}

Deno.test({
  ...options,
  name: "proxyComponent() follows a hosted site's redirect to signed storage without the tracker credentials",
  fn: async () => {
    // Stands in for a hosted ftrack site: /component/get answers with a signed storage URL.
    const seen: Array<{ path: string; apiKey: string | null; query: string }> = [];
    await using site = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (request) => {
      const url = new URL(request.url);
      seen.push({ path: url.pathname, apiKey: request.headers.get("ftrack-api-key"), query: url.search });
      if (url.pathname === "/component/get") {
        return new Response(null, { status: 302, headers: { location: "/storage/c1?signature=s" } });
      }
      return new Response("0123456789", { headers: { "content-length": "10" } });
    });
    const server = `http://127.0.0.1:${site.addr.port}`;
    const response = await proxyComponent({ server, apiUser: "pipeline", apiKey: "secret-key" }, "c1", {
      range: "bytes=2-5",
      fileType: ".mp4",
    });
    strictEqual(response.status, 206);
    strictEqual(await response.text(), "2345");
    strictEqual(response.headers.get("content-type"), "video/mp4");
    strictEqual(response.headers.get("content-range"), "bytes 2-5/10");
    strictEqual(seen.length, 2);
    strictEqual(seen[0]!.apiKey, "secret-key", "the tracker gets the credentials");
    strictEqual(seen[1]!.path, "/storage/c1");
    strictEqual(seen[1]!.apiKey, null, "the storage does not");
    ok(!seen[1]!.query.includes("secret-key"));
  },
});

Deno.test({
  ...options,
  name: "createWebApp() shows a running processor's own figures on the Events page, and says when none answers",
  fn: async () => {
    await using store = await openStore(":memory:");
    const processor = processorApp(
      () => ({ ...emptyMetrics(), processed: 12, failed: 2, inFlight: 1, lagSeconds: 0.25, maxLagSeconds: 3 }),
      () => ({
        version: "0.1.0",
        variant: "staging",
        sender: "processor@test",
        holder: "h",
        store: { kind: "sqlite", location: ":memory:", schemaVersion: 1 },
        handlers: ["a", "b"],
        handlerFailures: [],
        startedAt: new Date(0).toISOString(),
      }),
    );
    await using server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, processor.fetch);
    const url = `http://127.0.0.1:${server.addr.port}`;
    const running = await (await get(
      app(undefined, { store: () => Promise.resolve(store), processorUrl: url }),
      "/events",
    ))
      .text();
    match(running, new RegExp(`running at <code>${url}</code> \\(staging, 2 handlers`));
    match(running, /12 \/ 2/);
    match(running, /id="processor-lag">0\.3 s, largest 3\.0 s</);
    const absent = await (await get(
      app(undefined, { store: () => Promise.resolve(store), processorUrl: "http://127.0.0.1:9" }),
      "/events",
    )).text();
    match(absent, /No processor answers at <code>http:\/\/127\.0\.0\.1:9<\/code>/);
  },
});
