/**
 * `deno task bench publish --republish`: 1,000 frames of 1 MiB published to `ftrack.server` on the
 * embedded tracker, then published again in the same run with 1 % of the frames changed. The
 * second publish links the unchanged frames to the content the tracker holds (nothing sent or
 * read) and sends the changed ones. Target: the second ≤ 10 % of the first's time. A third publish,
 * of the same frames copied to another folder under another asset (new paths and modification
 * times), shows the cost of finding content by reading and hashing it (nothing sent either).
 * Then large files (8 × 64 MiB, above the uploader's 32 MiB whole-file limit; --quick: 2) are
 * published, copied to another folder and published under another asset: found by their probe
 * (size and sampled blocks), hashed whole on worker threads and linked, nothing sent; then the same
 * into a disk location (hard links, nothing written).
 *
 * @module
 */
import { join } from "node:path";
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { Session } from "@ftrack/api";
import { discover } from "../publish/discover.ts";
import type { ResolvedPlugin } from "../publish/plugin.ts";
import { parsePublishRequest } from "../publish/request.ts";
import { runPublish } from "../publish/run_publish.ts";
import { parsePublishSettings } from "../publish/settings.ts";
import { openSession } from "../src/tracker/open_session.ts";
import { type RunningTracker, startTracker } from "../services/tracker/server.ts";

/** Publishes the frames of `folder`; `sent` is what the tracker received meanwhile. */
async function publish(
  running: RunningTracker,
  session: Session,
  plugins: ResolvedPlugin[],
  folder: string,
  asset = "beauty",
  pattern = "beauty.####.bin",
  disk?: string,
): Promise<{ seconds: number; sent: number; reused: { files: number; bytes: number } }> {
  const received = running.tracker.files.receivedBytes;
  const start = performance.now();
  const { report } = await runPublish({
    request: parsePublishRequest({
      context: { path: "bench/sh010", task: "lighting" },
      ...(disk !== undefined ? { location: { disk } } : {}),
      instances: [{ family: "upload", name: asset, files: [join(folder, pattern)] }],
    }),
    session,
    plugins,
    settings: parsePublishSettings({}),
    progress: { expect() {}, done() {} },
  });
  const seconds = (performance.now() - start) / 1000;
  if (!report.ok) throw new Error(`the publish failed: ${JSON.stringify(report.results.filter((r) => !r.success))}`);
  const reused = (report.created[0] as { reused?: { files: number; bytes: number } }).reused ?? { files: 0, bytes: 0 };
  return { seconds, sent: running.tracker.files.receivedBytes - received, reused };
}

/** Runs the republish benchmark and prints its figures. */
export async function benchPublishRepublish(quick: boolean): Promise<void> {
  const frames = quick ? 200 : 1000;
  const size = 1024 * 1024;
  const folder = await mkdtemp(join(tmpdir(), "ferry-bench-republish-"));
  const data = await mkdtemp(join(tmpdir(), "ferry-bench-republish-tracker-"));
  const chunk = new Uint8Array(size);
  const writeFrame = async (frame: number) => {
    crypto.getRandomValues(chunk.subarray(0, 65536));
    for (let i = 65536; i < size; i += 65536) chunk.copyWithin(i, 0, 65536);
    await writeFile(join(folder, `beauty.${String(frame).padStart(4, "0")}.bin`), chunk);
  };
  try {
    console.log(`writing ${frames} frames of 1 MiB into ${folder} …`);
    for (let frame = 1; frame <= frames; frame++) await writeFrame(frame);
    // As renders finished a moment ago: files modified within a second of a publish reading their
    // stamps are read again next time (racy stamps, see IntegrateVersion), which a studio's renders
    // are not.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const { plugins } = await discover({ paths: [new URL("../plugins/", import.meta.url).pathname], hosts: ["shell"] });
    await using running = await startTracker({ port: 0, data });
    const session = await openSession({ server: running.url, apiUser: running.apiUser, apiKey: running.apiKey });
    const schema = (await session.query("select id from ProjectSchema")).data[0]!;
    const project =
      (await session.create("Project", { name: "bench", full_name: "bench", project_schema_id: schema.id }))
        .data;
    const shot = (await session.create("Shot", { name: "sh010", parent_id: project.id })).data;
    await session.create("Task", { name: "lighting", parent_id: shot.id });

    const first = await publish(running, session, plugins, folder);
    const changed = Math.max(1, Math.round(frames / 100));
    for (let i = 0; i < changed; i++) await writeFrame(1 + Math.floor((i * frames) / changed));
    const second = await publish(running, session, plugins, folder);
    const copy = join(folder, "copy");
    await mkdir(copy);
    for (const name of await readdir(folder)) {
      if (name.endsWith(".bin")) await copyFile(join(folder, name), join(copy, name));
    }
    const third = await publish(running, session, plugins, copy, "beauty_copy");
    let stored = 0;
    const objects = join(data, "files", "objects");
    for (const prefix of await readdir(objects)) stored += (await readdir(join(objects, prefix))).length;

    const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;
    console.log(`publish of ${frames} × 1 MiB to ftrack.server, then again with ${changed} frame(s) changed:`);
    console.log(`  first publish    ${first.seconds.toFixed(2).padStart(7)} s   sent ${mib(first.sent)}`);
    console.log(
      `  second publish   ${second.seconds.toFixed(2).padStart(7)} s   sent ${
        mib(second.sent)
      }, reused ${second.reused.files} file(s) / ${mib(second.reused.bytes)}   ${
        (100 * second.seconds / first.seconds).toFixed(1)
      } % of the first`,
    );
    console.log(
      `  copied, new asset ${third.seconds.toFixed(2).padStart(6)} s   sent ${mib(third.sent)}, ` +
        `reused ${third.reused.files} file(s) / ${mib(third.reused.bytes)} found by content (read and hashed)`,
    );
    console.log(`  contents stored  ${stored} (${frames + changed} distinct)`);
    console.log(`target: second ≤ 10 % of the first`);

    // Large files (plates of 4K EXR frames, movies): above the whole-file limit, found by their probe.
    const count = quick ? 2 : 8;
    const largeSize = 64 * 1024 * 1024;
    const large = join(folder, "large");
    const largeCopy = join(folder, "large_copy");
    await mkdir(large);
    await mkdir(largeCopy);
    const block = new Uint8Array(largeSize);
    for (let i = 1; i <= count; i++) {
      for (let at = 0; at < largeSize; at += 65536) crypto.getRandomValues(block.subarray(at, at + 65536));
      await writeFile(join(large, `plate.${String(i).padStart(4, "0")}.exr`), block);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const largeFirst = await publish(running, session, plugins, large, "plate", "plate.####.exr");
    for (const name of await readdir(large)) await copyFile(join(large, name), join(largeCopy, name));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const largeCopied = await publish(running, session, plugins, largeCopy, "plate_copy", "plate.####.exr");
    console.log(`publish of ${count} × 64 MiB (above the 32 MiB whole-file limit), then copied to a new folder:`);
    console.log(`  first publish    ${largeFirst.seconds.toFixed(2).padStart(7)} s   sent ${mib(largeFirst.sent)}`);
    console.log(
      `  copied, new asset ${largeCopied.seconds.toFixed(2).padStart(6)} s   sent ${mib(largeCopied.sent)}, ` +
        `reused ${largeCopied.reused.files} file(s) / ${mib(largeCopied.reused.bytes)} found by probe, hashed once   ${
          (100 * largeCopied.seconds / largeFirst.seconds).toFixed(1)
        } % of the first`,
    );
    // The same into a disk location: hard links of what it holds, found by probe.
    const disk = join(folder, "disk");
    await mkdir(disk);
    const diskFirst = await publish(running, session, plugins, large, "plate_disk", "plate.####.exr", disk);
    const diskCopied = await publish(running, session, plugins, largeCopy, "plate_disk_copy", "plate.####.exr", disk);
    const total = count * largeSize;
    console.log(`the same into a disk location:`);
    console.log(
      `  first publish    ${diskFirst.seconds.toFixed(2).padStart(7)} s   written ${
        mib(total - diskFirst.reused.bytes)
      }`,
    );
    console.log(
      `  copied, new asset ${diskCopied.seconds.toFixed(2).padStart(6)} s   written ${
        mib(total - diskCopied.reused.bytes)
      }, hard-linked ${diskCopied.reused.files} file(s) / ${
        mib(diskCopied.reused.bytes)
      } found by probe, hashed once   ${(100 * diskCopied.seconds / diskFirst.seconds).toFixed(1)} % of the first`,
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
    await rm(data, { recursive: true, force: true });
  }
}
