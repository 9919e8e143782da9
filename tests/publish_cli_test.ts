/**
 * `deno task publish` and `deno task scan` as a TD or a farm job runs them, as subprocesses: each
 * problem of set-up or connection is one clear line and the documented exit code (never a stack
 * trace, never 1 "validation failed"); a tracker that never answers times out naming the server;
 * a publish killed with SIGKILL is resumed at once by running it again; a report that cannot be
 * written does not make a published version look failed.
 */
import { ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { EXIT } from "../src/cli/exit_codes.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { holdingProxy, NO_REVIEW_TOOLS, tempFolder, until, writeFrames } from "./_publish.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const ROOT = new URL("../", import.meta.url).pathname;
const options = { sanitizeOps: false, sanitizeResources: false };
const NO_TOOLS = NO_REVIEW_TOOLS;

/** The parent's environment without any ferry or ftrack setting. */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !/^(FTRACK_|FERRY_)/.test(name)),
  );
}

/** A command of ferry's, run as a subprocess; `kill` ends it early. */
function spawn(script: string, args: string[], env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, ...args],
    cwd: ROOT,
    env: { ...cleanEnv(), NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output().then((out) => ({
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  }));
  return { child, output };
}

const run = (script: string, args: string[], env: Record<string, string>) => spawn(script, args, env).output;

/** Asserts a one-line message (no stack trace) matching `pattern`, and the exit code. */
function expectOneLine(result: { code: number; stderr: string }, code: number, pattern: RegExp) {
  const lines = result.stderr.trim().split("\n");
  ok(!/^\s+at /m.test(result.stderr), `a stack trace was printed:\n${result.stderr}`);
  strictEqual(lines.length, 1, `one line expected:\n${result.stderr}`);
  ok(pattern.test(lines[0]!), `${lines[0]} does not match ${pattern}`);
  strictEqual(result.code, code, result.stderr);
}

/** A free port with nothing listening on it. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A server that accepts connections and never answers. */
function silentServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    [Symbol.dispose]() {
      listener.close();
      for (const conn of held) conn.close();
    },
  };
}

Deno.test({
  ...options,
  name: "publish prints one line and exits 3 for each configuration or connection problem",
  fn: async (t) => {
    await using home = await tempFolder("ferry-home-");
    await using files = await tempFolder("ferry-files-");
    const [frame] = await writeFrames(files.path, [1001]);
    const args = [frame!, "--context", "demo/sq010/sh010", "--task", "lighting"];
    const env = { FERRY_HOME: home.path };
    await using running = await memoryTracker();
    using silent = silentServer();
    const html = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () =>
        new Response("<html><body>Not Found</body></html>", { status: 404, headers: { "content-type": "text/html" } }),
    );
    const htmlUrl = `http://127.0.0.1:${(html.addr as Deno.NetAddr).port}`;
    const site = (server: string, user = "ferry", key = "key") => ({
      ...env,
      FTRACK_SERVER: server,
      FTRACK_API_USER: user,
      FTRACK_API_KEY: key,
    });
    const fileHome = join(files.path, "beauty.1001.exr");
    const cases: Array<[string, Record<string, string>, string[], RegExp]> = [
      [
        "FTRACK_SERVER not a URL",
        site("studio.ftrackapp"),
        [],
        /^publish: Cannot use the ftrack site from the environment: FTRACK_SERVER 'studio.ftrackapp' must be the site's URL/,
      ],
      [
        "credentials missing",
        { ...env, FTRACK_SERVER: running.url },
        [],
        /FTRACK_API_USER is required with FTRACK_SERVER; FTRACK_API_KEY is required/,
      ],
      [
        "wrong credentials",
        site(running.url, running.apiUser, "wrong-key"),
        [],
        new RegExp(
          `Cannot use the tracker at '${running.url}': the API user '${running.apiUser}' or its key was refused`,
        ),
      ],
      ["nothing listening", site(`http://127.0.0.1:${freePort()}`), [], /nothing is listening there/],
      [
        "not an ftrack server",
        site(htmlUrl),
        [],
        new RegExp(`Cannot reach the tracker at '${htmlUrl}': it answers HTTP 404 \\(text/html\\)`),
      ],
      [
        "unresolvable host",
        site("http://no-such-host.invalid"),
        [],
        /'http:\/\/no-such-host.invalid'.*does not resolve/,
      ],
      [
        "never answers (--timeout)",
        site(silent.url),
        ["--timeout", "1"],
        new RegExp(`Cannot reach the tracker at '${silent.url}': it did not answer within 1 s`),
      ],
      [
        "never answers (FERRY_TRACKER_TIMEOUT)",
        { ...site(silent.url), FERRY_TRACKER_TIMEOUT: "1" },
        [],
        /did not answer within 1 s \(change the limit with --timeout <seconds> or FERRY_TRACKER_TIMEOUT\)/,
      ],
      [
        "FERRY_TRACKER_TIMEOUT not a number",
        { ...site(running.url), FERRY_TRACKER_TIMEOUT: "soon" },
        [],
        /Cannot use FERRY_TRACKER_TIMEOUT 'soon': must be a number of seconds/,
      ],
      ["FERRY_HOME is a file", { FERRY_HOME: fileHome }, [], new RegExp(`Cannot use FERRY_HOME '${fileHome}'.*`)],
    ];
    const results = await Promise.all(
      cases.map(([, caseEnv, extra]) => run("scripts/publish.ts", [...args, ...extra], caseEnv)),
    );
    for (const [i, [name, , , pattern]] of cases.entries()) {
      await t.step(name, () => expectOneLine(results[i]!, EXIT.ENVIRONMENT, pattern));
    }
    await html.shutdown();
  },
});

Deno.test({
  ...options,
  name: "publish and scan exit 2 with the reason for usage errors: bad patterns, --timeout and --report",
  fn: async () => {
    await using home = await tempFolder("ferry-home-");
    await using files = await tempFolder("ferry-files-");
    const [frame] = await writeFrames(files.path, [1001]);
    const args = ["--context", "demo/sq010/sh010", "--task", "lighting"];
    const env = { FERRY_HOME: home.path };
    const [scan, pattern, timeout, report] = await Promise.all([
      run("scripts/scan.ts", [join(files.path, "[z-a].exr")], env),
      run("scripts/publish.ts", [join(files.path, "[z-a].exr"), ...args], env),
      run("scripts/publish.ts", [frame!, ...args, "--timeout", "0"], env),
      run("scripts/publish.ts", [frame!, ...args, "--report", join(frame!, "report.json")], env),
    ]);
    for (
      const [result, expected] of [
        [scan, /^scan: Cannot use the pattern '\[z-a\]\.exr': range out of order/],
        [
          pattern,
          /^publish: Cannot use the pattern '\[z-a\]\.exr': range out of order/,
        ],
        [timeout, /^publish: --timeout '0': must be above 0/],
        [
          report,
          /^publish: --report '.*report\.json': its folder '.*beauty\.1001\.exr' cannot be made \(EEXIST|ENOTDIR\)/,
        ],
      ] as const
    ) {
      ok(!/^\s+at /m.test(result.stderr), result.stderr);
      ok(expected.test(result.stderr), `${result.stderr} does not match ${expected}`);
      strictEqual(result.code, EXIT.USAGE, result.stderr);
    }
    const helps = await Promise.all([
      run("scripts/publish.ts", ["--help"], env),
      run("scripts/scan.ts", ["--help"], env),
    ]);
    for (const help of helps) {
      strictEqual(help.code, 0);
      for (const code of [0, 1, 2, 3]) ok(new RegExp(`^  ${code}  `, "m").test(help.stdout), help.stdout);
    }
  },
});

/** A tracker with the demo shot, and the environment that points a subprocess at it. */
async function shotTracker() {
  const running = await memoryTracker();
  const session = await openSession(running);
  await makeShot(session);
  const home = await tempFolder("ferry-home-");
  const files = await tempFolder("ferry-files-");
  const settings = join(files.path, "settings.json");
  await Deno.writeTextFile(settings, JSON.stringify({ tools: NO_TOOLS }));
  return {
    settings,
    running,
    session,
    home,
    files,
    env: (server = running.url) => ({
      FERRY_HOME: home.path,
      FTRACK_SERVER: server,
      FTRACK_API_USER: running.apiUser,
      FTRACK_API_KEY: running.apiKey,
    }),
    async [Symbol.asyncDispose]() {
      await files[Symbol.asyncDispose]();
      await home[Symbol.asyncDispose]();
      await running[Symbol.asyncDispose]();
    },
  };
}

Deno.test({
  ...options,
  name: "publish killed with SIGKILL mid-upload is resumed at once by the same command, once, with its note",
  fn: async () => {
    await using fixture = await shotTracker();
    const { running, session, files } = fixture;
    await writeFrames(files.path, Array.from({ length: 12 }, (_, i) => 1001 + i), { bytes: 16 * 1024 });
    await using proxy = holdingProxy(running, 4);
    const args = [
      join(files.path, "beauty.####.exr"),
      "--context",
      "demo/sq010/sh010",
      "--task",
      "lighting",
      "--comment",
      "killed and resumed",
      "--settings",
      join(files.path, "settings.json"),
    ];
    await Deno.writeTextFile(
      join(files.path, "settings.json"),
      JSON.stringify({ uploadConcurrency: 1, tools: NO_TOOLS }),
    );
    const seen = { finished: 0, statusChanges: 0 };
    running.tracker.hub.listeners.add((event) => {
      if (event.topic === "ferry.publish.finished") seen.finished++;
      if (event.topic !== "ftrack.update") return;
      for (const entity of (event.data as E).entities as E[]) {
        if (entity.entityType === "task" && entity.keys.includes("statusid")) seen.statusChanges++;
      }
    });
    const first = spawn("scripts/publish.ts", args, fixture.env(proxy.url));
    await until(() => proxy.held() > 0, "an upload to be held");
    first.child.kill("SIGKILL");
    strictEqual((await first.output).code, 137);
    const [unfinished] = (await session.query("select id, is_published from AssetVersion")).data as E[];
    strictEqual(unfinished.is_published, false);

    const again = await run("scripts/publish.ts", args, fixture.env());
    strictEqual(again.code, EXIT.OK, again.stderr);
    ok(/resuming the abandoned publish of version 1|\(resumed\)/.test(again.stderr), again.stderr);
    const versions = (await session.query("select id, is_published, notes.content, components.name from AssetVersion"))
      .data as E[];
    strictEqual(versions.length, 1);
    strictEqual(versions[0].id, unfinished.id);
    strictEqual(versions[0].is_published, true);
    strictEqual(versions[0].notes.length, 1);
    strictEqual(versions[0].notes[0].content, "killed and resumed");
    strictEqual((await session.query("select id from ComponentLocation")).data.length, 13);
    await until(() => seen.finished > 0, "the event");
    strictEqual(seen.finished, 1, "one ferry.publish.finished");
    strictEqual(seen.statusChanges, 1, "one task status change");
  },
});

Deno.test({
  ...options,
  name: "publish whose upload makes no progress fails after --timeout naming the storage, exit 3, resumable",
  fn: async () => {
    await using fixture = await shotTracker();
    const { running, session, files } = fixture;
    await writeFrames(files.path, [1001, 1002, 1003], { bytes: 4096 });
    await using proxy = holdingProxy(running, 1);
    const args = [
      join(files.path, "beauty.####.exr"),
      "--context",
      "demo/sq010/sh010",
      "--task",
      "lighting",
      "--settings",
      fixture.settings,
    ];
    const stalled = await run("scripts/publish.ts", [...args, "--timeout", "4"], fixture.env(proxy.url));
    strictEqual(stalled.code, EXIT.ENVIRONMENT, stalled.stderr);
    ok(/the upload of '.*beauty\.100\d\.exr' made no progress for 4 s/.test(stalled.stderr), stalled.stderr);
    ok(new RegExp(`Cannot reach the tracker at '${proxy.url}'`).test(stalled.stderr), stalled.stderr);
    ok(!/^\s+at /m.test(stalled.stderr), stalled.stderr);
    const again = await run("scripts/publish.ts", args, fixture.env());
    strictEqual(again.code, EXIT.OK, again.stderr);
    strictEqual((await session.query("select id from AssetVersion where is_published is true")).data.length, 1);
    strictEqual((await session.query("select id from AssetVersion")).data.length, 1);
  },
});

Deno.test({
  ...options,
  name:
    "publish exits 0 with loud warnings when the version is published but the report cannot be written and a later plugin fails",
  fn: async () => {
    await using fixture = await shotTracker();
    const { session, files } = fixture;
    await writeFrames(files.path, [1001, 1002], { bytes: 1024 });
    // A plugin that runs after integration, puts a file where the report's folder was (a disk gone
    // away), and fails.
    const reports = join(files.path, "reports");
    const plugins = join(files.path, "plugins");
    await Deno.mkdir(plugins);
    await Deno.writeTextFile(
      join(plugins, "break_reports.ts"),
      `export default { kind: "context", name: "BreakReports", order: 3.4, async process() {
        await Deno.remove(${JSON.stringify(reports)}, { recursive: true });
        await Deno.writeTextFile(${JSON.stringify(reports)}, "not a folder any more");
        throw new Error("the studio hook failed");
      } };\n`,
    );
    const result = await run("scripts/publish.ts", [
      join(files.path, "beauty.####.exr"),
      "--context",
      "demo/sq010/sh010",
      "--task",
      "lighting",
      "--plugins",
      plugins,
      "--settings",
      fixture.settings,
      "--report",
      join(reports, "report.json"),
    ], fixture.env());
    strictEqual(result.code, EXIT.OK, result.stderr);
    ok(/WARNING: the report could not be written to '.*report\.json'/.test(result.stderr), result.stderr);
    ok(/the version IS published: do not publish it again/.test(result.stderr), result.stderr);
    ok(/published demo\/sq010\/sh010 beauty v001/.test(result.stderr), result.stderr);
    ok(
      /WARNING: the version IS published, but 'BreakReports' failed after it: the studio hook failed/.test(
        result.stderr,
      ),
      result.stderr,
    );
    strictEqual((await session.query("select id from AssetVersion where is_published is true")).data.length, 1);
  },
});
