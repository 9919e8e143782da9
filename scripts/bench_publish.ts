/**
 * `deno task bench publish`: 1,000 frames of 1 MiB published to `ftrack.server` on the embedded
 * tracker, beside reading the same bytes once (`cat > /dev/null`) in the same run. Target ≤ 2×.
 *
 * @module
 */
import { join } from "node:path";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { discover } from "../publish/discover.ts";
import { parsePublishRequest } from "../publish/request.ts";
import { runPublish } from "../publish/run_publish.ts";
import { parsePublishSettings } from "../publish/settings.ts";
import { openSession } from "../src/tracker/open_session.ts";
import { startTracker } from "../services/tracker/server.ts";

async function catSeconds(folder: string): Promise<number> {
  const start = performance.now();
  const run = await new Deno.Command("sh", { args: ["-c", `cat "${folder}"/* > /dev/null`] }).output();
  if (!run.success) throw new Error("cat failed");
  return (performance.now() - start) / 1000;
}

/** Runs the publish benchmark and prints its figures. */
export async function benchPublish(quick: boolean): Promise<void> {
  const frames = quick ? 200 : 1000;
  const size = 1024 * 1024;
  const folder = await mkdtemp(join(tmpdir(), "ferry-bench-publish-"));
  await using running = await startTracker({ port: 0 });
  try {
    console.log(`writing ${frames} frames of 1 MiB into ${folder} …`);
    const chunk = new Uint8Array(size);
    crypto.getRandomValues(chunk.subarray(0, 65536));
    for (let i = 65536; i < size; i += 65536) chunk.copyWithin(i, 0, 65536);
    for (let frame = 1; frame <= frames; frame++) {
      chunk[0] = frame & 0xff;
      chunk[1] = frame >> 8;
      await writeFile(join(folder, `beauty.${String(frame).padStart(4, "0")}.bin`), chunk);
    }
    const session = await openSession({ server: running.url, apiUser: running.apiUser, apiKey: running.apiKey });
    const schema = (await session.query("select id from ProjectSchema")).data[0]!;
    const project =
      (await session.create("Project", { name: "bench", full_name: "bench", project_schema_id: schema.id })).data;
    const shot = (await session.create("Shot", { name: "sh010", parent_id: project.id })).data;
    await session.create("Task", { name: "lighting", parent_id: shot.id });
    const { plugins } = await discover({ paths: [new URL("../plugins/", import.meta.url).pathname], hosts: ["shell"] });
    const cats = [await catSeconds(folder)];
    const start = performance.now();
    const { report } = await runPublish({
      request: parsePublishRequest({
        context: { path: "bench/sh010", task: "lighting" },
        instances: [{ family: "upload", name: "beauty", files: [join(folder, "beauty.####.bin")] }],
      }),
      session,
      plugins,
      settings: parsePublishSettings({}),
    });
    const seconds = (performance.now() - start) / 1000;
    cats.push(await catSeconds(folder));
    for (const r of report.results) if (r.duration > 50) console.log(`  ${r.plugin}: ${r.duration.toFixed(0)} ms`);
    if (!report.ok) throw new Error(`the publish failed: ${JSON.stringify(report.results.filter((r) => !r.success))}`);
    const cat = Math.min(...cats);
    const gib = (frames * size) / 2 ** 30;
    console.log(`publish of ${frames} × 1 MiB to ftrack.server (embedded tracker, same machine):`);
    console.log(`  publish wall time   ${seconds.toFixed(2)} s  (${(gib / seconds).toFixed(2)} GiB/s)`);
    console.log(`  cat > /dev/null     ${cat.toFixed(2)} s  (${(gib / cat).toFixed(2)} GiB/s, best of 2, cached)`);
    console.log(`  ratio               ${(seconds / cat).toFixed(1)}× (target ≤ 2×)`);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
