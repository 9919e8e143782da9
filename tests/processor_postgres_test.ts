/**
 * Two processors sharing one PostgreSQL store (as on two machines): no job is held by both at
 * once, and the order is kept (globally by default, within each project with parallelProjects).
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { createLogger } from "../src/cli/service_log.ts";
import { LEECH_TOPIC, type PipelineStore, PROC_TOPIC } from "../src/store/mod.ts";
import { defineHandler } from "../services/processor/define_handler.ts";
import { startProcessor } from "../services/processor/processor.ts";
import { memoryTracker, openSession } from "./_tracker.ts";
import { postgresReachable, postgresSite } from "./_store.ts";

interface Run {
  holder: string;
  seq: number;
  project: string;
  start: number;
  end: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runTwo(
  options: { parallelProjects: boolean; events: number },
): Promise<{ runs: Run[]; sources: number[] }> {
  await using running = await memoryTracker();
  await using site = await postgresSite();
  await using first = await site.open();
  await using second = await site.open();
  await first.setSettings("production", {
    processor: { parallelProjects: options.parallelProjects, concurrency: 2, leaseMs: 5_000 },
  });
  const projects = ["alpha", "beta", "gamma"];
  const sources: number[] = [];
  for (let i = 0; i < options.events; i++) {
    const { event } = await first.dispatch({
      topic: LEECH_TOPIC,
      hash: `w${i}`,
      project: projects[i % 3]!,
      payload: { topic: "ferry.work", id: `w${i}`, data: { i } },
    });
    sources.push(event.seq);
  }
  const runs: Run[] = [];
  const work = defineHandler({
    name: "work",
    subscription: "topic=ferry.work",
    async handle(_event, { job }) {
      const start = performance.now();
      await sleep(Math.random() * 3);
      runs.push({
        holder: job.event.holder!,
        seq: job.source.seq,
        project: job.source.project!,
        start,
        end: performance.now(),
      });
    },
  });
  const session = await openSession(running);
  const log = createLogger({ name: "processor", level: "error" });
  const start = (store: PipelineStore, sender: string) =>
    startProcessor({ store, session, handlers: [work], sender, log, pollMs: 10 });
  await using one = await start(first, "processor@machine-a");
  await using two = await start(second, "processor@machine-b");
  const deadline = Date.now() + 40_000;
  let stopped = false;
  let done: number;
  while ((done = await first.countEvents({ topic: PROC_TOPIC, status: "finished" })) < options.events) {
    if (Date.now() > deadline) throw new Error(`only ${runs.length} of ${options.events} events processed`);
    // Half-way, the first machine stops: the second carries on where it left off.
    if (!stopped && done >= options.events / 2) {
      stopped = true;
      await one.stop();
    }
    await sleep(20);
  }
  // A job is counted in the metrics just after its finish commits: wait for the counters to catch up.
  const processed = () => one.metrics.processed + two.metrics.processed;
  while (processed() < options.events && Date.now() < deadline) await sleep(10);
  strictEqual(processed(), options.events, "every job counted once in the processors' metrics");
  return { runs, sources };
}

const overlaps = (runs: Run[]) => {
  const sorted = [...runs].sort((a, b) => a.start - b.start);
  let count = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.start < sorted[i - 1]!.end) count++;
  return count;
};

const ignore = !(await postgresReachable());

Deno.test({
  name: "startProcessor() twice on one PostgreSQL store: one job at a time across both, in order",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { runs, sources } = await runTwo({ parallelProjects: false, events: 90 });
    strictEqual(runs.length, 90, "each event handled once");
    strictEqual(overlaps(runs), 0, "never two jobs at once");
    deepStrictEqual(runs.map((run) => run.seq), sources, "in the order stored");
    strictEqual(new Set(runs.map((run) => run.holder)).size, 2, "the second carried on after the first stopped");
  },
});

Deno.test({
  name: "startProcessor() twice on one PostgreSQL store with parallelProjects: order and exclusion within each project",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { runs, sources } = await runTwo({ parallelProjects: true, events: 90 });
    strictEqual(runs.length, 90, "each event handled once");
    strictEqual(new Set(runs.map((run) => run.seq)).size, 90);
    for (const project of ["alpha", "beta", "gamma"]) {
      const mine = runs.filter((run) => run.project === project);
      strictEqual(overlaps(mine), 0, `never two jobs of ${project} at once`);
      const expected = sources.filter((_, i) => ["alpha", "beta", "gamma"][i % 3] === project);
      deepStrictEqual(mine.map((run) => run.seq), expected, `${project} in order`);
    }
  },
});
