/**
 * Graceful stop of a job that outlasts the stop timeout: its handlers see the abort signal, it is
 * given back (with the handlers already done remembered, none counted as failed), and so are the
 * jobs of its batch; the next processor runs the rest. (A job ending in time is finished: the
 * SIGTERM test of processor_service_test.ts.)
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createLogger } from "../src/cli/service_log.ts";
import { LEECH_TOPIC, PROC_TOPIC } from "../src/store/mod.ts";
import { defineHandler } from "../services/processor/define_handler.ts";
import { startProcessor } from "../services/processor/processor.ts";
import { sqliteSite } from "./_store.ts";

const quiet = createLogger({ name: "processor", level: "error" });

Deno.test("RunningProcessor.stop() asks a job outlasting the stop timeout to stop and gives it back, remembering the handlers done", async () => {
  await using site = await sqliteSite();
  await using store = await site.open();
  await store.setSettings("production", { processor: { batchSize: 4 } });
  for (const n of [1, 2, 3]) {
    await store.dispatch({
      topic: LEECH_TOPIC,
      hash: `s${n}`,
      payload: { topic: "ferry.slow", id: `s${n}`, data: { n } },
    });
  }
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  let aborted = false;
  const quick = defineHandler({ name: "quick", subscription: "topic=ferry.slow", priority: 1, handle() {} });
  const slow = defineHandler({
    name: "slow",
    subscription: "topic=ferry.slow",
    priority: 2,
    async handle(event, { signal }) {
      if ((event.data as { n: number }).n !== 1) return;
      started();
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      aborted = true;
      throw new Error("interrupted");
    },
  });
  const processor = await startProcessor({
    store,
    session: undefined as never,
    handlers: [quick, slow],
    log: quiet,
    stopTimeoutMs: 200,
  });
  await running;
  await processor.stop();
  ok(aborted, "the handler saw the abort signal");
  const jobs = await store.listEvents({ topic: PROC_TOPIC });
  deepStrictEqual(jobs.map((job) => job.status), ["pending", "pending", "pending"], "all given back, none failed");
  deepStrictEqual(jobs[0]!.payload, { succeeded: ["quick"] }, "the handler that ran is remembered");
  strictEqual(jobs[0]!.retries, 0);

  // The next processor runs the rest, skipping what already ran.
  const ran: string[] = [];
  const record = (name: string, priority: number) =>
    defineHandler({
      name,
      subscription: "topic=ferry.slow",
      priority,
      handle: (event) => void ran.push(`${name}:${event.id}`),
    });
  await using next = await startProcessor({
    store,
    session: undefined as never,
    handlers: [record("quick", 1), record("slow", 2)],
    log: quiet,
  });
  const deadline = Date.now() + 10_000;
  while ((await store.countEvents({ topic: PROC_TOPIC, status: "finished" })) < 3) {
    if (Date.now() > deadline) throw new Error("the jobs did not finish");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  deepStrictEqual(ran, ["slow:s1", "quick:s2", "slow:s2", "quick:s3", "slow:s3"]);
  ok(next.metrics.processed === 3);
});
