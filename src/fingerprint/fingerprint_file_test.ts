import { createHash } from "node:crypto";
import { appendFile, chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deepStrictEqual, rejects, strictEqual, throws } from "node:assert/strict";
import { checkAlgorithm } from "./algorithm.ts";
import { FingerprintError } from "./fingerprint_error.ts";
import { fingerprintFile } from "./fingerprint_file.ts";

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "ferry-fingerprint-"));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** Bytes that are not all alike, so an off-by-one read would change the digest. */
function bytes(size: number): Uint8Array {
  const data = new Uint8Array(size);
  let state = 12345;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    data[i] = state >>> 24;
  }
  return data;
}

Deno.test("fingerprintFile() gives the standard digests of known inputs", async (t) => {
  await using dir = await tempDir();
  const path = join(dir.path, "abc.txt");
  await writeFile(path, "abc");
  const cases = [
    ["sha1", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    ["sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["md5", "900150983cd24fb0d6963f7d28e17f72"],
  ] as const;
  for (const [algorithm, hex] of cases) {
    await t.step(algorithm, async () => {
      deepStrictEqual(await fingerprintFile(path, { algorithm }), { algorithm, hex, size: 3 });
    });
  }
  await t.step("sha1 is the default", async () => strictEqual((await fingerprintFile(path)).algorithm, "sha1"));
  await t.step("empty file", async () => {
    const empty = join(dir.path, "empty");
    await writeFile(empty, "");
    deepStrictEqual(await fingerprintFile(empty), {
      algorithm: "sha1",
      hex: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
      size: 0,
    });
  });
});

Deno.test("fingerprintFile() streams files larger than a chunk, in order, whatever the chunk size", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "big.bin");
  const data = bytes(3 * 65536 + 123);
  await writeFile(path, data);
  const want = createHash("sha1").update(data).digest("hex");
  for (const chunkSize of [4096, 65536, 1024 * 1024]) {
    const chunks: number[] = [];
    const result = await fingerprintFile(path, { chunkSize, onProgress: (n) => chunks.push(n) });
    strictEqual(result.hex, want, `chunk size ${chunkSize}`);
    strictEqual(result.size, data.length);
    strictEqual(chunks.reduce((a, b) => a + b, 0), data.length);
  }
});

Deno.test("fingerprintFile() feeds every chunk to onChunk, so an upload can read the file once", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "big.bin");
  const data = bytes(200_000);
  await writeFile(path, data);
  const copy = createHash("sha1");
  let total = 0;
  await fingerprintFile(path, {
    chunkSize: 65536,
    onChunk: async (chunk) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      copy.update(chunk);
      total += chunk.length;
    },
  });
  strictEqual(total, data.length);
  strictEqual(copy.digest("hex"), createHash("sha1").update(data).digest("hex"));
});

Deno.test("fingerprintFile() errors name the path and the problem", async (t) => {
  await using dir = await tempDir();
  await t.step("missing", async () => {
    const path = join(dir.path, "nope.exr");
    await rejects(fingerprintFile(path), (error: unknown) => {
      strictEqual(error instanceof FingerprintError, true);
      strictEqual((error as FingerprintError).problem, "missing");
      strictEqual((error as FingerprintError).path, path);
      strictEqual((error as Error).message, `Cannot fingerprint '${path}': it does not exist`);
      return true;
    });
  });
  await t.step("a directory", async () => {
    await rejects(fingerprintFile(dir.path), { name: "FingerprintError", message: /directory|not a regular file/ });
  });
  await t.step("changed while read", async () => {
    const path = join(dir.path, "growing.bin");
    await writeFile(path, bytes(300_000));
    await rejects(
      fingerprintFile(path, { chunkSize: 65536, onChunk: () => appendFile(path, "more") }),
      (error: unknown) => {
        strictEqual((error as FingerprintError).problem, "changed");
        strictEqual((error as Error).message.startsWith(`Cannot fingerprint '${path}': it changed while`), true);
        return true;
      },
    );
  });
  await t.step("unreadable", async () => {
    const path = join(dir.path, "secret.bin");
    await writeFile(path, "x");
    await chmod(path, 0o000);
    if (process.getuid?.() === 0) {
      // root reads any file, so the real check cannot fail here; check the mapping instead.
      const error = FingerprintError.fromSystemError(path, Object.assign(new Error("EACCES"), { code: "EACCES" }));
      strictEqual(error.problem, "unreadable");
      strictEqual(error.message, `Cannot fingerprint '${path}': permission denied`);
      return;
    }
    await rejects(fingerprintFile(path), { name: "FingerprintError", message: /permission denied/ });
  });
  await t.step("aborted", async () => {
    const path = join(dir.path, "a.bin");
    await writeFile(path, bytes(10));
    await rejects(fingerprintFile(path, { signal: AbortSignal.abort() }), (error: unknown) => {
      strictEqual((error as FingerprintError).problem, "aborted");
      return true;
    });
  });
  await t.step("bad options", async () => {
    await rejects(fingerprintFile("x", { algorithm: "crc32" as "sha1" }), { name: "TypeError", message: /'crc32'/ });
    await rejects(fingerprintFile("x", { chunkSize: 10 }), { name: "RangeError", message: /'10'/ });
    throws(() => checkAlgorithm("sha512"), /choose one of sha1, sha256, md5/);
  });
});
