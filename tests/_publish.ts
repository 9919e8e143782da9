import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import type { RunningTracker } from "../services/tracker/server.ts";
import { discover } from "../publish/discover.ts";
import { parsePublishRequest } from "../publish/request.ts";
import { runPublish, type RunPublishOptions } from "../publish/run_publish.ts";
import { parsePublishSettings } from "../publish/settings.ts";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { sqliteSite } from "./_store.ts";

/**
 * Media tools that do not exist: for publishes whose frames are not real images, so ExtractReview
 * skips at once (with its warning) instead of running ffmpeg on them.
 */
export const NO_REVIEW_TOOLS = {
  ffmpeg: "ferry-test-no-ffmpeg",
  ffprobe: "ferry-test-no-ffprobe",
  oiiotool: "ferry-test-no-oiiotool",
};

/** ferry's own plugins folder. */
export const PLUGINS = new URL("../plugins/", import.meta.url).pathname;

/** A temporary folder removed when disposed. */
export async function tempFolder(prefix = "ferry-publish-"): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** Writes `beauty.%04d.exr` frames (or any name) of distinct content; returns their paths. */
export async function writeFrames(
  folder: string,
  frames: number[],
  options: { name?: string; bytes?: number } = {},
): Promise<string[]> {
  const { name = "beauty", bytes = 2048 } = options;
  await mkdir(folder, { recursive: true });
  return await Promise.all(frames.map(async (frame) => {
    const path = join(folder, `${name}.${String(frame).padStart(4, "0")}.exr`);
    const data = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) data[i] = (frame * 131 + i * 7) % 256;
    await writeFile(path, data);
    return path;
  }));
}

/** Publishes with ferry's plugins through `runPublish`. */
export async function publishWith(
  session: Session,
  request: unknown,
  options: Partial<Omit<RunPublishOptions, "request" | "session" | "plugins" | "settings">> & { settings?: unknown } =
    {},
) {
  const { plugins, skipped } = await discover({ paths: [PLUGINS], hosts: ["shell"] });
  if (skipped.length > 0) throw new Error(`plugins failed to load: ${JSON.stringify(skipped)}`);
  return await runPublish({
    ...options,
    request: parsePublishRequest(request),
    session,
    plugins,
    settings: parsePublishSettings(options.settings ?? {}),
  });
}

/** Where each member of version `versionId`'s sequence lies on the disk location at `root`, by frame number. */
export async function placedFrames(session: Session, versionId: string, root: string): Promise<Map<number, string>> {
  const members = (await session.query(
    `select name, component_locations.resource_identifier from Component where container.version_id is "${versionId}"`,
  )).data as Array<{ name: string; component_locations: Array<{ resource_identifier: string }> }>;
  return new Map(
    members.map((member) => [Number(member.name), join(root, member.component_locations[0]!.resource_identifier)]),
  );
}

/**
 * A fresh in-memory tracker with the demo shot and task (`demo/sq010/sh010`, `lighting`), a
 * session on it and a temporary folder; all released when disposed.
 */
export async function publishFixture() {
  const running = await memoryTracker();
  const session = await openSession(running);
  const made = await makeShot(session);
  const folder = await tempFolder();
  return {
    running,
    session,
    made,
    folder,
    async [Symbol.asyncDispose]() {
      await folder[Symbol.asyncDispose]();
      await running[Symbol.asyncDispose]();
    },
  };
}

/**
 * `publishFixture()` beside a SQLite store site that a full sync has mirrored the demo project into
 * (before any publish), and a disk root for publishes; all released when disposed.
 */
export async function syncedStoreFixture() {
  await using made = new AsyncDisposableStack();
  const fixture = made.use(await publishFixture());
  const site = made.use(await sqliteSite());
  const root = made.use(await tempFolder("ferry-root-"));
  {
    await using store = await site.open();
    const settings = SyncSettingsSchema.parse({});
    await fullSync({ session: fixture.session, store, project: "demo", settings, sender: "sync" });
  }
  const owned = made.move();
  return { ...fixture, site, root, [Symbol.asyncDispose]: () => owned.disposeAsync() };
}

/** Runs `fn` with the environment variable `name` set to `value`, then puts back what it was. */
export async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const previous = Deno.env.get(name);
  Deno.env.set(name, value);
  try {
    return await fn();
  } finally {
    if (previous === undefined) Deno.env.delete(name);
    else Deno.env.set(name, previous);
  }
}

/**
 * A proxy in front of a tracker (its URLs in API answers rewritten to the proxy's) that passes the
 * first `pass` uploads and holds every later one without answering.
 */
export function holdingProxy(running: RunningTracker, pass: number) {
  let uploads = 0;
  const released = Promise.withResolvers<void>();
  let url = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const target = new URL(request.url);
    const forward = `${running.url}${target.pathname}${target.search}`;
    if (request.method === "PUT" && target.pathname.startsWith("/upload/") && ++uploads > pass) {
      await released.promise;
      return new Response("released", { status: 503 });
    }
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
    const answer = await fetch(forward, { method: request.method, headers: request.headers, body });
    const headers = new Headers(answer.headers);
    headers.delete("content-length");
    headers.delete("content-encoding");
    const text = (await answer.text()).replaceAll(running.url, url);
    return new Response(text, { status: answer.status, headers });
  });
  url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  return {
    url,
    held: () => Math.max(0, uploads - pass),
    async [Symbol.asyncDispose]() {
      released.resolve();
      await server.shutdown();
    },
  };
}

/** Waits until `check` holds (polling), failing after a generous limit. */
export async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
