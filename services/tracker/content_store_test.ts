import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { PROBE_MIN_SIZE, ProbeHasher } from "../../src/tracker/content_probe.ts";
import { ContentStore } from "./content_store.ts";
import { FileStore } from "./file_store.ts";
import { bytesOf } from "../../tests/_bytes.ts";

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

async function fixture() {
  const folder = await mkdtemp(join(tmpdir(), "ferry-contents-"));
  const db = new DatabaseSync(":memory:");
  let n = 0;
  return {
    folder,
    db,
    store: new ContentStore(db, folder),
    /** A received upload with this text, as the tracker's partial file. */
    async upload(text: string): Promise<string> {
      const path = join(folder, `upload-${n++}`);
      await writeFile(path, text);
      return path;
    },
    async objects(): Promise<string[]> {
      const names: string[] = [];
      for (const prefix of await readdir(join(folder, "objects")).catch(() => [])) {
        for (const rest of await readdir(join(folder, "objects", prefix))) names.push(prefix + rest);
      }
      return names.sort();
    },
    async [Symbol.asyncDispose]() {
      db.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

Deno.test("ContentStore.adopt() stores a content once for every component holding it", async () => {
  await using f = await fixture();
  const first = await f.store.adopt("c1", await f.upload("frame 1001"), { sha1: sha1("frame 1001"), size: 10 });
  const second = await f.store.adopt("c2", await f.upload("frame 1001"), { sha1: sha1("frame 1001"), size: 10 });
  await f.store.adopt("c3", await f.upload("frame 1002"), { sha1: sha1("frame 1002"), size: 10 });
  deepStrictEqual([first.reused, second.reused], [false, true]);
  deepStrictEqual(await f.objects(), [sha1("frame 1001"), sha1("frame 1002")].sort());
  strictEqual(f.store.content(sha1("frame 1001"))?.refs, 2);
  strictEqual(await readFile(f.store.pathOf("c2")!, "utf8"), "frame 1001");
  ok(!(await readdir(f.folder)).some((name) => name.startsWith("upload-")), "received files are moved or removed");
});

Deno.test("ContentStore.release() keeps a content another component refers to, and removes it with the last", async () => {
  await using f = await fixture();
  const hex = sha1("plate");
  await f.store.adopt("v1", await f.upload("plate"), { sha1: hex, size: 5 });
  ok(await f.store.link("v2", hex), "a second version links the stored content, nothing sent");
  ok(await f.store.release("v1"));
  strictEqual(await readFile(f.store.pathOf("v2")!, "utf8"), "plate", "the other version's data is kept");
  strictEqual(f.store.content(hex)?.refs, 1);
  ok(await f.store.release("v2"));
  strictEqual(f.store.content(hex), undefined);
  deepStrictEqual(await f.objects(), []);
  strictEqual(await f.store.release("v2"), false, "a second release does nothing");
});

Deno.test("ContentStore.link() refuses contents it does not hold and values that are not SHA-1s", async () => {
  await using f = await fixture();
  strictEqual(await f.store.link("c1", sha1("never stored")), false);
  strictEqual(f.store.pathOf("c1"), undefined);
  await rejects(f.store.link("c1", "abc"), (error: Error) => error instanceof TypeError && /'abc'/.test(error.message));
});

Deno.test("ContentStore relinking a component releases its earlier content", async () => {
  await using f = await fixture();
  await f.store.adopt("c1", await f.upload("old"), { sha1: sha1("old"), size: 3 });
  await f.store.adopt("c1", await f.upload("new"), { sha1: sha1("new"), size: 3 });
  strictEqual(f.store.content(sha1("old")), undefined);
  strictEqual(await readFile(f.store.pathOf("c1")!, "utf8"), "new");
  deepStrictEqual(await f.objects(), [sha1("new")]);
});

Deno.test("ContentStore adoptions and releases of one content at once never lose data that is referred to", async () => {
  await using f = await fixture();
  const hex = sha1("shared");
  for (let round = 0; round < 20; round++) {
    await f.store.adopt(`a${round}`, await f.upload("shared"), { sha1: hex, size: 6 });
    const uploads = await Promise.all([f.upload("shared"), f.upload("shared")]);
    await Promise.all([
      f.store.release(`a${round}`),
      f.store.adopt(`b${round}`, uploads[0]!, { sha1: hex, size: 6 }),
      f.store.adopt(`c${round}`, uploads[1]!, { sha1: hex, size: 6 }),
    ]);
    strictEqual(await readFile(f.store.pathOf(`b${round}`)!, "utf8"), "shared");
    await Promise.all([f.store.release(`b${round}`), f.store.release(`c${round}`)]);
    deepStrictEqual(await f.objects(), []);
  }
});

Deno.test("ContentStore.migrate() moves one-file-per-component data in, a duplicate stored once", async () => {
  await using f = await fixture();
  const files = [
    { componentId: "c1", path: await f.upload("frame"), sha1: sha1("frame") },
    { componentId: "c2", path: await f.upload("frame"), sha1: sha1("frame") },
    { componentId: "c3", path: await f.upload("other"), sha1: sha1("other") },
    { componentId: "c4", path: join(f.folder, "missing"), sha1: sha1("missing") },
  ];
  strictEqual(await f.store.migrate(files), 5, "the duplicate's bytes are saved");
  deepStrictEqual(await f.objects(), [sha1("frame"), sha1("other")].sort());
  strictEqual(await readFile(f.store.pathOf("c2")!, "utf8"), "frame");
  strictEqual(f.store.pathOf("c4"), undefined, "a component whose file was missing stays without data");
});

Deno.test("ContentStore.linkMany() links every component whose content is stored, and releases what a relink leaves", async () => {
  await using f = await fixture();
  await f.store.adopt("c1", await f.upload("frame 1001"), { sha1: sha1("frame 1001"), size: 10 });
  await f.store.adopt("c2", await f.upload("frame 1002"), { sha1: sha1("frame 1002"), size: 10 });
  const answers = await f.store.linkMany([
    { componentId: "c3", sha1: sha1("frame 1001") },
    { componentId: "c4", sha1: sha1("never stored") },
    { componentId: "c2", sha1: sha1("frame 1001") },
  ]);
  deepStrictEqual(answers, [true, false, true]);
  strictEqual(f.store.content(sha1("frame 1001"))?.refs, 3);
  strictEqual(f.store.content(sha1("frame 1002")), undefined);
  deepStrictEqual(await f.objects(), [sha1("frame 1001")], "the content nothing refers to any more is removed");
  strictEqual(f.store.sha1Of("c4"), undefined);
});

/** The probe of `data` as the uploader takes it (its sampled blocks). */
function probeOfBytes(data: Uint8Array): string {
  const hasher = new ProbeHasher(data.length);
  for (const [start, end] of hasher.ranges) hasher.update(data.subarray(start, end), start);
  return hasher.digest();
}

const hexOf = (data: Uint8Array) => createHash("sha1").update(data).digest("hex");

Deno.test("ContentStore.adopt() records the probe of a large content (given, or read from the file); it goes with the content", async () => {
  await using f = await fixture();
  const large = bytesOf(1, PROBE_MIN_SIZE + 12345);
  const other = bytesOf(2, PROBE_MIN_SIZE + 12345);
  const [a, b, small] = [join(f.folder, "a"), join(f.folder, "b"), join(f.folder, "s")];
  await writeFile(a, large);
  await writeFile(b, other);
  await writeFile(small, "small");
  await f.store.adopt("c1", a, { sha1: hexOf(large), size: large.length });
  await f.store.adopt("c2", b, { sha1: hexOf(other), size: other.length, probe: probeOfBytes(other) });
  await f.store.adopt("c3", small, { sha1: sha1("small"), size: 5 });
  strictEqual(f.store.content(hexOf(large))?.probe, probeOfBytes(large), "read from the file");
  strictEqual(f.store.content(hexOf(other))?.probe, probeOfBytes(other), "as given");
  strictEqual(f.store.content(sha1("small"))?.probe, undefined, "no probe below PROBE_MIN_SIZE");
  deepStrictEqual(await f.store.withProbe(large.length, probeOfBytes(large)), [hexOf(large)]);
  deepStrictEqual(await f.store.withProbe(large.length, probeOfBytes(other)), [hexOf(other)]);
  deepStrictEqual(await f.store.withProbe(large.length + 1, probeOfBytes(large)), [], "another size");
  ok(await f.store.link("c4", hexOf(large)));
  await f.store.release("c1");
  deepStrictEqual(await f.store.withProbe(large.length, probeOfBytes(large)), [hexOf(large)], "still referred to");
  await f.store.release("c4");
  deepStrictEqual(await f.store.withProbe(large.length, probeOfBytes(large)), [], "gone with its content");
});

Deno.test("ContentStore.withProbe() and fillProbes() compute the probes of contents stored before probes were kept", async () => {
  await using f = await fixture();
  const contents = [bytesOf(3, PROBE_MIN_SIZE), bytesOf(4, PROBE_MIN_SIZE), bytesOf(5, PROBE_MIN_SIZE + 1)];
  for (const [i, data] of contents.entries()) {
    const path = join(f.folder, `u${i}`);
    await writeFile(path, data);
    await f.store.adopt(`c${i}`, path, { sha1: hexOf(data), size: data.length });
  }
  f.db.exec("UPDATE contents SET probe = NULL");
  strictEqual(f.store.content(hexOf(contents[0]!))?.probe, undefined);
  // Asked about one size: the contents of that size get their probes first.
  deepStrictEqual(await f.store.withProbe(PROBE_MIN_SIZE, probeOfBytes(contents[1]!)), [hexOf(contents[1]!)]);
  strictEqual(f.store.content(hexOf(contents[0]!))?.probe, probeOfBytes(contents[0]!));
  strictEqual(f.store.content(hexOf(contents[2]!))?.probe, undefined, "another size is left for later");
  strictEqual(f.store.missingProbes(), 1);
  strictEqual(await f.store.fillProbes(), 1);
  strictEqual(f.store.missingProbes(), 0);
  strictEqual(f.store.content(hexOf(contents[2]!))?.probe, probeOfBytes(contents[2]!));
});

Deno.test("FileStore opening a layout-3 data folder records the probes of its large contents once (layout 4)", async () => {
  const folder = await mkdtemp(join(tmpdir(), "ferry-files-"));
  const db = new DatabaseSync(":memory:");
  try {
    const data = bytesOf(6, PROBE_MIN_SIZE + 7);
    const first = await FileStore.open(db, folder);
    await first.write("c1", data);
    strictEqual(first.probeOf(hexOf(data)), probeOfBytes(data), "recorded when stored");
    // As a ferry before probes left it.
    db.exec("UPDATE contents SET probe = NULL");
    db.exec("UPDATE file_layout SET version = 3");
    strictEqual(first.probeOf(hexOf(data)), undefined);
    const reopened = await FileStore.open(db, folder);
    strictEqual(reopened.probeOf(hexOf(data)), probeOfBytes(data));
    strictEqual((db.prepare("SELECT version FROM file_layout").get() as { version: number }).version, 4);
    deepStrictEqual(await reopened.candidates(data.length, probeOfBytes(data)), [hexOf(data)]);
    strictEqual(hexOf(await readFile(reopened.path("c1"))), hexOf(data), "the data is untouched");
  } finally {
    db.close();
    await rm(folder, { recursive: true, force: true });
  }
});
