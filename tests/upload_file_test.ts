import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { ContextNotFoundError, resolveContext, uploadFile } from "../src/tracker/mod.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";

Deno.test("uploadFile() sends a file once, fingerprinting it, and the tracker holds the same bytes", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const dir = await mkdtemp(join(tmpdir(), "ferry-upload-"));
  try {
    const bytes = new Uint8Array(5_000_123).map((_, i) => (i * 31) % 256);
    const path = join(dir, "beauty.1001.exr");
    await writeFile(path, bytes);
    const componentId = randomUUID();
    const progress: number[] = [];
    const uploaded = await uploadFile(session, {
      componentId,
      path,
      fileName: "beauty.1001.exr",
      onProgress: (n) => progress.push(n),
    });
    strictEqual(uploaded.hex, createHash("sha1").update(bytes).digest("hex"));
    strictEqual(uploaded.size, bytes.length);
    strictEqual(progress.reduce((a, b) => a + b, 0), bytes.length);
    // The tracker returned the SHA-1 of what it stored, so no MD5 was needed on either side.
    deepStrictEqual(running.tracker.files.info(componentId), { size: bytes.length, sha1: uploaded.hex });
    strictEqual(uploaded.md5, undefined);
    await rejects(
      uploadFile(session, { componentId: randomUUID(), path: join(dir, "missing.exr"), fileName: "m.exr" }),
      {
        name: "UploadError",
        message: /missing\.exr': it does not exist/,
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** A stand-in for S3-like storage: answers each PUT with what `answer` makes of the bytes. */
async function withStorage(
  answer: (bytes: Uint8Array) => Record<string, string>,
  use: (url: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const bytes = new Uint8Array(await request.arrayBuffer());
    return new Response(null, { headers: answer(bytes) });
  });
  try {
    await use(`http://127.0.0.1:${server.addr.port}/bucket/key`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("uploadFile() checks storage by MD5 ETag, by returned SHA-1, and streams files over 32 MiB", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const dir = await mkdtemp(join(tmpdir(), "ferry-upload-"));
  try {
    const small = join(dir, "small.exr");
    await writeFile(small, new Uint8Array(70_000).fill(7));
    const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");
    const sha1 = (bytes: Uint8Array) => createHash("sha1").update(bytes).digest("hex");
    const upload = (url: string, extra: Record<string, string> = {}) =>
      uploadFile(session, { componentId: randomUUID(), path: small, fileName: "small.exr", target: { url, ...extra } });
    await withStorage((bytes) => ({ etag: `"${md5(bytes)}"` }), async (url) => {
      const uploaded = await upload(url);
      strictEqual(uploaded.md5, md5(new Uint8Array(70_000).fill(7)));
    });
    await withStorage(() => ({ etag: `"${"0".repeat(32)}"` }), async (url) => {
      await rejects(
        upload(url),
        /small\.exr': the storage holds different bytes \(ETag 0{32}, sent MD5 [0-9a-f]{32}\)/,
      );
    });
    await withStorage((bytes) => ({ "x-ferry-sha1": sha1(bytes.subarray(1)) }), async (url) => {
      await rejects(upload(url, { sha1_header: "x-ferry-sha1" }), /holds different bytes \(stored SHA-1 [0-9a-f]{40}/);
    });
    await withStorage(() => ({}), async (url) => {
      await rejects(upload(url, { sha1_header: "x-ferry-sha1" }), /stored SHA-1 null/);
    });

    const large = new Uint8Array(33 * 1024 * 1024 + 17).map((_, i) => i % 251);
    await writeFile(join(dir, "large.mov"), large);
    const componentId = randomUUID();
    const pieces: number[] = [];
    const uploaded = await uploadFile(session, {
      componentId,
      path: join(dir, "large.mov"),
      fileName: "large.mov",
      chunkSize: 8 * 1024 * 1024,
      onProgress: (n) => pieces.push(n),
    });
    strictEqual(uploaded.hex, sha1(large));
    deepStrictEqual(pieces, [...Array(4).fill(8 * 1024 * 1024), 1024 * 1024 + 17]);
    deepStrictEqual(running.tracker.files.info(componentId), { size: large.length, sha1: uploaded.hex });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

Deno.test("resolveContext() finds project/sequence/shot and the task, and suggests names when it cannot", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const made = await makeShot(session);
  const found = await resolveContext(session, "demo/sq010/sh010", "lighting");
  deepStrictEqual([found.project.id, found.entity.id, found.task?.id], [made.project.id, made.shot.id, made.task.id]);
  deepStrictEqual(found.chain.map((entity) => entity.name), ["sq010", "sh010"]);
  await rejects(resolveContext(session, "demo/sq010/sh01"), (error: unknown) => {
    strictEqual(error instanceof ContextNotFoundError, true);
    strictEqual(
      (error as Error).message,
      "Cannot find 'sh01' under 'sq010' of context 'demo/sq010/sh01'; the closest are 'sh010'",
    );
    return true;
  });
  await rejects(resolveContext(session, "dmeo/sq010"), /among the projects.*'demo'/);
  await rejects(
    resolveContext(session, "demo/sq010/sh010", "lightning"),
    /'lightning' as a task under 'sh010'.*'lighting'/,
  );
});
