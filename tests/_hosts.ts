/**
 * What the DCC host tests share: the embedded tracker in this process with the demo shot, a temporary
 * FERRY_HOME, the environment a host process (python3, blender) gets, the bridge process it starts,
 * and checks of what was published, through the official client.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";

// deno-lint-ignore no-explicit-any
type E = any;

/** The checkout. */
export const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
/** The Python a test runs: FERRY_PYTHON, else Debian's /usr/bin/python3 (what CI installs), else python3 on PATH. */
export const PYTHON = Deno.env.get("FERRY_PYTHON") ??
  (await Deno.stat("/usr/bin/python3").then((info) => info.isFile, () => false) ? "/usr/bin/python3" : "python3");

/** The SHA-1 of bytes, in hex. */
export const sha1 = (data: Uint8Array) => createHash("sha1").update(data).digest("hex");

/** Whether a command can run here (for the loud skips). */
export async function hasCommand(command: string, args = ["--version"]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output();
    return success;
  } catch {
    return false;
  }
}

/** Runs a command to its end with exactly this environment (nothing inherited); returns its code and output. */
export async function run(
  command: string,
  args: string[],
  options: { env: Record<string, string>; cwd?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(command, {
    args,
    env: options.env,
    clearEnv: true,
    cwd: options.cwd ?? ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

interface BridgeFile {
  url: string;
  token: string;
  pid: number;
}

async function readBridgeFile(home: string): Promise<BridgeFile | undefined> {
  try {
    return JSON.parse(await readFile(join(home, "bridge.json"), "utf8")) as BridgeFile;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** Stops the bridge a host started (detached, so not our child): SIGTERM, then SIGKILL after 10 s. */
export async function stopBridgeOf(home: string): Promise<void> {
  const info = await readBridgeFile(home);
  if (!info || !alive(info.pid)) return;
  Deno.kill(info.pid, "SIGTERM");
  for (let waited = 0; waited < 10_000 && alive(info.pid); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (alive(info.pid)) Deno.kill(info.pid, "SIGKILL");
}

/**
 * An in-process embedded tracker with `demo/sq010/sh010` (task `lighting`), a session on it, a temporary
 * FERRY_HOME and work folder, and `env`: what a host process needs to find (or start, with `deno task bridge`
 * in this checkout) a bridge publishing to that tracker. Disposing stops the bridge a host started, the
 * tracker, and removes the folders.
 */
export async function hostFixture() {
  const running = await memoryTracker();
  const session = await openSession(running);
  const made = await makeShot(session);
  const home = await mkdtemp(join(tmpdir(), "ferry-home-"));
  const work = await mkdtemp(join(tmpdir(), "ferry-work-"));
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? home,
    LANG: "C.UTF-8",
    FERRY_HOME: home,
    FERRY_ROOT: ROOT,
    FERRY_DENO: Deno.execPath(),
    FTRACK_SERVER: running.url,
    FTRACK_API_USER: running.apiUser,
    FTRACK_API_KEY: running.apiKey,
    PYTHONPATH: join(ROOT, "hosts", "python"),
    PYTHONDONTWRITEBYTECODE: "1",
    NO_COLOR: "1",
    // A loaded machine (the whole suite on two cores) may take a while to start a bridge.
    FERRY_BRIDGE_TIMEOUT: "120",
  };
  for (const name of ["DENO_DIR", "XDG_CACHE_HOME", "PYENV_ROOT", "PYENV_VERSION", "DENORT_BIN"]) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  return {
    running,
    session,
    made,
    home,
    work,
    env,
    /** The bridge.json the bridge wrote, if any. */
    bridge: () => readBridgeFile(home),
    async [Symbol.asyncDispose]() {
      await stopBridgeOf(home);
      await rm(work, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
      await running[Symbol.asyncDispose]();
    },
  };
}

/** The published version of an id: its number, asset, task, publish flag and components, through the official client. */
export async function publishedVersion(session: Session, versionId: string) {
  const [version] = (await session.query(
    `select version, is_published, comment, task_id, asset.name, asset.type.short from AssetVersion where id is ${versionId}`,
  )).data as E[];
  ok(version, `no AssetVersion ${versionId}`);
  const components = (await session.query(
    `select id, name, file_type, system_type, padding, metadata from Component where version_id is ${versionId}`,
  )).data as E[];
  return { version, components };
}

/** The stored bytes of a component, downloaded from the tracker's server location. */
export async function download(running: { url: string; apiUser: string; apiKey: string }, componentId: string) {
  const response = await fetch(
    `${running.url}/component/get?id=${componentId}&username=${running.apiUser}&apiKey=${running.apiKey}`,
  );
  strictEqual(response.status, 200, `component ${componentId} download`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Checks that a version holds the sequence of `files` (frame number → local path) as one sequence component
 * whose members' stored bytes have the SHA-1 of the local files.
 */
export async function checkSequence(
  fixture: { session: Session; running: { url: string; apiUser: string; apiKey: string } },
  versionId: string,
  files: Map<number, string>,
  options: { name: string },
) {
  const { components } = await publishedVersion(fixture.session, versionId);
  const sequence = components.find((component) => component.system_type === "sequence");
  ok(sequence, `no sequence component among ${JSON.stringify(components.map((c) => c.name))}`);
  strictEqual(sequence.name, options.name);
  const members = (await fixture.session.query(
    `select id, name, metadata from FileComponent where container_id is ${sequence.id} order by name`,
  )).data as E[];
  members.sort((a, b) => Number(a.name) - Number(b.name));
  deepStrictEqual(members.map((member) => Number(member.name)), [...files.keys()].sort((a, b) => a - b));
  for (const member of members) {
    const local = sha1(new Uint8Array(await readFile(files.get(Number(member.name))!)));
    strictEqual(sha1(await download(fixture.running, member.id)), local, `frame ${member.name}`);
    const recorded = member.metadata.find((m: E) => m.key === "ferry_fingerprint")?.value;
    strictEqual(recorded, `sha1:${local}`, `frame ${member.name} fingerprint`);
  }
  return sequence;
}

/** Checks that a version holds one file component of `path` whose stored bytes have its SHA-1. */
export async function checkFile(
  fixture: { session: Session; running: { url: string; apiUser: string; apiKey: string } },
  versionId: string,
  path: string | Uint8Array,
  options: { name: string },
) {
  const { components } = await publishedVersion(fixture.session, versionId);
  const component = components.find((entry) => entry.name === options.name);
  ok(component, `no component '${options.name}' among ${JSON.stringify(components.map((c) => c.name))}`);
  const bytes = typeof path === "string" ? new Uint8Array(await readFile(path)) : path;
  strictEqual(sha1(await download(fixture.running, component.id)), sha1(bytes));
  return component;
}
