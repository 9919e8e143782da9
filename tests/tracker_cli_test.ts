/**
 * `deno task tracker` as a user runs it (issue 8, items 17 and 20): one clear line and a
 * documented exit code for each set-up problem, and `user add` on the data folder of a running
 * tracker gives a key that works at once.
 */
import { ok, strictEqual } from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSession } from "./_tracker.ts";
import { runningTrackerOf } from "../services/tracker/server.ts";

const MAIN = new URL("../services/tracker/main.ts", import.meta.url).pathname;

async function temporaryFolder(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "ferry-tracker-cli-"));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** Runs `services/tracker/main.ts` with `args` to its end. */
async function tracker(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** `deno task tracker` running on `data` until disposed. */
async function runningTracker(data: string, extra: string[] = []) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "--port", "0", "--data", data, ...extra],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const stop = async () => {
    child.kill("SIGTERM");
    await child.status;
  };
  for (let tries = 0; tries < 600; tries++) {
    const lock = await runningTrackerOf(data);
    if (lock) return { ...lock, [Symbol.asyncDispose]: stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error("the tracker did not start within 30 s");
}

/** One line on stderr, naming `value`, no stack trace. */
function assertOneClearLine(stderr: string, value: string): void {
  const lines = stderr.trim().split("\n");
  strictEqual(lines.length, 1, stderr);
  ok(lines[0]!.startsWith("tracker: "), stderr);
  ok(lines[0]!.includes(value), `'${value}' is named: ${stderr}`);
  ok(!/\n\s+at /.test(stderr) && !stderr.includes("Stack backtrace"), stderr);
}

Deno.test("deno task tracker: set-up problems are one line naming the value, with exit code 3 (2 for usage)", async (t) => {
  await using folder = await temporaryFolder();
  const file = join(folder.path, "a-file");
  await writeFile(file, "not a folder");
  const cases: Array<[string, string[], number, string]> = [
    ["--data pointing at a file", ["--data", file], 3, file],
    ["--data under /proc", ["--data", "/proc/ferry-tracker"], 3, "/proc/ferry-tracker"],
    ["--data /proc itself", ["--data", "/proc"], 3, "/proc"],
    ["--host that is not a host name", ["--host", "not a host!"], 2, "not a host!"],
    ["--host not of this machine", ["--host", "203.0.113.7"], 3, "203.0.113.7"],
    ["--host that does not resolve", ["--host", "ferry-no-such-host.invalid"], 3, "ferry-no-such-host.invalid"],
    ["--port out of range", ["--port", "70000"], 2, "70000"],
    ["--cors-origin null", ["--cors-origin", "null"], 2, "null"],
    ["an unknown flag", ["--colour"], 2, "colour"],
  ];
  for (const [label, args, code, value] of cases) {
    await t.step(label, async () => {
      const data = args.includes("--data") ? [] : ["--data", join(folder.path, "data")];
      const run = await tracker(["--port", "0", ...data, ...args]);
      strictEqual(run.code, code, `${label}: ${run.stderr}`);
      assertOneClearLine(run.stderr, value);
    });
  }
  await t.step("a damaged database", async () => {
    const data = join(folder.path, "damaged");
    await Deno.mkdir(data);
    await writeFile(join(data, "tracker.sqlite"), "this is not a SQLite database ".repeat(10));
    for (const args of [["--port", "0", "--data", data], ["user", "add", "bob", "--data", data]]) {
      const run = await tracker(args);
      strictEqual(run.code, 3, run.stderr);
      assertOneClearLine(run.stderr, join(data, "tracker.sqlite"));
    }
  });
  await t.step("FERRY_HOME set to a file (the default data folder)", async () => {
    const run = await tracker(["--port", "0"], { FERRY_HOME: file });
    strictEqual(run.code, 3, run.stderr);
    assertOneClearLine(run.stderr, file);
  });
  await t.step("a second tracker on a data folder in use", async () => {
    const data = join(folder.path, "shared");
    await using first = await runningTracker(data);
    const run = await tracker(["--port", "0", "--data", data]);
    strictEqual(run.code, 3, run.stderr);
    assertOneClearLine(run.stderr, data);
    ok(run.stderr.includes(first.url) && run.stderr.includes(String(first.pid)), run.stderr);
  });
  await t.step("--help documents the exit codes", async () => {
    const run = await tracker(["--help"]);
    strictEqual(run.code, 0);
    for (const code of ["0", "1", "2", "3"]) ok(new RegExp(`^  ${code}  `, "m").test(run.stdout), run.stdout);
    ok(run.stdout.includes("--cors-origin"));
  });
});

Deno.test("deno task tracker user add on the data folder of a running tracker gives a key that works at once", async () => {
  await using folder = await temporaryFolder();
  const data = join(folder.path, "tracker");
  await using running = await runningTracker(data);
  const run = await tracker(["user", "add", "artist", "--first-name", "Ada", "--data", data]);
  strictEqual(run.code, 0, run.stderr);
  const apiKey = /api key: (\S+)/.exec(run.stdout)?.[1];
  ok(apiKey, run.stdout);
  const session = await openSession(running, { apiUser: "artist", apiKey });
  const me = await session.query('select first_name from User where username is "artist"');
  strictEqual(me.data[0]?.first_name, "Ada");

  const again = await tracker(["user", "add", "artist", "--data", data]);
  strictEqual(again.code, 1, again.stderr);
  assertOneClearLine(again.stderr, "artist");
});

Deno.test("deno task tracker --no-content-reuse answers as an ftrack site: no content reuse offered or done", async () => {
  await using folder = await temporaryFolder();
  for (const [extra, offered] of [[[], true], [["--no-content-reuse"], false]] as const) {
    const data = join(folder.path, `tracker-${offered}`);
    await using running = await runningTracker(data, [...extra]);
    const session = await openSession(running);
    const information = (session as unknown as { serverInformation: Record<string, unknown> }).serverInformation;
    strictEqual(information.ferry_content_reuse === true, offered, JSON.stringify(information));
    const answer = session.call([
      { action: "ferry_reuse_component_data", component_id: crypto.randomUUID(), sha1: "0".repeat(40) },
    ] as never[]);
    if (offered) await answer;
    else await answer.then(() => ok(false, "the action is refused"), (error) => ok(/ferry_reuse/.test(String(error))));
  }
});

Deno.test("deno task tracker user add without a running tracker writes the data folder; the next start knows the user", async () => {
  await using folder = await temporaryFolder();
  const data = join(folder.path, "tracker");
  const run = await tracker(["user", "add", "farm", "--data", data]);
  strictEqual(run.code, 0, run.stderr);
  const apiKey = /api key: (\S+)/.exec(run.stdout)![1]!;
  await using running = await runningTracker(data);
  const session = await openSession(running, { apiUser: "farm", apiKey });
  strictEqual((await session.query('select id from User where username is "farm"')).data.length, 1);
});
