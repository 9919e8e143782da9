/**
 * Duplicate-aware storage in the embedded tracker: republished content is stored once, shared
 * content outlives the deletion of one of the versions holding it.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { startTracker } from "../services/tracker/server.ts";
import type { RunningTracker } from "../services/tracker/server.ts";
import { NO_REVIEW_TOOLS, placedFrames, publishWith, tempFolder, writeFrames } from "./_publish.ts";
import { makeShot, openSession } from "./_tracker.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const options = { sanitizeOps: false, sanitizeResources: false };
const sha1 = (data: Uint8Array) => createHash("sha1").update(data).digest("hex");
const request = (files: string[]) => ({
  context: { path: "demo/sq010/sh010", task: "lighting" },
  instances: [{ family: "render", name: "beauty", files }],
});

/** The contents the tracker stores (file names under `files/objects`). */
async function objects(data: string): Promise<string[]> {
  const root = join(data, "files", "objects");
  const names: string[] = [];
  for (const prefix of await readdir(root).catch(() => [])) {
    for (const rest of await readdir(join(root, prefix))) names.push(prefix + rest);
  }
  return names.sort();
}

/** frame number → SHA-1 of what the tracker gives back for each member of a version's sequence. */
async function downloads(running: RunningTracker, session: Session, versionId: string): Promise<Map<number, string>> {
  const members = (await session.query(
    `select id, name from Component where container.version_id is "${versionId}"`,
  )).data as E[];
  const found = new Map<number, string>();
  for (const member of members) {
    const response = await fetch(
      `${running.url}/component/get?id=${member.id}&username=${running.apiUser}&apiKey=${running.apiKey}`,
    );
    strictEqual(response.status, 200, `member ${member.name} downloads`);
    found.set(Number(member.name), sha1(new Uint8Array(await response.arrayBuffer())));
  }
  return found;
}

async function deleteVersion(session: Session, versionId: string): Promise<void> {
  const components = (await session.query(
    `select id from Component where version_id is "${versionId}" or container.version_id is "${versionId}"`,
  )).data as E[];
  // Members first, then their sequence, then the version (as a clean-up tool does).
  const ordered = [...components].reverse();
  await session.call(ordered.map((component) => ({
    action: "delete",
    entity_type: "Component",
    entity_key: [component.id],
  })) as never[]);
  await session.delete("AssetVersion", [versionId]);
}

Deno.test({
  ...options,
  name: "FileStore stores republished frames once; deleting one of two versions sharing content keeps the other's data",
  fn: async () => {
    await using data = await tempFolder("ferry-dedupe-tracker-");
    await using running = await startTracker({ port: 0, data: data.path });
    await using folder = await tempFolder();
    const session = await openSession(running);
    await makeShot(session);
    const frames = Array.from({ length: 20 }, (_, i) => 1001 + i);
    const paths = await writeFrames(folder.path, frames, { bytes: 4096 });
    const original = new Map(
      await Promise.all(paths.map(async (path, i) => [frames[i]!, sha1(await readFile(path))] as const)),
    );
    const files = [join(folder.path, "beauty.####.exr")];
    const publish = async () => {
      const result = await publishWith(session, request(files), { settings: { tools: NO_REVIEW_TOOLS } });
      ok(result.report.ok, JSON.stringify(result.report.results.filter((r: E) => !r.success)));
      return String((result.report.created[0] as E).versionId);
    };

    const v1 = await publish();
    strictEqual((await objects(data.path)).length, 20);
    const v2 = await publish();
    strictEqual((await objects(data.path)).length, 20, "the second version's frames cost no disk");
    // Three frames change: only their new contents are stored.
    for (const index of [3, 9, 15]) await writeFile(paths[index]!, new TextEncoder().encode(`changed ${index}`));
    const v3 = await publish();
    strictEqual((await objects(data.path)).length, 23);

    deepStrictEqual(await downloads(running, session, v2), original);
    await deleteVersion(session, v1);
    deepStrictEqual(await downloads(running, session, v2), original, "v2 keeps the data it shared with v1");
    strictEqual((await objects(data.path)).length, 23);
    await deleteVersion(session, v2);
    strictEqual(
      (await objects(data.path)).length,
      20,
      "the three old contents went with the last version holding them",
    );
    const third = await downloads(running, session, v3);
    for (const [index, frame] of frames.entries()) {
      const expected = [3, 9, 15].includes(index)
        ? sha1(new TextEncoder().encode(`changed ${index}`))
        : original.get(frame);
      strictEqual(third.get(frame), expected, `frame ${frame} of v3`);
    }
  },
});

Deno.test({
  ...options,
  name: "FileStore.reuse() gives a component stored content without sending it, and refuses unknown content",
  fn: async () => {
    await using data = await tempFolder("ferry-dedupe-tracker-");
    await using running = await startTracker({ port: 0, data: data.path });
    const session = await openSession(running);
    const bytes = new TextEncoder().encode("a plate every shot uses");
    const [target] = await session.call<{ url: string; headers: Record<string, string> }>([
      { action: "get_upload_metadata", component_id: "first", file_name: "a.bin", file_size: bytes.length } as never,
    ]);
    const sent = await fetch(target!.url, { method: "PUT", body: bytes, headers: target!.headers });
    await sent.body?.cancel();
    strictEqual(sent.status, 200);
    const files = running.tracker.files;
    strictEqual(files.stored(sha1(bytes))?.size, bytes.length);
    ok(await files.reuse("second", sha1(bytes)));
    const response = await fetch(
      `${running.url}/component/get?id=second&username=${running.apiUser}&apiKey=${running.apiKey}`,
    );
    deepStrictEqual(new Uint8Array(await response.arrayBuffer()), bytes);
    deepStrictEqual(files.info("second"), files.info("first"));
    strictEqual(await files.reuse("third", sha1(new TextEncoder().encode("never sent"))), false);
    strictEqual(files.has("third"), false);
    strictEqual((await objects(data.path)).length, 1);
  },
});

Deno.test({
  ...options,
  name:
    "IntegrateVersion republishing 100 frames with 3 changed sends 3 files and publishes a complete version whose downloads match",
  fn: async () => {
    await using data = await tempFolder("ferry-dedupe-tracker-");
    await using running = await startTracker({ port: 0, data: data.path });
    await using folder = await tempFolder();
    const session = await openSession(running);
    await makeShot(session);
    const frames = Array.from({ length: 100 }, (_, i) => 1001 + i);
    const paths = await writeFrames(folder.path, frames, { bytes: 2048 });
    // Rendered a minute ago: stamps taken now are not racy (see IntegrateVersion's stampFrom).
    const minuteAgo = new Date(Date.now() - 60_000);
    for (const path of paths) await Deno.utime(path, minuteAgo, minuteAgo);
    const files = [join(folder.path, "beauty.####.exr")];
    const publish = async () => {
      let sent = 0;
      const received = running.tracker.files.receivedBytes;
      const result = await publishWith(session, request(files), {
        settings: { tools: NO_REVIEW_TOOLS },
        progress: { expect() {}, done: (bytes: number) => void (sent += bytes) },
      });
      ok(result.report.ok, JSON.stringify(result.report.results.filter((r: E) => !r.success)));
      const created = result.report.created[0] as E;
      const messages = result.report.results.flatMap((r: E) => r.records.map((record: E) => record.message as string));
      return {
        versionId: String(created.versionId),
        reused: created.reused,
        sent,
        received: running.tracker.files.receivedBytes - received,
        messages,
      };
    };
    const first = await publish();
    deepStrictEqual(first.reused, { files: 0, bytes: 0 });
    strictEqual(first.sent, 100 * 2048);

    const changed = [4, 50, 99];
    for (const index of changed) {
      await writeFile(paths[index]!, new TextEncoder().encode(`frame ${frames[index]} changed`.padEnd(2048, ".")));
    }
    const second = await publish();
    deepStrictEqual(second.reused, { files: 97, bytes: 97 * 2048 });
    strictEqual(second.sent, 3 * 2048, "only the 3 changed frames are sent");
    strictEqual(second.received, 3 * 2048);
    ok(
      second.messages.some((message: string) =>
        message.includes("(97 unchanged since the last version, 0 found by content)")
      ),
      "the unchanged frames are known by their stamps, without reading them",
    );
    const expected = new Map(
      await Promise.all(paths.map(async (path, i) => [frames[i]!, sha1(await readFile(path))] as const)),
    );
    deepStrictEqual(await downloads(running, session, second.versionId), expected);
    const [version] = (await session.query(
      `select is_published from AssetVersion where id is "${second.versionId}"`,
    )).data as E[];
    strictEqual(version.is_published, true);
    strictEqual((await objects(data.path)).length, 103);
  },
});

Deno.test({
  ...options,
  name: "IntegrateVersion republishing to a disk location hard-links the unchanged files of the last version",
  fn: async () => {
    await using running = await startTracker({ port: 0, data: ":memory:" });
    await using folder = await tempFolder();
    await using root = await tempFolder("ferry-dedupe-disk-");
    const session = await openSession(running);
    await makeShot(session);
    const frames = Array.from({ length: 10 }, (_, i) => 1001 + i);
    const paths = await writeFrames(folder.path, frames, { bytes: 1024 });
    const minuteAgo = new Date(Date.now() - 60_000);
    for (const path of paths) await Deno.utime(path, minuteAgo, minuteAgo);
    const files = [join(folder.path, "beauty.####.exr")];
    const publish = async () => {
      const result = await publishWith(session, { ...request(files), location: { disk: root.path } }, {
        settings: { tools: NO_REVIEW_TOOLS },
      });
      ok(result.report.ok, JSON.stringify(result.report.results.filter((r: E) => !r.success)));
      const created = result.report.created[0] as E;
      const placed = await placedFrames(session, created.versionId, root.path);
      const messages = result.report.results.flatMap((r: E) => r.records.map((record: E) => record.message as string));
      return { reused: created.reused, placed, messages };
    };
    const first = await publish();
    await writeFile(paths[2]!, new TextEncoder().encode("changed"));
    const second = await publish();
    deepStrictEqual(second.reused, { files: 9, bytes: 9 * 1024 });
    ok(
      second.messages.some((message: string) =>
        message.includes("9 file(s), 9,216 bytes reused from the last version")
      ),
    );
    for (const [index, frame] of frames.entries()) {
      const [a, b] = [await Deno.stat(first.placed.get(frame)!), await Deno.stat(second.placed.get(frame)!)];
      ok(first.placed.get(frame) !== second.placed.get(frame));
      strictEqual(a.ino === b.ino, index !== 2, `frame ${frame} is ${index === 2 ? "a new file" : "a hard link"}`);
      deepStrictEqual(await readFile(second.placed.get(frame)!), await readFile(paths[index]!));
    }
  },
});
