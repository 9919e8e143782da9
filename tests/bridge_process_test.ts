/**
 * The bridge as a process (`services/bridge/main.ts`): killed with SIGKILL mid-publish and started
 * again, it finishes the job with one published version; one bridge per FERRY_HOME; bridge.json
 * discovery and removal; exit codes.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BridgeRunningError, readBridgeInfo } from "../services/bridge/discovery.ts";
import { startBridge } from "../services/bridge/server.ts";
import { writeFrames } from "./_publish.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { bridgeEnv, bridgeFixture, parseEvents, readEvents, readEventsUntil, waitPlugins } from "./_bridge.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const options = { sanitizeOps: false, sanitizeResources: false };
const DENO = Deno.execPath();
const MAIN = new URL("../services/bridge/main.ts", import.meta.url).pathname;

/** Starts main.ts as a child process; resolves once bridge.json names it and /health answers. */
async function spawnBridge(env: Record<string, string | undefined>, args: string[] = []) {
  const child = new Deno.Command(DENO, {
    args: ["run", "--allow-all", MAIN, "--port", "0", ...args],
    env: Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)) as Record<string, string>,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream());
  let errors = "";
  const drained = stderr.pipeTo(new WritableStream({ write: (chunk) => void (errors += chunk) }));
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(new WritableStream());
  const deadline = Date.now() + 60_000;
  while (true) {
    const info = await readBridgeInfo(env.FERRY_HOME!);
    if (info?.pid === child.pid) {
      const health = await fetch(`${info.url}/health`).then((response) => response.json()).catch(() => undefined);
      if (health?.pid === child.pid) return { child, info, errors: () => errors, done: Promise.all([drained, stdout]) };
    }
    const status = await Promise.race([child.status, new Promise((resolve) => setTimeout(resolve, 100, undefined))]);
    if (status || Date.now() > deadline) throw new Error(`the bridge did not start: ${errors}`);
  }
}

/** Runs main.ts to its end; its exit code and output. */
async function runBridge(env: Record<string, string | undefined>, args: string[]) {
  const output = await new Deno.Command(DENO, {
    args: ["run", "--allow-all", MAIN, ...args],
    env: Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)) as Record<string, string>,
    clearEnv: true,
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test({
  ...options,
  name: "main.ts killed with SIGKILL mid-publish and started again finishes the job with one published version",
  fn: async () => {
    await using tracker = await memoryTracker();
    const session = await openSession(tracker);
    await makeShot(session);
    const home = await mkdtemp(join(tmpdir(), "ferry-bridge-kill-"));
    try {
      const env = bridgeEnv(home, tracker);
      const settings = join(home, "settings.json");
      await writeFile(
        settings,
        JSON.stringify({
          uploadConcurrency: 1,
          tools: { ffmpeg: "/nonexistent/ffmpeg", ffprobe: "/nonexistent/ffprobe" },
        }),
      );
      const frames = Array.from({ length: 48 }, (_, i) => 1001 + i);
      await writeFrames(join(home, "renders"), frames, { bytes: 512 * 1024 });
      const first = await spawnBridge(env, ["--settings", settings]);
      strictEqual((await stat(join(home, "bridge.json"))).mode & 0o777, 0o600, "bridge.json is the user's only");
      const auth = { authorization: `Bearer ${first.info.token}` };
      const body = {
        host: "blender",
        context: { path: "demo/sq010/sh010", task: "lighting" },
        instances: [{ family: "render", name: "beauty", files: [join(home, "renders", "beauty.####.exr")] }],
        comment: "killed and resumed",
      };
      const posted = await fetch(`${first.info.url}/v1/publish`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      strictEqual(posted.status, 202);
      const { job } = await posted.json();

      // Kill it as soon as bytes are on their way.
      const seen = await readEventsUntil(
        await fetch(`${first.info.url}/v1/jobs/${job.id}/events`, { headers: auth }),
        (events) => events.some((event) => event.type === "progress" && (event.data as E).bytes > 0),
      );
      first.child.kill("SIGKILL");
      strictEqual((await first.child.status).signal, "SIGKILL");
      await first.done;
      strictEqual((await session.query("select id from AssetVersion where is_published is true")).data.length, 0);
      const stored = JSON.parse(await readFile(join(home, "bridge", "jobs", `${job.id}.json`), "utf8"));
      strictEqual(stored.state, "running", "the job file says it was running");
      strictEqual((await readBridgeInfo(home))?.pid, first.child.pid, "the dead bridge's file is left behind");

      // Started again: the stale bridge.json is replaced, the job answers and resumes.
      const second = await spawnBridge(env, ["--settings", settings]);
      ok(second.info.token !== first.info.token);
      const auth2 = { authorization: `Bearer ${second.info.token}` };
      const rest = await readEvents(
        await fetch(`${second.info.url}/v1/jobs/${job.id}/events`, {
          headers: { ...auth2, "last-event-id": String(seen.at(-1)!.id) },
        }),
      );
      const all = parseEvents(
        await (await fetch(`${second.info.url}/v1/jobs/${job.id}/events`, { headers: auth2 })).text(),
      );
      deepStrictEqual([...seen, ...rest], all, "Last-Event-ID replays across the restart");
      const states = all.filter((event) => event.type === "state").map((event) => (event.data as E).state);
      deepStrictEqual(states, ["queued", "running", "queued", "running", "succeeded"]);
      const { job: done } = await (await fetch(`${second.info.url}/v1/jobs/${job.id}`, { headers: auth2 })).json();
      strictEqual(done.state, "succeeded", done.error);
      const versions = (await session.query("select id, version, is_published from AssetVersion")).data as E[];
      deepStrictEqual(versions.map((version) => [version.id, version.version, version.is_published]), [
        [done.versionIds[0], 1, true],
      ]);
      const members = (await session.query(
        `select id from FileComponent where container.version_id is "${done.versionIds[0]}"`,
      )).data;
      strictEqual(members.length, 48, "every frame once");

      // A second start while it lives refuses and names it; --reuse prints its URL.
      const refused = await runBridge(env, ["--port", "0"]);
      strictEqual(refused.code, 3);
      ok(refused.stderr.includes(second.info.url) && refused.stderr.includes(String(second.child.pid)), refused.stderr);
      const reused = await runBridge(env, ["--port", "0", "--reuse"]);
      strictEqual(reused.code, 0);
      strictEqual(reused.stdout.trim(), second.info.url);

      // SIGTERM: a clean stop, bridge.json removed, the log has the requests and the job's life.
      second.child.kill("SIGTERM");
      strictEqual((await second.child.status).code, 0);
      await second.done;
      strictEqual(await readBridgeInfo(home), undefined);
      const day = new Date().toISOString().slice(0, 10);
      const log = (await readFile(join(home, "logs", `bridge-${day}.jsonl`), "utf8")).trim().split("\n").map((line) =>
        JSON.parse(line)
      );
      ok(log.some((record) => record.message === "request" && record.path === "/v1/publish" && record.status === 202));
      deepStrictEqual(
        log.filter((record) => record.job === job.id).map((record) => record.message),
        ["job queued", "job started", "job resumed", "job started", "job finished"],
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  },
});

Deno.test({
  ...options,
  name:
    "startBridge() refuses while a bridge serves FERRY_HOME, replaces a stale bridge.json, and resumes jobs a stopped bridge left",
  fn: async () => {
    await using plugins = await waitPlugins();
    await using fixture = await bridgeFixture({ pluginPaths: [plugins.path] });
    const env = bridgeEnv(fixture.home, fixture.running);
    let refusal: unknown;
    await startBridge({ port: 0, env }).catch((error) => (refusal = error));
    ok(refusal instanceof BridgeRunningError, String(refusal));
    ok(refusal.message.includes(fixture.bridge.url) && refusal.message.includes(fixture.home));

    // A job stopped by a clean shutdown is resumed by the next bridge.
    await writeFrames(fixture.files, [1, 2]);
    const files = [join(fixture.files, "beauty.####.exr")];
    const body = {
      context: { path: "demo/sq010/sh010", task: "lighting" },
      instances: [{ family: "render", name: "beauty", files, options: { waitMs: 1500 } }],
    };
    const { job } = await (await fixture.request("/v1/publish", { body })).json();
    await readEventsUntil(
      await fixture.request(`/v1/jobs/${job.id}/events`),
      (events) => events.some((event) => event.type === "log" && /waiting/.test((event.data as E).message)),
    );
    await fixture.bridge.close();
    strictEqual(await readBridgeInfo(fixture.home), undefined, "bridge.json removed on close");
    strictEqual(fixture.bridge.store.get(job.id)?.state, "queued");

    // A stale bridge.json (its process is gone) does not stop the next start.
    const dead = new Deno.Command(DENO, { args: ["eval", ""] }).spawn();
    await dead.status;
    const stale = { url: "http://127.0.0.1:9", token: "x".repeat(43), pid: dead.pid, version: "0.0.1", startedAt: "" };
    await writeFile(join(fixture.home, "bridge.json"), JSON.stringify(stale));
    const bridge = await fixture.start();
    strictEqual((await readBridgeInfo(fixture.home))?.pid, Deno.pid);
    strictEqual((await readBridgeInfo(fixture.home))?.token, bridge.token);
    const events = await readEvents(await fixture.request(`/v1/jobs/${job.id}/events`));
    strictEqual((events.at(-1)!.data as E).state, "succeeded");
    strictEqual((await fixture.session.query("select id from AssetVersion where is_published is true")).data.length, 1);
  },
});

Deno.test({
  ...options,
  name: "main.ts exits 3 naming the tracker when it cannot be reached, and leaves no bridge.json",
  fn: async () => {
    const home = await mkdtemp(join(tmpdir(), "ferry-bridge-unreachable-"));
    try {
      const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (closed.addr as Deno.NetAddr).port;
      closed.close();
      const server = `http://127.0.0.1:${port}`;
      const run = await runBridge({
        FERRY_HOME: home,
        FTRACK_SERVER: server,
        FTRACK_API_USER: "ferry",
        FTRACK_API_KEY: "not-a-key",
        PATH: Deno.env.get("PATH"),
      }, ["--port", "0"]);
      strictEqual(run.code, 3, run.stderr);
      ok(run.stderr.includes(server), run.stderr);
      strictEqual(await readBridgeInfo(home), undefined);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  },
});

Deno.test({
  ...options,
  name: "main.ts answers --help and --version with 0 and bad flags with 2",
  fn: async () => {
    const env = { FERRY_HOME: "/nonexistent/ferry-home", PATH: Deno.env.get("PATH") };
    const help = await runBridge(env, ["--help"]);
    strictEqual(help.code, 0);
    ok(help.stdout.includes("Usage: deno task bridge") && help.stdout.includes("--concurrency"));
    strictEqual((await runBridge(env, ["--version"])).code, 0);
    for (
      const [args, named] of [
        [["--port", "70000"], "--port '70000'"],
        [["--host", "0.0.0.0"], "--host '0.0.0.0'"],
        [["--concurrency", "0"], "--concurrency '0'"],
        [["--nope"], "--nope"],
      ] as const
    ) {
      const run = await runBridge(env, [...args]);
      strictEqual(run.code, 2, args.join(" "));
      ok(run.stderr.includes(named), run.stderr);
    }
  },
});
