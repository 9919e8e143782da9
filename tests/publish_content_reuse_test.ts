/**
 * Content reuse through the upload grant: the uploader asks the embedded tracker whether it holds a
 * file's content (by the SHA-1 of the bytes it read) and sends only what it does not; small files
 * are read once, large ones never read just to ask; a tracker without the extension gets every
 * file; content in a private project is not reusable by those who cannot read it.
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { startTracker } from "../services/tracker/server.ts";
import { uploadFiles } from "../src/tracker/upload_files.ts";
import { NO_REVIEW_TOOLS, placedFrames, publishWith, tempFolder, writeFrames } from "./_publish.ts";
import { makeShot, openSession } from "./_tracker.ts";
import { bytesOf, countingReader, demoShotWorkspace, download, privateShotWorkspace, sha1 } from "./_content_reuse.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const options = { sanitizeOps: false, sanitizeResources: false };

/** A FileComponent of its own version in the demo shot, to upload data for. */
async function newComponent(session: Session, name: string): Promise<string> {
  const [asset] = (await session.query(`select id from Asset where name is "uploads"`)).data as E[];
  const assetId = asset?.id ?? (await session.create("Asset", {
    name: "uploads",
    context_id: ((await session.query(`select id from Shot where name is "sh010"`)).data[0] as E).id,
    type_id: ((await session.query(`select id from AssetType where short is "upload"`)).data[0] as E).id,
  })).data.id;
  const version = (await session.create("AssetVersion", { asset_id: assetId })).data;
  return (await session.create("FileComponent", { name, version_id: version.id, file_type: ".bin" })).data.id;
}

const publishFiles = async (
  session: Session,
  files: string[],
  { asset, context = "demo/sq010/sh010" }: { asset: string; context?: string },
) => {
  const result = await publishWith(session, {
    context: { path: context, task: "lighting" },
    instances: [{ family: "plate", name: asset, files }],
  }, { settings: { tools: NO_REVIEW_TOOLS } });
  ok(result.report.ok, JSON.stringify(result.report.results.filter((r: E) => !r.success)));
  const messages = result.report.results.flatMap((r: E) => r.records.map((record: E) => record.message as string));
  return { ...result.report.created[0] as E, messages };
};

Deno.test({
  ...options,
  name:
    "IntegrateVersion publishes a plate copied to a new folder, under another asset and project, sending nothing; its downloads match",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { running, folder, session } = workspace;
    await makeShot(session, "other");
    const frames = [1001, 1002, 1003, 1004, 1005];
    const paths = await writeFrames(join(folder.path, "scans"), frames, { name: "plate", bytes: 64 * 1024 });
    await writeFile(join(folder.path, "scans", "notes.txt"), bytesOf(1, 3000));
    const first = await publishFiles(
      session,
      [join(folder.path, "scans", "plate.####.exr"), join(folder.path, "scans", "notes.txt")],
      { asset: "plate" },
    );
    deepStrictEqual(first.reused, { files: 0, bytes: 0 });

    // The same plate, copied to another folder (new paths, new modification times), and a single file.
    await mkdir(join(folder.path, "copy"));
    for (const path of paths) await copyFile(path, join(folder.path, "copy", path.split("/").pop()!));
    await copyFile(join(folder.path, "scans", "notes.txt"), join(folder.path, "copy", "plate_notes.txt"));
    const before = running.tracker.files.receivedBytes;
    const second = await publishFiles(
      session,
      [join(folder.path, "copy", "plate.####.exr"), join(folder.path, "copy", "plate_notes.txt")],
      { asset: "plate_copy", context: "other/sq010/sh010" },
    );
    strictEqual(running.tracker.files.receivedBytes - before, 0, "no byte is sent");
    deepStrictEqual(second.reused, { files: 6, bytes: 5 * 64 * 1024 + 3000 });
    ok(
      second.messages.some((message: string) =>
        message.includes(`6 file(s), ${(5 * 64 * 1024 + 3000).toLocaleString("en")} bytes`) &&
        message.includes("6 found by content")
      ),
      `the log says what was reused: ${second.messages.join(" | ")}`,
    );

    const components = (await session.query(
      `select id, name, container_id, size from Component where version_id is "${second.versionId}" or container.version_id is "${second.versionId}"`,
    )).data as E[];
    const members = components.filter((component) => component.container_id);
    strictEqual(members.length, 5);
    for (const member of members) {
      const index = frames.indexOf(Number(member.name));
      strictEqual(await download(running, member.id), sha1(await readFile(paths[index]!)), `frame ${member.name}`);
    }
    const notes = components.find((component) => component.name === "txt")!;
    strictEqual(await download(running, notes.id), sha1(bytesOf(1, 3000)));
    strictEqual(notes.size, 3000);
  },
});

Deno.test({
  ...options,
  name: "IntegrateVersion sends the bytes of identical frames of one publish once (black frames of a plate)",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { running, folder, session } = workspace;
    const black = new Uint8Array(20_000);
    const frames = [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008];
    const content = (frame: number) => frame % 2 === 0 ? black : bytesOf(frame, 20_000);
    for (const frame of frames) await writeFile(join(folder.path, `plate.${frame}.exr`), content(frame));
    const created = await publishFiles(session, [join(folder.path, "plate.####.exr")], { asset: "plate" });
    strictEqual(running.tracker.files.receivedBytes, 5 * 20_000, "4 distinct frames and one black frame are sent");
    deepStrictEqual(created.reused, { files: 3, bytes: 3 * 20_000 });
    const members = (await session.query(
      `select id, name from Component where container.version_id is "${created.versionId}"`,
    )).data as E[];
    strictEqual(members.length, 8);
    for (const member of members) {
      strictEqual(await download(running, member.id), sha1(content(Number(member.name))), `frame ${member.name}`);
    }
  },
});

Deno.test({
  ...options,
  name:
    "IntegrateVersion to a disk location hard-links a copied plate and repeated frames to the content it holds, writing the rest",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { folder, session } = workspace;
    await using root = await tempFolder("ferry-content-disk-");
    const black = new Uint8Array(8192);
    const frames = [1001, 1002, 1003, 1004];
    const content = (frame: number) => frame >= 1003 ? black : bytesOf(frame, 8192);
    await mkdir(join(folder.path, "scans"));
    for (const frame of frames) await writeFile(join(folder.path, "scans", `plate.${frame}.exr`), content(frame));
    const publishDisk = async (directory: string, asset: string) => {
      const result = await publishWith(session, {
        context: { path: "demo/sq010/sh010", task: "lighting" },
        location: { disk: root.path },
        instances: [{ family: "plate", name: asset, files: [join(folder.path, directory, "plate.####.exr")] }],
      }, { settings: { tools: NO_REVIEW_TOOLS } });
      ok(result.report.ok, JSON.stringify(result.report.results.filter((r: E) => !r.success)));
      const created = result.report.created[0] as E;
      const placed = await placedFrames(session, created.versionId, root.path);
      return { reused: created.reused, placed };
    };
    const first = await publishDisk("scans", "plate");
    deepStrictEqual(first.reused, { files: 1, bytes: 8192 }, "the second black frame links to the first");
    strictEqual((await Deno.stat(first.placed.get(1003)!)).ino, (await Deno.stat(first.placed.get(1004)!)).ino);

    await mkdir(join(folder.path, "copy"));
    for (const frame of frames) {
      await copyFile(join(folder.path, "scans", `plate.${frame}.exr`), join(folder.path, "copy", `plate.${frame}.exr`));
    }
    const second = await publishDisk("copy", "plate_copy");
    deepStrictEqual(second.reused, { files: 4, bytes: 4 * 8192 });
    for (const frame of frames) {
      const [a, b] = [first.placed.get(frame)!, second.placed.get(frame)!];
      ok(a !== b);
      strictEqual((await Deno.stat(a)).ino, (await Deno.stat(b)).ino, `frame ${frame} is a hard link`);
      deepStrictEqual(new Uint8Array(await readFile(b)), content(frame));
    }
  },
});

Deno.test({
  ...options,
  name:
    "IntegrateVersion does not trust a racy stamp: a frame rewritten with the same size and modification time is sent",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { running, folder, session } = workspace;
    const frames = [1001, 1002, 1003];
    // Published the moment they are written: their stamps are racy.
    const paths = await writeFrames(folder.path, frames, { bytes: 4096 });
    const files = [join(folder.path, "beauty.####.exr")];
    await publishFiles(session, files, { asset: "beauty" });
    // Frame 1002 changes within the same tick of the file system's clock: size and time as before.
    const { mtime, atime } = await Deno.stat(paths[1]!);
    const changed = bytesOf(9, 4096);
    await writeFile(paths[1]!, changed);
    await Deno.utime(paths[1]!, atime!, mtime!);
    const before = running.tracker.files.receivedBytes;
    const second = await publishFiles(session, files, { asset: "beauty" });
    strictEqual(running.tracker.files.receivedBytes - before, 4096, "the changed frame is sent");
    deepStrictEqual(second.reused, { files: 2, bytes: 2 * 4096 }, "the others are found by content");
    const [member] = (await session.query(
      `select id from Component where name is "1002" and container.version_id is "${second.versionId}"`,
    )).data as E[];
    strictEqual(await download(running, member.id), sha1(changed));
  },
});

Deno.test({
  ...options,
  name: "uploadFiles() reads a small file once: hashed, asked about and sent from the same buffer, or linked",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { running, folder, session } = workspace;
    const data = bytesOf(2, 300 * 1024);
    const [a, b] = [join(folder.path, "a.bin"), join(folder.path, "b.bin")];
    await writeFile(a, data);
    await writeFile(b, data);
    const { openFile, read } = countingReader();
    const files = running.tracker.files;

    const first = await newComponent(session, "a");
    let received = files.receivedBytes;
    const sent = await uploadFiles(session, [{ componentId: first, path: a, fileName: "a.bin", size: data.length }], {
      openFile,
    });
    deepStrictEqual(sent.get(first), { kind: "uploaded", hex: sha1(data), size: data.length });
    strictEqual(read.get(a), data.length, "read once, hashed and sent from one buffer");
    strictEqual(files.receivedBytes - received, data.length);

    const second = await newComponent(session, "b");
    received = files.receivedBytes;
    const linked = await uploadFiles(
      session,
      [{ componentId: second, path: b, fileName: "b.bin", size: data.length }],
      {
        openFile,
      },
    );
    deepStrictEqual(linked.get(second), { kind: "reused", hex: sha1(data), size: data.length, hashed: true });
    strictEqual(read.get(b), data.length, "read once to hash it");
    strictEqual(files.receivedBytes - received, 0, "nothing sent");
    strictEqual(await download(running, second), sha1(data));
  },
});

Deno.test({
  ...options,
  name: "uploadFiles() does not read a large file to ask about it: it streams once, or is linked by a known SHA-1",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { running, folder, session } = workspace;
    const data = bytesOf(3, 256 * 1024);
    const path = join(folder.path, "large.bin");
    await writeFile(path, data);
    const files = running.tracker.files;
    // "Large": above the whole-file limit, which the test lowers to keep the files small.
    const limit = { wholeFileLimit: 64 * 1024 };
    const first = await newComponent(session, "first");
    await uploadFiles(session, [{ componentId: first, path, fileName: "large.bin", size: data.length }], limit);

    // Held already, but its SHA-1 is unknown: streamed (read once), not hashed first.
    const { openFile, read } = countingReader();
    const second = await newComponent(session, "second");
    let received = files.receivedBytes;
    const streamed = await uploadFiles(session, [
      { componentId: second, path, fileName: "large.bin", size: data.length },
    ], { ...limit, openFile });
    strictEqual(streamed.get(second)?.kind, "uploaded");
    strictEqual(read.get(path), data.length, "read once, while it was sent");
    strictEqual(files.receivedBytes - received, data.length);

    // Its SHA-1 known (a fingerprint taken earlier): asked about without reading it.
    read.clear();
    const third = await newComponent(session, "third");
    received = files.receivedBytes;
    const linked = await uploadFiles(session, [
      { componentId: third, path, fileName: "large.bin", size: data.length, sha1: sha1(data) },
    ], { ...limit, openFile });
    deepStrictEqual(linked.get(third), { kind: "reused", hex: sha1(data), size: data.length, hashed: false });
    strictEqual(read.get(path), undefined, "not read at all");
    strictEqual(files.receivedBytes - received, 0);
    strictEqual(await download(running, third), sha1(data));
  },
});

Deno.test({
  ...options,
  name:
    "uploadFiles() with a small memory budget and small batches reads and sends each of many files once; progress adds up",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { running, folder, session } = workspace;
    const { openFile, read } = countingReader();
    const items = [];
    for (let i = 0; i < 24; i++) {
      const path = join(folder.path, `f${i}.bin`);
      await writeFile(path, bytesOf(100 + i, 40 * 1024));
      items.push({ componentId: await newComponent(session, `f${i}`), path, fileName: `f${i}.bin`, size: 40 * 1024 });
    }
    let expected = 0;
    let done = 0;
    const outcomes = await uploadFiles(session, items, {
      openFile,
      memoryBytes: 100 * 1024,
      concurrency: 2,
      askBatch: 5,
      onExpect: (bytes) => expected += bytes,
      onProgress: (bytes) => done += bytes,
    });
    strictEqual(outcomes.size, 24);
    strictEqual(expected, 24 * 40 * 1024);
    strictEqual(done, expected);
    for (const [i, item] of items.entries()) {
      strictEqual(read.get(item.path), 40 * 1024, `f${i} read once`);
      strictEqual(await download(running, item.componentId), sha1(bytesOf(100 + i, 40 * 1024)));
    }
  },
});

Deno.test({
  ...options,
  name: "uploadFiles() fails naming a file that went missing, once the uploads in flight have settled",
  fn: async () => {
    await using workspace = await demoShotWorkspace();
    const { folder, session } = workspace;
    const items = [];
    for (let i = 0; i < 6; i++) {
      const path = join(folder.path, `f${i}.bin`);
      if (i !== 3) await writeFile(path, bytesOf(200 + i, 10_000));
      items.push({ componentId: await newComponent(session, `f${i}`), path, fileName: `f${i}.bin`, size: 10_000 });
    }
    const done: string[] = [];
    await rejects(
      uploadFiles(session, items, { onFile: (file) => void done.push(file.fileName) }),
      (error: Error) =>
        error.name === "UploadError" && error.message.includes("f3.bin") && /does not exist/.test(error.message),
    );
    const settled = done.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    strictEqual(done.length, settled, "nothing goes on after the failure is thrown");
    ok(!done.includes("f3.bin"));
  },
});

Deno.test({
  ...options,
  name: "IntegrateVersion against a tracker without the content-reuse extension uploads every file, as before",
  fn: async () => {
    await using running = await startTracker({ port: 0, data: ":memory:", contentReuse: false });
    await using folder = await tempFolder();
    const session = await openSession(running);
    strictEqual((session.serverInformation as E).ferry_content_reuse, undefined, "not announced");
    await makeShot(session);
    const frames = [1001, 1002, 1003, 1004];
    await writeFrames(folder.path, frames, { bytes: 4096 });
    const files = [join(folder.path, "beauty.####.exr")];
    const received = () => running.tracker.files.receivedBytes;
    const first = await publishFiles(session, files, { asset: "beauty" });
    strictEqual(received(), 4 * 4096);
    const second = await publishFiles(session, files, { asset: "beauty" });
    deepStrictEqual(second.reused, { files: 0, bytes: 0 });
    strictEqual(received(), 2 * 4 * 4096, "the unchanged frames are sent again");
    ok(second.versionId !== first.versionId);
    // Asked anyway, the extension is not there: ferry_sha1 is ignored and an upload URL given.
    const componentId = await newComponent(session, "asked");
    const [answer] = await session.call<E>([{
      action: "get_upload_metadata",
      component_id: componentId,
      file_name: "a.exr",
      file_size: 4096,
      ferry_sha1: "0".repeat(40),
    }] as never[]);
    ok(answer.url && answer.ferry_reused === undefined);
  },
});

Deno.test({
  ...options,
  name:
    "get_upload_metadata with ferry_sha1 does not give a user content of a private project they cannot read; access given, it does",
  fn: async () => {
    await using workspace = await privateShotWorkspace();
    const { running, folder, session: admin } = workspace;
    const [data, later] = [bytesOf(4, 5000), bytesOf(5, 5000)];
    const [path, laterPath] = [join(folder.path, "secret.bin"), join(folder.path, "secret.txt")];
    await writeFile(path, data);
    await writeFile(laterPath, later);
    await publishFiles(admin, [path, laterPath], { asset: "key", context: "secret/sq010/sh010" });

    const { apiKey } = running.tracker.addUser({ username: "outsider" });
    const outsider = await openSession(running, { apiUser: "outsider", apiKey });
    // By SHA-1 alone, asked directly: an upload URL, as for content the tracker does not hold.
    const componentId = await newComponent(outsider, "guess");
    const ask = () =>
      outsider.call<E>([
        {
          action: "get_upload_metadata",
          component_id: componentId,
          file_name: "guess.bin",
          file_size: data.length,
          ferry_sha1: sha1(data),
        },
        { action: "ferry_reuse_component_data", component_id: componentId, sha1: sha1(data) },
      ] as never[]);
    const [grant, reuse] = await ask();
    ok(grant.url, "an upload URL");
    strictEqual(grant.ferry_reused, undefined);
    strictEqual(reuse.reused, false);
    strictEqual(running.tracker.files.has(componentId), false, "nothing linked");

    // Publishing the same bytes: they are sent (and stored once all the same).
    const before = running.tracker.files.receivedBytes;
    const own = join(folder.path, "mine.bin");
    await writeFile(own, data);
    const published = await publishFiles(outsider, [own], { asset: "mine" });
    deepStrictEqual(published.reused, { files: 0, bytes: 0 });
    strictEqual(running.tracker.files.receivedBytes - before, data.length);

    // Given access to the private project, the same question links the content.
    running.tracker.setProjectAccess("secret", "outsider", true);
    const other = await newComponent(outsider, "allowed");
    const [allowed] = await outsider.call<E>([{
      action: "get_upload_metadata",
      component_id: other,
      file_name: "allowed.bin",
      file_size: data.length,
      ferry_sha1: sha1(later),
    }] as never[]);
    strictEqual(allowed.ferry_reused, true);
    strictEqual(allowed.url, undefined);
    strictEqual(running.tracker.files.info(other)?.sha1, sha1(later));
  },
});
