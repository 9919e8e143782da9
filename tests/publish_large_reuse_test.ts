/**
 * Content reuse of large files by their probe: the uploader asks the embedded tracker about a large
 * file by its size and a few sampled blocks (`ferry_probe`), hashes it whole only when the tracker
 * has a candidate, and sends it only when the candidate is not the same content. "Large" is lowered
 * here (`wholeFileLimit`) so that 4 MiB files stand for plates of 64 MiB frames.
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { startTracker } from "../services/tracker/server.ts";
import { PROBE_BLOCK, PROBE_BLOCKS, probeRanges } from "../src/tracker/content_probe.ts";
import { uploadFiles, type UploadFilesItem } from "../src/tracker/upload_files.ts";
import { NO_REVIEW_TOOLS, publishWith, tempFolder } from "./_publish.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { bytesOf, countingReader, demoShotWorkspace, download, privateShotWorkspace, sha1 } from "./_content_reuse.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const options = { sanitizeOps: false, sanitizeResources: false };
const MiB = 1024 * 1024;
const SIZE = 4 * MiB;
/** Files above 1 MiB are "large" in these tests (the default is 32 MiB). */
const LARGE = { wholeFileLimit: MiB, hashLarge: "this-thread" as const };
/** Bytes a probe reads of a `SIZE`-byte file. */
const PROBE_READ = PROBE_BLOCKS * PROBE_BLOCK;

/** Asset ids by project and name, made once per session. */
const assets = new WeakMap<Session, Map<string, string>>();

/** A FileComponent of a new version of `asset` in `project`'s shot sh010, to upload data for. */
async function newComponent(session: Session, name: string, asset = "uploads", project = "demo"): Promise<string> {
  const known = assets.get(session) ?? new Map<string, string>();
  assets.set(session, known);
  let assetId = known.get(`${project}/${asset}`);
  if (assetId === undefined) {
    const [shot] = (await session.query(`select id from Shot where name is "sh010" and project.name is "${project}"`))
      .data as E[];
    const [type] = (await session.query(`select id from AssetType where short is "upload"`)).data as E[];
    assetId = String((await session.create("Asset", { name: asset, context_id: shot.id, type_id: type.id })).data.id);
    known.set(`${project}/${asset}`, assetId);
  }
  const version = (await session.create("AssetVersion", { asset_id: assetId })).data;
  return (await session.create("FileComponent", { name, version_id: version.id, file_type: ".bin" })).data.id;
}

/** One large file written under `folder` with `data`, and its upload item for a new component. */
async function largeItem(
  session: Session,
  folder: string,
  name: string,
  data: Uint8Array,
  where: { asset?: string; project?: string } = {},
): Promise<UploadFilesItem> {
  const path = join(folder, `${name}.exr`);
  await writeFile(path, data);
  const componentId = await newComponent(session, name, where.asset, where.project);
  return { componentId, path, fileName: `${name}.exr`, size: data.length };
}

/** A copy of `data` differing only outside the probe's sampled blocks (a false candidate). */
function sameProbe(data: Uint8Array): Uint8Array {
  const changed = data.slice();
  const [[, firstEnd], [secondStart]] = probeRanges(data.length) as [[number, number], [number, number]];
  ok(secondStart - firstEnd > 16, "the sampled blocks leave a gap");
  for (let i = firstEnd + 1; i < firstEnd + 16; i++) changed[i] = changed[i]! ^ 0xff;
  return changed;
}

Deno.test({
  ...options,
  name:
    "uploadFiles() links a large file copied to a new path under another asset by its probe: nothing sent, read once",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { running, folder, session } = workspace;
    const data = bytesOf(1, SIZE);
    const first = await largeItem(session, folder.path, "plate", data, { asset: "plate" });
    const { openFile, read } = countingReader();
    const sent = await uploadFiles(session, [first], { ...LARGE, openFile });
    // Never seen: its probe finds nothing, it is streamed (the probe's blocks and one full read).
    deepStrictEqual(sent.get(first.componentId), { kind: "uploaded", hex: sha1(data), size: SIZE });
    strictEqual(read.get(first.path), PROBE_READ + SIZE, "the probe's blocks, then one read while sent");
    strictEqual(running.tracker.files.receivedBytes, SIZE);

    const copy = join(folder.path, "copy.exr");
    await copyFile(first.path, copy);
    const second = { ...first, path: copy, componentId: await newComponent(session, "copy", "plate_copy") };
    read.clear();
    let expected = 0;
    let done = 0;
    const linked = await uploadFiles(session, [second], {
      ...LARGE,
      openFile,
      onExpect: (bytes) => expected += bytes,
      onProgress: (bytes) => done += bytes,
    });
    deepStrictEqual(linked.get(second.componentId), {
      kind: "reused",
      hex: sha1(data),
      size: SIZE,
      hashed: true,
      probed: true,
    });
    strictEqual(running.tracker.files.receivedBytes, SIZE, "no byte sent");
    strictEqual(read.get(copy), PROBE_READ + SIZE, "the probe's blocks, then hashed once");
    strictEqual(expected, SIZE);
    strictEqual(done, SIZE, "the hashing is the progress");
    strictEqual(await download(running, second.componentId), sha1(data));
  },
});

Deno.test({
  ...options,
  name:
    "uploadFiles() sends a false candidate (same size and sampled blocks, other bytes between): read twice, stored as the file is",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { running, folder, session } = workspace;
    const data = bytesOf(2, SIZE);
    const twin = sameProbe(data);
    ok(sha1(twin) !== sha1(data));
    const first = await largeItem(session, folder.path, "a", data);
    await uploadFiles(session, [first], LARGE);
    const second = await largeItem(session, folder.path, "b", twin);
    const { openFile, read } = countingReader();
    let expected = 0;
    let done = 0;
    const outcomes = await uploadFiles(session, [second], {
      ...LARGE,
      openFile,
      onExpect: (bytes) => expected += bytes,
      onProgress: (bytes) => done += bytes,
    });
    deepStrictEqual(outcomes.get(second.componentId), { kind: "uploaded", hex: sha1(twin), size: SIZE, probed: true });
    strictEqual(read.get(second.path), PROBE_READ + 2 * SIZE, "hashed whole, then read again as it was sent");
    strictEqual(running.tracker.files.receivedBytes, 2 * SIZE);
    strictEqual(expected, 2 * SIZE, "hashing and sending both counted");
    strictEqual(done, expected);
    strictEqual(await download(running, second.componentId), sha1(twin));
    strictEqual(await download(running, first.componentId), sha1(data));
  },
});

Deno.test({
  ...options,
  name: "uploadFiles() sends a large content given twice in one call once: the second copy waits, then is linked",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { running, folder, session } = workspace;
    const data = bytesOf(7, SIZE);
    const items = [
      await largeItem(session, folder.path, "a", data),
      await largeItem(session, folder.path, "b", data),
      await largeItem(session, folder.path, "c", bytesOf(8, SIZE)),
    ];
    const { openFile, read } = countingReader();
    const outcomes = await uploadFiles(session, items, { ...LARGE, openFile });
    deepStrictEqual(items.map((item) => outcomes.get(item.componentId)?.kind), ["uploaded", "reused", "uploaded"]);
    strictEqual(running.tracker.files.receivedBytes, 2 * SIZE, "the repeated content is sent once");
    for (const item of items) strictEqual(read.get(item.path), PROBE_READ + SIZE, `${item.fileName} read once`);
    strictEqual(await download(running, items[1]!.componentId), sha1(data));
  },
});

Deno.test({
  ...options,
  name: "uploadFiles() hashes candidates on worker threads by default and links many large copies at once",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { running, folder, session } = workspace;
    const contents = [0, 1, 2, 3].map((i) => bytesOf(10 + i, 3 * MiB + i));
    const originals = [];
    for (const [i, data] of contents.entries()) originals.push(await largeItem(session, folder.path, `o${i}`, data));
    await uploadFiles(session, originals, { wholeFileLimit: MiB });
    const received = running.tracker.files.receivedBytes;
    // Two copies, one new content, one false candidate.
    const copies = [
      await largeItem(session, folder.path, "c0", contents[0]!),
      await largeItem(session, folder.path, "c1", contents[1]!),
      await largeItem(session, folder.path, "n", bytesOf(99, 3 * MiB)),
      await largeItem(session, folder.path, "f", sameProbe(contents[3]!)),
    ];
    const outcomes = await uploadFiles(session, copies, { wholeFileLimit: MiB });
    deepStrictEqual(copies.map((item) => outcomes.get(item.componentId)?.kind), [
      "reused",
      "reused",
      "uploaded",
      "uploaded",
    ]);
    strictEqual(running.tracker.files.receivedBytes - received, 3 * MiB + (3 * MiB + 3));
    for (const item of copies) {
      strictEqual(await download(running, item.componentId), outcomes.get(item.componentId)!.hex, item.fileName);
    }
  },
});

Deno.test({
  ...options,
  name:
    "uploadFiles() does not find by probe a large content of a private project for a user without access; with access it does",
  fn: async () => {
    await using workspace = await privateShotWorkspace();
    const { running, folder, session: admin } = workspace;
    const data = bytesOf(3, SIZE);
    const stored = await largeItem(admin, folder.path, "secret", data, { project: "secret" });
    await uploadFiles(admin, [stored], LARGE);
    const received = running.tracker.files.receivedBytes;

    const { apiKey } = running.tracker.addUser({ username: "outsider" });
    const outsider = await openSession(running, { apiUser: "outsider", apiKey });
    const guess = await largeItem(outsider, folder.path, "guess", data);
    // Asked directly: no candidate, an upload URL as for content the tracker does not hold.
    const [answer] = await outsider.call<E>([{
      action: "get_upload_metadata",
      component_id: guess.componentId,
      file_name: guess.fileName,
      file_size: SIZE,
      ferry_probe: { size: SIZE, digest: running.tracker.files.probeOf(sha1(data)) },
    }] as never[]);
    ok(answer.url, "an upload URL");
    strictEqual(answer.ferry_candidate, undefined);
    const { openFile, read } = countingReader();
    const outcomes = await uploadFiles(outsider, [guess], { ...LARGE, openFile });
    strictEqual(outcomes.get(guess.componentId)?.kind, "uploaded");
    strictEqual(read.get(guess.path), PROBE_READ + SIZE, "not hashed whole: streamed once");
    strictEqual(running.tracker.files.receivedBytes - received, SIZE);

    running.tracker.setProjectAccess("secret", "outsider", true);
    const allowed = await largeItem(outsider, folder.path, "allowed", data);
    const linked = await uploadFiles(outsider, [allowed], LARGE);
    strictEqual(linked.get(allowed.componentId)?.kind, "reused");
    strictEqual(running.tracker.files.receivedBytes - received, SIZE);
  },
});

Deno.test({
  ...options,
  name: "uploadFiles() against a tracker without content reuse sends a large copy whole, read once, as before",
  fn: async () => {
    await using running = await startTracker({ port: 0, data: ":memory:", contentReuse: false });
    await using folder = await tempFolder();
    const session = await openSession(running);
    await makeShot(session);
    const data = bytesOf(4, SIZE);
    const first = await largeItem(session, folder.path, "a", data);
    await uploadFiles(session, [first], LARGE);
    const copy = await largeItem(session, folder.path, "b", data);
    const { openFile, read } = countingReader();
    const outcomes = await uploadFiles(session, [copy], { ...LARGE, openFile });
    deepStrictEqual(outcomes.get(copy.componentId), { kind: "uploaded", hex: sha1(data), size: SIZE });
    strictEqual(read.get(copy.path), SIZE, "no probe: read once while sent");
    strictEqual(running.tracker.files.receivedBytes, 2 * SIZE);
    // Asked anyway, the probe is ignored: an upload URL.
    const other = await newComponent(session, "asked");
    const [answer] = await session.call<E>([{
      action: "get_upload_metadata",
      component_id: other,
      file_name: "c.exr",
      file_size: SIZE,
      ferry_probe: { size: SIZE, digest: "0".repeat(40) },
    }] as never[]);
    ok(answer.url && answer.ferry_candidate === undefined);
  },
});

Deno.test({
  ...options,
  name: "IntegrateVersion publishes a large plate copied to a new folder under another asset without sending it",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { running, folder, session } = workspace;
    // Just above the default whole-file limit (32 MiB): the plugin's own path, no option lowered.
    const data = bytesOf(5, 32 * MiB + 4096);
    const path = join(folder.path, "plate.mov");
    await writeFile(path, data);
    const publish = async (files: string[], asset: string) => {
      const result = await publishWith(session, {
        context: { path: "demo/sq010/sh010", task: "lighting" },
        instances: [{ family: "plate", name: asset, files }],
      }, { settings: { tools: NO_REVIEW_TOOLS } });
      ok(result.report.ok, JSON.stringify(result.report.results.filter((r: E) => !r.success)));
      const messages = result.report.results.flatMap((r: E) => r.records.map((record: E) => record.message as string));
      return { ...result.report.created[0] as E, messages };
    };
    await publish([path], "plate");
    strictEqual(running.tracker.files.receivedBytes, data.length);
    const copy = join(folder.path, "moved.mov");
    await copyFile(path, copy);
    const second = await publish([copy], "plate_copy");
    strictEqual(running.tracker.files.receivedBytes, data.length, "the copy is not sent");
    deepStrictEqual(second.reused, { files: 1, bytes: data.length });
    ok(
      second.messages.some((message: string) => message.includes("1 found by content")),
      second.messages.join(" | "),
    );
    const [component] = (await session.query(
      `select id from Component where version_id is "${second.versionId}"`,
    )).data as E[];
    strictEqual(await download(running, component.id), sha1(data));
  },
});

Deno.test({
  ...options,
  name:
    "IntegrateVersion to a disk location hard-links a large file copied to a new folder found by its probe; a false candidate is copied",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { folder, session } = workspace;
    await using root = await tempFolder("ferry-large-disk-");
    const data = bytesOf(6, 32 * MiB + 4096);
    const publishDisk = async (path: string, asset: string) => {
      const result = await publishWith(session, {
        context: { path: "demo/sq010/sh010", task: "lighting" },
        location: { disk: root.path },
        instances: [{ family: "plate", name: asset, files: [path] }],
      }, { settings: { tools: NO_REVIEW_TOOLS } });
      ok(result.report.ok, JSON.stringify(result.report.results.filter((r: E) => !r.success)));
      const created = result.report.created[0] as E;
      const [component] = (await session.query(
        `select component_locations.resource_identifier from Component where version_id is "${created.versionId}"`,
      )).data as E[];
      const messages = result.report.results.flatMap((r: E) => r.records.map((record: E) => record.message as string));
      return {
        reused: created.reused,
        placed: join(root.path, component.component_locations[0].resource_identifier),
        messages,
      };
    };
    const path = join(folder.path, "plate.mov");
    await writeFile(path, data);
    const first = await publishDisk(path, "plate");
    deepStrictEqual(first.reused, { files: 0, bytes: 0 });

    const copy = join(folder.path, "moved.mov");
    await copyFile(path, copy);
    const second = await publishDisk(copy, "plate_copy");
    deepStrictEqual(second.reused, { files: 1, bytes: data.length });
    ok(first.placed !== second.placed);
    strictEqual((await Deno.stat(first.placed)).ino, (await Deno.stat(second.placed)).ino, "a hard link");

    const twin = sameProbe(data);
    const twinPath = join(folder.path, "twin.mov");
    await writeFile(twinPath, twin);
    const third = await publishDisk(twinPath, "plate_twin");
    deepStrictEqual(third.reused, { files: 0, bytes: 0 });
    ok((await Deno.stat(third.placed)).ino !== (await Deno.stat(first.placed)).ino);
    strictEqual(sha1(await Deno.readFile(third.placed)), sha1(twin), "the false candidate's own bytes");
    ok(third.messages.some((message: string) => message.includes("read twice")), third.messages.join(" | "));
  },
});

Deno.test({
  ...options,
  name: "get_upload_metadata refuses a ferry_probe whose size is not the file_size, or whose digest is not a SHA-1",
  fn: async () => {
    await using running = await memoryTracker();
    const session = await openSession(running);
    await makeShot(session);
    const componentId = await newComponent(session, "asked");
    const ask = (probe: unknown) =>
      session.call<E>([{
        action: "get_upload_metadata",
        component_id: componentId,
        file_name: "a.exr",
        file_size: SIZE,
        ferry_probe: probe,
      }] as never[]);
    await rejects(
      ask({ size: SIZE + 1, digest: "0".repeat(40) }),
      (error: Error) => /ferry_probe\.size 4194305 is not its file_size 4194304/.test(error.message),
    );
    await rejects(ask({ size: SIZE, digest: "probe" }), (error: Error) => /SHA-1/.test(error.message));
    // A probe nothing matches: an upload URL, as usual.
    const [answer] = await ask({ size: SIZE, digest: "0".repeat(40) });
    ok(answer.url && answer.ferry_candidate === undefined);
  },
});
