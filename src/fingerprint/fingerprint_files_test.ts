import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deepStrictEqual, rejects, strictEqual, throws } from "node:assert/strict";
import { Collection } from "../sequence/collection.ts";
import { FingerprintError } from "./fingerprint_error.ts";
import { fingerprintFiles, type FingerprintProgress } from "./fingerprint_files.ts";
import { fingerprintSequence } from "./fingerprint_sequence.ts";
import { HashPool } from "./hash_pool.ts";

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "ferry-fingerprints-"));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

const sha1 = (data: string | Uint8Array) => createHash("sha1").update(data).digest("hex");

async function writeFrames(dir: string, count: number): Promise<string[]> {
  const paths: string[] = [];
  for (let frame = 1; frame <= count; frame++) {
    const path = join(dir, `beauty.${String(frame).padStart(4, "0")}.exr`);
    await writeFile(path, `frame ${frame} `.repeat(frame * 100));
    paths.push(path);
  }
  return paths;
}

for (const threads of [false, true]) {
  Deno.test(`fingerprintFiles() returns digests in input order (threads: ${threads})`, async () => {
    await using dir = await tempDir();
    const paths = (await writeFrames(dir.path, 12)).reverse();
    const updates: FingerprintProgress[] = [];
    const results = await fingerprintFiles(paths, { threads, concurrency: 2, onProgress: (p) => updates.push(p) });
    const contents = await Promise.all(paths.map((path) => Deno.readFile(path)));
    deepStrictEqual(results.map((r) => r.hex), contents.map((c) => sha1(c)));
    deepStrictEqual(results.map((r) => r.size), contents.map((c) => c.length));
    const last = updates[updates.length - 1]!;
    const total = contents.reduce((sum, c) => sum + c.length, 0);
    deepStrictEqual(last, { bytes: total, totalBytes: total, files: 12, totalFiles: 12 });
  });

  Deno.test(`fingerprintFiles() fails naming the missing file (threads: ${threads})`, async () => {
    await using dir = await tempDir();
    const paths = await writeFrames(dir.path, 3);
    const missing = join(dir.path, "beauty.0004.exr");
    await rejects(fingerprintFiles([...paths, missing], { threads, concurrency: 2 }), (error: unknown) => {
      strictEqual(error instanceof FingerprintError, true);
      strictEqual((error as FingerprintError).path, missing);
      strictEqual((error as FingerprintError).problem, "missing");
      return true;
    });
  });
}

Deno.test("fingerprintFiles() on worker threads reports a file that vanishes after it was measured", async () => {
  await using dir = await tempDir();
  const paths = await writeFrames(dir.path, 4);
  let removed = false;
  await rejects(
    fingerprintFiles(paths, {
      threads: true,
      concurrency: 2,
      onProgress: (progress) => {
        // Sizes are known once the first progress arrives; remove the last file before it is hashed.
        if (!removed && progress.files === 0) {
          removed = true;
          Deno.removeSync(paths[3]!);
        }
      },
    }),
    { name: "FingerprintError", message: new RegExp(`'${paths[3]!.replaceAll(".", "\\.")}': it does not exist`) },
  );
});

Deno.test("fingerprintFiles() refuses a bad concurrency and an empty list gives no digests", async () => {
  await rejects(fingerprintFiles(["a"], { concurrency: 0 }), { name: "RangeError", message: /'0'/ });
  deepStrictEqual(await fingerprintFiles([]), []);
});

Deno.test("fingerprintSequence() combines member digests as a sha1sum manifest in frame order", async () => {
  await using dir = await tempDir();
  const paths = await writeFrames(dir.path, 5);
  const frames = new Collection({ head: "beauty.", tail: ".exr", padding: 4, indexes: [5, 1, 3, 2, 4] });
  const result = await fingerprintSequence(frames, { directory: dir.path });
  const contents = await Promise.all(paths.map((path) => Deno.readFile(path)));
  const manifest = contents.map((c, i) => `${sha1(c)}  beauty.${String(i + 1).padStart(4, "0")}.exr\n`).join("");
  strictEqual(result.hex, sha1(manifest));
  strictEqual(result.size, contents.reduce((sum, c) => sum + c.length, 0));
  deepStrictEqual(result.members.map((m) => [m.frame, m.path]), paths.map((path, i) => [i + 1, path]));

  // The combined digest ignores the folder: the same files elsewhere give the same value.
  const absolute = new Collection({
    head: join(dir.path, "beauty."),
    tail: ".exr",
    padding: 4,
    indexes: [1, 2, 3, 4, 5],
  });
  strictEqual((await fingerprintSequence(absolute)).hex, result.hex);
  strictEqual((await fingerprintSequence(frames, { directory: dir.path, algorithm: "md5" })).algorithm, "md5");
});

Deno.test("fingerprintFiles() reuses a caller's HashPool across calls and leaves it open", async () => {
  await using dir = await tempDir();
  const paths = await writeFrames(dir.path, 6);
  await using workers = new HashPool({ size: 2 });
  const first = await fingerprintFiles(paths, { workers, threads: true });
  const second = await fingerprintFiles(paths.slice(0, 2), { workers, threads: true, algorithm: "md5" });
  strictEqual(first.length, 6);
  strictEqual(second[0]!.algorithm, "md5");
  strictEqual(second[0]!.hex, createHash("md5").update(await Deno.readFile(paths[0]!)).digest("hex"));
  strictEqual((await workers.hash(paths[5]!)).hex, first[5]!.hex);
});

Deno.test("fingerprintFiles() stops when aborted, on threads and off", async () => {
  await using dir = await tempDir();
  const paths = await writeFrames(dir.path, 3);
  for (const threads of [false, true]) {
    await rejects(fingerprintFiles(paths, { threads, signal: AbortSignal.abort() }), { name: "AbortError" });
    const controller = new AbortController();
    const running = fingerprintFiles(paths, {
      threads,
      concurrency: 2,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await rejects(running, (error: unknown) => {
      const problem = (error as FingerprintError).problem;
      strictEqual(problem === "aborted" || (error as Error).name === "AbortError", true);
      return true;
    });
  }
});

Deno.test("HashPool refuses a bad size, naming it", () => {
  throws(() => new HashPool({ size: 0 }), { name: "RangeError", message: /'0'/ });
});
