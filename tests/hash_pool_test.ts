import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { HashPool } from "../src/fingerprint/hash_pool.ts";
import { FingerprintError } from "../src/fingerprint/fingerprint_error.ts";

Deno.test("HashPool: a crashed worker fails only its own file, is replaced, and the pool goes on", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ferry-pool-"));
  await using pool = new HashPool({ size: 2, workerUrl: new URL("./_crashing_hash_worker.ts", import.meta.url) });
  try {
    const paths = Array.from({ length: 6 }, (_, i) => join(dir, `frame.${i}.exr`));
    for (const [i, path] of paths.entries()) await writeFile(path, `frame ${i}`);
    const crash = join(dir, "bad.crash");
    await writeFile(crash, "x");
    const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

    const results = await Promise.allSettled([crash, ...paths, crash].map((path) => pool.hash(path)));
    for (const at of [0, 7]) {
      const failed = results[at]!;
      strictEqual(failed.status, "rejected");
      const error = (failed as PromiseRejectedResult).reason;
      strictEqual(error instanceof FingerprintError, true);
      strictEqual(error.path, crash);
      strictEqual(error.message, `Cannot fingerprint '${crash}': the hash worker crashed: simulated crash`);
    }
    deepStrictEqual(
      results.slice(1, 7).map((result) => (result as PromiseFulfilledResult<{ hex: string }>).value.hex),
      paths.map((_, i) => sha1(`frame ${i}`)),
    );
    // Both threads are still there: two more files hash at once.
    const again = await Promise.all(paths.slice(0, 2).map((path) => pool.hash(path)));
    deepStrictEqual(again.map((digest) => digest.hex), [sha1("frame 0"), sha1("frame 1")]);
    strictEqual(pool.size, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

Deno.test("HashPool: closing it rejects queued files as aborted", async () => {
  const pool = new HashPool({ size: 1 });
  const pending = pool.hash("/does/not/matter");
  await pool.close();
  await rejects(pending, { name: "FingerprintError", message: /the hash pool was closed/ });
  await rejects(pool.hash("/x"), /the hash pool is closed/);
});
