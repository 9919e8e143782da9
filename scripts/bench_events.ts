/**
 * `deno task bench events`: the event pipeline from a tracker commit to a handler, with the
 * leecher and the processor as their own processes on a SQLite store (one machine):
 *
 * - throughput: tracker writes from 8 concurrent `@ftrack/api` sessions, each commit an
 *   `ftrack.update`, until a no-op handler has seen them all (target ≥ 2,000 events/s);
 * - latency: commits at 100 events/s, the delay from the tracker publishing each commit's event
 *   to the handler starting on it: p50, p99 (target ≤ 100 ms), max.
 *
 * @module
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { openSession } from "../src/tracker/open_session.ts";
import { openStore } from "../src/store/open_store.ts";
import { LEECH_TOPIC, LEECHER_STARTED_TOPIC, PROC_TOPIC } from "../src/store/topics.ts";
import { startTracker } from "../services/tracker/server.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** The description an `ftrack.update` sets (the bench's marker), if any. */
function markerOf(data: unknown): string | undefined {
  const entities = (data as { entities?: Array<{ changes?: { description?: { new?: unknown } } }> }).entities;
  const value = entities?.[0]?.changes?.description?.new;
  return typeof value === "string" && value.startsWith("bench-") ? value : undefined;
}

/** Handler start times by marker, from the handler's log file. */
async function handled(file: string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch {
    return seen;
  }
  for (const line of text.split("\n")) {
    const [marker, at] = line.split(" ");
    if (marker && at && !seen.has(marker)) seen.set(marker, Number(at));
  }
  return seen;
}

async function waitFor(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 120_000,
  state?: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`bench events: timed out waiting for ${what}${state ? ` (${await state()})` : ""}`);
    }
    await sleep(20);
  }
}

/** Runs the event pipeline benchmark and prints its figures. */
export async function benchEvents(quick: boolean): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), "ferry-bench-events-"));
  const store = join(folder, "store.db");
  const log = join(folder, "handled.txt");
  const handlers = join(folder, "handlers");
  await Deno.mkdir(handlers);
  await writeFile(
    join(handlers, "noop.ts"),
    `import { appendFileSync } from "node:fs";
     export const noop = {
       name: "bench-noop",
       subscription: "topic=ftrack.update",
       handle(event) {
         const at = Date.now();
         const marker = event.data?.entities?.[0]?.changes?.description?.new;
         if (typeof marker === "string" && marker.startsWith("bench-")) appendFileSync(${
      JSON.stringify(log)
    }, marker + " " + at + "\\n");
       },
     };`,
  );
  const tracker = await startTracker({ port: 0, data: ":memory:" });
  const commits = new Map<string, number>();
  tracker.tracker.hub.listeners.add((event) => {
    if (event.topic !== "ftrack.update") return;
    const marker = markerOf(event.data);
    if (marker) commits.set(marker, Date.now());
  });
  const env = {
    FTRACK_SERVER: tracker.url,
    FTRACK_API_USER: tracker.apiUser,
    FTRACK_API_KEY: tracker.apiKey,
    FERRY_HOME: folder,
  };
  const service = (main: string, args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        new URL(main, import.meta.url).pathname,
        "--store",
        store,
        "--log-level",
        "warn",
        ...args,
      ],
      env,
      stdout: "null",
      stderr: "inherit",
    }).spawn();
  const children: Deno.ChildProcess[] = [];
  try {
    // The store first, so both services find it made.
    (await openStore(store)).close();
    children.push(service("../services/leecher/main.ts", []));
    children.push(service("../services/processor/main.ts", ["--port", "0", "--no-builtin", "--handlers", handlers]));
    const check = await openStore(store);
    await waitFor(async () => {
      const started = await check.listEvents({ topic: LEECH_TOPIC, limit: 10 });
      const job = started.find((event) => (event.payload as { topic?: string }).topic === LEECHER_STARTED_TOPIC);
      return job !== undefined && (await check.countEvents({ topic: PROC_TOPIC, status: "finished" })) >= 1;
    }, "the leecher and the processor to start");
    await sleep(300);

    const sessions: Session[] = [];
    for (let i = 0; i < 8; i++) {
      sessions.push(await openSession({ server: tracker.url, apiUser: tracker.apiUser, apiKey: tracker.apiKey }));
    }
    const first = sessions[0]!;
    const schema = (await first.query("select id from ProjectSchema")).data[0] as { id: string };
    const project =
      (await first.create("Project", { name: "bench", full_name: "bench", project_schema_id: schema.id })).data;
    const shots: string[] = [];
    for (let i = 0; i < sessions.length; i++) {
      shots.push(String((await first.create("Shot", { name: `sh${i}`, parent_id: project.id })).data.id));
    }

    // 1. Throughput.
    const total = Number(Deno.env.get("FERRY_BENCH_EVENTS") ?? (quick ? 1_000 : 5_000));
    let next = 0;
    const start = performance.now();
    await Promise.all(sessions.map(async (session, w) => {
      while (next < total) {
        const i = next++;
        await session.update("Shot", [shots[w]!], { description: `bench-1-${i}` });
      }
    }));
    const committed = performance.now();
    await waitFor(
      async () => (await handled(log)).size >= total,
      `${total} events at the handler`,
      120_000,
      async () =>
        `stored ${await check.countEvents({ topic: LEECH_TOPIC })}, finished ${await check.countEvents({
          topic: PROC_TOPIC,
          status: "finished",
        })}, failed ${await check.countEvents({ topic: PROC_TOPIC, status: "failed" })}, handled ${
          (await handled(log)).size
        }`,
    );
    const done = performance.now();
    const commitRate = total / ((committed - start) / 1000);
    const endToEnd = total / ((done - start) / 1000);
    console.log(`events from tracker commit to handler (SQLite store; leecher and processor as processes, 2 cores)`);
    console.log(`  throughput: ${total} commits from 8 sessions`);
    console.log(`    commits/s (tracker over HTTP)       ${commitRate.toFixed(0)}`);
    console.log(`    events/s commit → handler            ${endToEnd.toFixed(0)}   (bounded by the commits)`);
    console.log(`    last handler ${((done - committed) / 1000).toFixed(2)} s after the last commit`);

    // 1b. Burst: commits through the tracker's own writer (no HTTP), as fast as it commits them.
    const burst = Number(Deno.env.get("FERRY_BENCH_BURST") ?? (quick ? 2_000 : 10_000));
    const burstStart = performance.now();
    for (let i = 0; i < burst; i++) {
      tracker.tracker.writeAsServer((writer) =>
        writer.update("Shot", shots[i % shots.length]!, { description: `bench-3-${i}` })
      );
      if (i % 200 === 199) await sleep(0); // let the hub's socket send
    }
    const burstCommitted = performance.now();
    await waitFor(
      async () => [...(await handled(log)).keys()].filter((m) => m.startsWith("bench-3-")).length >= burst,
      `${burst} burst events at the handler`,
    );
    const burstDone = performance.now();
    console.log(`  burst: ${burst} commits through the tracker's writer in this process (no HTTP)`);
    console.log(
      `    commits/s                            ${(burst / ((burstCommitted - burstStart) / 1000)).toFixed(0)}`,
    );
    console.log(
      `    events/s commit → handler            ${
        (burst / ((burstDone - burstStart) / 1000)).toFixed(0)
      }   (target ≥ 2,000)`,
    );

    // 2. Latency at 100 events/s.
    const count = quick ? 300 : 1_000;
    const rateStart = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const due = rateStart + i * 10;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(
        sessions[i % sessions.length]!.update("Shot", [shots[i % shots.length]!], { description: `bench-2-${i}` }),
      );
    }
    await Promise.all(pending);
    const rateSeconds = (performance.now() - rateStart) / 1000;
    await waitFor(
      async () => [...(await handled(log)).keys()].filter((m) => m.startsWith("bench-2-")).length >= count,
      "the paced events",
    );
    const starts = await handled(log);
    const delays = [...starts].filter(([marker]) => marker.startsWith("bench-2-"))
      .map(([marker, at]) => at - commits.get(marker)!)
      .sort((a, b) => a - b);
    console.log(
      `  latency: ${count} commits at ${(count / rateSeconds).toFixed(0)}/s, tracker publish → handler start (ms)`,
    );
    console.log(
      `    p50 ${percentile(delays, 0.5)}   p90 ${percentile(delays, 0.9)}   p99 ${percentile(delays, 0.99)}   max ${
        delays.at(-1)
      }   (target p99 ≤ 100)`,
    );
    // 3. The processor alone: a backlog written straight into the store, drained.
    const backlog = quick ? 2_000 : 10_000;
    const before = await check.countEvents({ topic: PROC_TOPIC, status: "finished" });
    const inputs = Array.from({ length: backlog }, (_, i) => ({
      topic: LEECH_TOPIC,
      hash: `bench-4-${i}`,
      project: "bench",
      payload: {
        topic: "ftrack.update",
        id: `bench-4-${i}`,
        data: { entities: [{ entityType: "task", changes: { description: { new: `bench-4-${i}` } } }] },
      },
    }));
    const drainStart = performance.now();
    for (let i = 0; i < inputs.length; i += 1_000) await check.dispatchMany(inputs.slice(i, i + 1_000));
    await waitFor(
      async () => (await check.countEvents({ topic: PROC_TOPIC, status: "finished" })) >= before + backlog,
      "the backlog",
    );
    console.log(
      `  processor alone: ${backlog} events stored at once, drained at ${
        (backlog / ((performance.now() - drainStart) / 1000)).toFixed(0)
      } events/s`,
    );
    const finished = await check.countEvents({ topic: PROC_TOPIC, status: "finished" });
    const failed = await check.countEvents({ topic: PROC_TOPIC, status: "failed" });
    console.log(`  jobs finished ${finished}, failed ${failed}`);
    await check.close();
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
    }
    await tracker.close();
    await rm(folder, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchEvents(Deno.args.includes("--quick"));
