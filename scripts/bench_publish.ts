/**
 * `deno task bench publish`: 1,000 frames of 1 MiB published to `ftrack.server` on the embedded
 * tracker, beside reading the same bytes once (`cat > /dev/null`) and copying them once
 * (`cp -r`) in the same run. Target ≤ 2× the `cat`.
 *
 * The publish runs twice: against the tracker started in this process (what `deno task publish`
 * does when no tracker runs), and against the tracker running as its own process (`deno task
 * tracker`, how a studio runs it).
 *
 * With `--large` ({@linkcode benchPublishLarge}): one 1 GiB file published to the tracker as its
 * own process, beside `curl -T` of the same file to a signed upload URL and `sha1sum` of it, with
 * another process's query latency during the publish.
 *
 * @module
 */
import { join } from "node:path";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import process from "node:process";
import type { Session } from "@ftrack/api";
import { discover } from "../publish/discover.ts";
import type { ResolvedPlugin } from "../publish/plugin.ts";
import { parsePublishRequest } from "../publish/request.ts";
import { runPublish } from "../publish/run_publish.ts";
import { parsePublishSettings } from "../publish/settings.ts";
import { openSession } from "../src/tracker/open_session.ts";
import type { TrackerCredentials } from "../src/tracker/tracker_credentials.ts";
import { runningTrackerOf, startTracker } from "../services/tracker/server.ts";

async function shellSeconds(command: string): Promise<number> {
  const start = performance.now();
  const run = await new Deno.Command("sh", { args: ["-c", command] }).output();
  if (!run.success) throw new Error(`'${command}' failed: ${new TextDecoder().decode(run.stderr)}`);
  return (performance.now() - start) / 1000;
}

/** The embedded tracker in a process of its own, on a temporary data folder. */
async function trackerProcess(data: string): Promise<{ credentials: TrackerCredentials; stop(): Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../services/tracker/main.ts", import.meta.url).pathname, "--port", "0"]
      .concat(
        ["--data", data],
      ),
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const lock = await runningTrackerOf(data);
    if (lock) {
      return {
        credentials: { server: lock.url, apiUser: lock.apiUser, apiKey: lock.apiKey },
        stop: async () => {
          child.kill("SIGTERM");
          await child.status;
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  throw new Error("the tracker process did not start within 30 s");
}

async function publishOnce(
  session: Session,
  plugins: ResolvedPlugin[],
  folder: string,
  project: string,
): Promise<{ seconds: number; user: number; system: number }> {
  const schema = (await session.query("select id from ProjectSchema")).data[0]!;
  const made = (await session.create("Project", { name: project, full_name: project, project_schema_id: schema.id }))
    .data;
  const shot = (await session.create("Shot", { name: "sh010", parent_id: made.id })).data;
  await session.create("Task", { name: "lighting", parent_id: shot.id });
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const { report } = await runPublish({
    request: parsePublishRequest({
      context: { path: `${project}/sh010`, task: "lighting" },
      instances: [{ family: "upload", name: "beauty", files: [join(folder, "beauty.####.bin")] }],
    }),
    session,
    plugins,
    settings: parsePublishSettings({}),
  });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  if (!report.ok) throw new Error(`the publish failed: ${JSON.stringify(report.results.filter((r) => !r.success))}`);
  return { seconds, user: cpu.user / 1e6, system: cpu.system / 1e6 };
}

/** Runs the publish benchmark and prints its figures. */
export async function benchPublish(quick: boolean): Promise<void> {
  const frames = quick ? 200 : 1000;
  const size = 1024 * 1024;
  const folder = await mkdtemp(join(tmpdir(), "ferry-bench-publish-"));
  const scratch = await mkdtemp(join(tmpdir(), "ferry-bench-scratch-"));
  try {
    console.log(`writing ${frames} frames of 1 MiB into ${folder} …`);
    const chunk = new Uint8Array(size);
    for (let frame = 1; frame <= frames; frame++) {
      crypto.getRandomValues(chunk.subarray(0, 65536));
      for (let i = 65536; i < size; i += 65536) chunk.copyWithin(i, 0, 65536);
      await writeFile(join(folder, `beauty.${String(frame).padStart(4, "0")}.bin`), chunk);
    }
    const { plugins } = await discover({ paths: [new URL("../plugins/", import.meta.url).pathname], hosts: ["shell"] });
    const cat = () => shellSeconds(`cat "${folder}"/* > /dev/null`);
    const copy = async () => {
      const target = join(scratch, `copy-${crypto.randomUUID()}`);
      const seconds = await shellSeconds(`cp -r "${folder}" "${target}"`);
      await rm(target, { recursive: true });
      return seconds;
    };
    const cats = [await cat()];
    const copies = [await copy()];

    // The tracker in this process, as `deno task publish` starts it when none runs.
    const inProcess = await (async () => {
      await using running = await startTracker({ port: 0, data: join(scratch, "in-process") });
      const session = await openSession({ server: running.url, apiUser: running.apiUser, apiKey: running.apiKey });
      return await publishOnce(session, plugins, folder, "bench_a");
    })();
    cats.push(await cat());
    copies.push(await copy());

    // The tracker as its own process, as `deno task tracker` runs it.
    const service = await trackerProcess(join(scratch, "service"));
    let separate: Awaited<ReturnType<typeof publishOnce>>;
    try {
      separate = await publishOnce(await openSession(service.credentials), plugins, folder, "bench_b");
    } finally {
      await service.stop();
    }
    cats.push(await cat());
    copies.push(await copy());

    const catSeconds = Math.min(...cats);
    const copySeconds = Math.min(...copies);
    const gib = (frames * size) / 2 ** 30;
    const rate = (seconds: number) => `${seconds.toFixed(2).padStart(6)} s  ${(gib / seconds).toFixed(2)} GiB/s`;
    console.log(`publish of ${frames} × 1 MiB to ftrack.server on the embedded tracker (same machine):`);
    for (
      const [label, run] of [["tracker in this process", inProcess], ["tracker in its own process", separate]] as const
    ) {
      console.log(
        `  ${label.padEnd(27)} ${rate(run.seconds)}   ${(run.seconds / catSeconds).toFixed(1)}× cat, ${
          (run.seconds / copySeconds).toFixed(1)
        }× cp   (this process: user ${run.user.toFixed(2)} s, system ${run.system.toFixed(2)} s)`,
      );
    }
    console.log(`  cat > /dev/null             ${rate(catSeconds)}   (cached, best of 3)`);
    console.log(`  cp -r to a new folder       ${rate(copySeconds)}   (cached source, best of 3)`);
    console.log(`target: publish ≤ 2× cat`);
  } finally {
    await rm(folder, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Latencies (ms) of a small `/api` query sent back to back from another process until stopped. */
function latencyProbe(credentials: TrackerCredentials): { stop(): Promise<number[]> } {
  const code = `
    const [url, user, key] = Deno.args;
    const body = JSON.stringify([{ action: "query", expression: 'select id from Location where name is "ftrack.server"' }]);
    const headers = { "content-type": "application/json", "ftrack-user": user, "ftrack-api-key": key };
    let stopped = false;
    Deno.addSignalListener("SIGTERM", () => { stopped = true; });
    const times = [];
    while (!stopped) {
      const start = performance.now();
      const response = await fetch(url + "/api", { method: "POST", headers, body });
      await response.arrayBuffer();
      times.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    console.log(JSON.stringify(times));
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code, credentials.server, credentials.apiUser, credentials.apiKey],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return {
    async stop() {
      child.kill("SIGTERM");
      const output = await child.output();
      return JSON.parse(new TextDecoder().decode(output.stdout).trim() || "[]");
    },
  };
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? NaN;
}

/**
 * `deno task bench publish --large`: one 1 GiB file published to `ftrack.server` on the tracker
 * running as its own process (`runPublish`, the publish CLI's path), beside `curl -T` of the same
 * file to a signed upload URL of that tracker and `sha1sum` of it, in the same run (target:
 * publish ≤ 1.5 × (curl + sha1sum)); meanwhile another process sends a small `/api` query every
 * 5 ms and its p99 latency is reported (target ≤ 50 ms).
 */
export async function benchPublishLarge(quick: boolean): Promise<void> {
  const size = (quick ? 256 : 1024) * 1024 * 1024;
  const folder = await mkdtemp(join(tmpdir(), "ferry-bench-large-"));
  const scratch = await mkdtemp(join(tmpdir(), "ferry-bench-scratch-"));
  try {
    const path = join(folder, "plate.bin");
    console.log(`writing one file of ${size / 2 ** 20} MiB into ${folder} …`);
    const file = await Deno.open(path, { write: true, create: true });
    const block = new Uint8Array(4 * 1024 * 1024);
    for (let written = 0; written < size; written += block.length) {
      crypto.getRandomValues(block.subarray(0, 65536));
      for (let i = 65536; i < block.length; i += 65536) block.copyWithin(i, 0, 65536);
      block[0] = written / block.length;
      await file.write(block);
    }
    file.close();
    const { plugins } = await discover({ paths: [new URL("../plugins/", import.meta.url).pathname], hosts: ["shell"] });
    const service = await trackerProcess(join(scratch, "service"));
    try {
      const session = await openSession(service.credentials);
      const sha1sums: number[] = [];
      const curls: number[] = [];
      const sha1sum = async () => sha1sums.push(await shellSeconds(`sha1sum "${path}" > /dev/null`));
      const curl = async () => {
        const component = (await session.create("FileComponent", { name: "curl", file_type: ".bin", size })).data;
        const [target] = await session.call<{ url: string }>([
          {
            action: "get_upload_metadata",
            component_id: component.id,
            file_name: "curl.bin",
            file_size: size,
          } as never,
        ]);
        curls.push(await shellSeconds(`curl -sS --fail -T "${path}" "${target!.url}" -o /dev/null`));
      };
      await sha1sum();
      await curl();
      const probe = latencyProbe(service.credentials);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const published = await publishFile(session, plugins, path, "bench_large");
      const latencies = await probe.stop();
      await sha1sum();
      const curlProbe = latencyProbe(service.credentials);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await curl();
      const curlLatencies = await curlProbe.stop();
      const reference = Math.min(...curls) + Math.min(...sha1sums);
      const gib = size / 2 ** 30;
      const rate = (seconds: number) => `${seconds.toFixed(2).padStart(6)} s  ${(gib / seconds).toFixed(2)} GiB/s`;
      console.log(`publish of one ${size / 2 ** 20} MiB file to ftrack.server on the tracker as its own process:`);
      console.log(
        `  publish (runPublish)        ${rate(published.seconds)}   ${
          (published.seconds / reference).toFixed(2)
        }× (curl + sha1sum)   (this process: user ${published.user.toFixed(2)} s, system ${
          published.system.toFixed(2)
        } s)`,
      );
      console.log(`  curl -T to a signed URL     ${rate(Math.min(...curls))}   (best of 2)`);
      console.log(`  sha1sum                     ${rate(Math.min(...sha1sums))}   (cached, best of 2)`);
      console.log(
        `  another client's /api query during the publish: ${latencies.length} queries, p50 ${
          percentile(latencies, 0.5).toFixed(1)
        } ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
      );
      console.log(
        `  the same during the second curl -T:              ${curlLatencies.length} queries, p50 ${
          percentile(curlLatencies, 0.5).toFixed(1)
        } ms, p99 ${percentile(curlLatencies, 0.99).toFixed(1)} ms, max ${Math.max(...curlLatencies).toFixed(1)} ms`,
      );
      console.log(`targets: publish ≤ 1.5× (curl + sha1sum); p99 ≤ 50 ms`);
    } finally {
      await service.stop();
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

async function publishFile(
  session: Session,
  plugins: ResolvedPlugin[],
  path: string,
  project: string,
): Promise<{ seconds: number; user: number; system: number }> {
  const schema = (await session.query("select id from ProjectSchema")).data[0]!;
  const made = (await session.create("Project", { name: project, full_name: project, project_schema_id: schema.id }))
    .data;
  const shot = (await session.create("Shot", { name: "sh010", parent_id: made.id })).data;
  await session.create("Task", { name: "comp", parent_id: shot.id });
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const { report } = await runPublish({
    request: parsePublishRequest({
      context: { path: `${project}/sh010`, task: "comp" },
      instances: [{ family: "upload", name: "plate", files: [path] }],
    }),
    session,
    plugins,
    settings: parsePublishSettings({}),
  });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  if (!report.ok) throw new Error(`the publish failed: ${JSON.stringify(report.results.filter((r) => !r.success))}`);
  return { seconds, user: cpu.user / 1e6, system: cpu.system / 1e6 };
}
