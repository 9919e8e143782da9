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
    strictEqual(running.tracker.files.info(componentId)?.md5, uploaded.md5);
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
