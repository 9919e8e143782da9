/**
 * The processor killed with SIGKILL at random points while it works through a backlog: every
 * event ends `finished` exactly once (one job each, none failed, none lost) and each restart
 * resumes at once: the lease is set to a minute, so only the restarted processor's taking back
 * of its dead predecessor's job lets the run finish in time.
 *
 * Bounded for the test command (3,000 events, up to 4 kills); the full run of the issue is
 * `FERRY_FAULT_EVENTS=10000 FERRY_FAULT_KILLS=20 deno test --allow-all tests/processor_faults_test.ts`
 * (`FERRY_FAULT_BATCH=1` for one job per transaction).
 */
import { ok, strictEqual } from "node:assert/strict";
import { LEECH_TOPIC, PROC_TOPIC } from "../src/store/mod.ts";
import { memoryTracker } from "./_tracker.ts";
import { sqliteSite } from "./_store.ts";

const EVENTS = Number(Deno.env.get("FERRY_FAULT_EVENTS") ?? 3_000);
const KILLS = Number(Deno.env.get("FERRY_FAULT_KILLS") ?? 4);
const MAIN = new URL("../services/processor/main.ts", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test({
  name:
    `processor killed with SIGKILL ${KILLS} times over ${EVENTS} events finishes each event exactly once and resumes at once`,
  sanitizeResources: false,
  fn: async () => {
    await using running = await memoryTracker();
    await using site = await sqliteSite();
    const home = await Deno.makeTempDir({ prefix: "ferry-faults-" });
    const runs = `${home}/runs.txt`;
    await Deno.mkdir(`${home}/handlers`);
    await Deno.writeTextFile(
      `${home}/handlers/record.ts`,
      `import { appendFileSync } from "node:fs";
       export const record = { name: "record", subscription: "topic=ferry.fault",
         handle(event) { appendFileSync(${JSON.stringify(runs)}, event.id + "\\n"); } };`,
    );
    await using store = await site.open();
    const batch = Deno.env.get("FERRY_FAULT_BATCH");
    await store.setSettings("production", {
      processor: { leaseMs: 60_000, ...(batch ? { batchSize: Number(batch) } : {}) },
    });
    for (let i = 0; i < EVENTS; i++) {
      await store.dispatch({
        topic: LEECH_TOPIC,
        hash: `f${i}`,
        project: `p${i % 4}`,
        payload: { topic: "ferry.fault", id: `f${i}`, data: { n: i } },
      });
    }
    const spawn = (level = "error") =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          MAIN,
          "--store",
          site.location,
          "--port",
          "0",
          "--no-builtin",
          "--handlers",
          `${home}/handlers`,
          "--poll-ms",
          "5",
          "--log-level",
          level,
        ],
        env: {
          FTRACK_SERVER: running.url,
          FTRACK_API_USER: running.apiUser,
          FTRACK_API_KEY: running.apiKey,
          FERRY_HOME: home,
        },
        stdout: "null",
        stderr: level === "error" ? "inherit" : "piped",
      }).spawn();
    const finished = () => store.countEvents({ topic: PROC_TOPIC, status: "finished" });
    const resumes: number[] = [];
    let kills = 0;
    try {
      const started = performance.now();
      while (kills < KILLS && (await finished()) < EVENTS) {
        const before = await finished();
        const spawnedAt = performance.now();
        const child = spawn();
        try {
          const deadline = Date.now() + 30_000;
          while ((await finished()) <= before) {
            if (Date.now() > deadline) throw new Error(`no progress within 30 s after restart ${kills}`);
            await sleep(10);
          }
          resumes.push(performance.now() - spawnedAt);
          await sleep(10 + Math.random() * 90);
        } finally {
          child.kill("SIGKILL");
          await child.status;
        }
        kills++;
      }
      // The last start runs to the end, and is stopped gracefully once it is up.
      const child = spawn("info");
      const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let output = "";
      while (!output.includes("health and metrics")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the last processor ended early:\n${output}`);
        output += value;
      }
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })();
      const deadline = Date.now() + 120_000;
      while ((await finished()) < EVENTS) {
        if (Date.now() > deadline) {
          throw new Error(`only ${await finished()} of ${EVENTS} finished after the last restart`);
        }
        await sleep(20);
      }
      child.kill("SIGTERM");
      strictEqual((await child.status).code, 0, "a graceful stop at the end");
      const seconds = (performance.now() - started) / 1000;

      strictEqual(await store.countEvents({ topic: PROC_TOPIC }), EVENTS, "one job per event");
      strictEqual(await finished(), EVENTS, "every job finished");
      strictEqual(await store.countEvents({ topic: PROC_TOPIC, status: "failed" }), 0);
      const lines = (await Deno.readTextFile(runs)).split("\n").filter(Boolean);
      const ids = new Set(lines);
      strictEqual(ids.size, EVENTS, "the handler saw every event");
      const again = lines.length - EVENTS;
      const { batchSize } = (await store.getSettings("production")).processor;
      ok(
        again <= kills * batchSize,
        `at most one batch run again per kill (${again} for ${kills} kills, batches of ${batchSize})`,
      );
      const takenBack = (await store.listEvents({ topic: PROC_TOPIC, limit: EVENTS })).filter((job) =>
        job.retries > 0
      ).length;
      const sorted = [...resumes].sort((a, b) => a - b);
      console.log(
        `faults: ${kills} SIGKILLs (batches of ${batchSize}) over ${EVENTS} events in ${
          seconds.toFixed(1)
        } s; ${takenBack} jobs taken back from a ` +
          `killed processor, ${again} events handled again; ` +
          `restart → first job finished: median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms, max ${
            sorted.at(-1)?.toFixed(0)
          } ms (lease 60 s)`,
      );
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});
