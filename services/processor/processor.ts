import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import process from "node:process";
import type { Session } from "@ftrack/api";
import { EventSchema, type HubEvent } from "../../src/events/event.ts";
import { ExpressionCache } from "../../src/events/subscription_expression.ts";
import { createLogger, type Logger } from "../../src/cli/service_log.ts";
import type { Job } from "../../src/store/event_record.ts";
import type { PipelineStore } from "../../src/store/pipeline_store.ts";
import type { Settings, Variant } from "../../src/store/settings.ts";
import { LEECH_TOPIC, PROC_TOPIC } from "../../src/store/topics.ts";
import type { Handler, HandlerContext } from "./define_handler.ts";
import { TrackerCache } from "../../src/tracker/tracker_cache.ts";
import { useTrackerCache } from "../../src/tracker/cached_query.ts";
import { emptyMetrics, type ProcessorMetrics } from "./processor_metrics.ts";

/** Options of {@linkcode startProcessor}. */
export interface ProcessorOptions {
  store: PipelineStore;
  /** The tracker session handlers get. */
  session: Session;
  handlers: Handler[];
  /** @default {"production"} */
  variant?: Variant;
  /** The service name written on jobs. @default {`processor@<host>`} */
  sender?: string;
  log?: Logger;
  /** Longest wait between two looks at an empty queue, in milliseconds (idle looks are reads). @default {20} */
  pollMs?: number;
  /** How long settings are cached, in milliseconds. @default {5000} */
  settingsRefreshMs?: number;
  /** On stop, how long the current jobs may take before they are released. @default {10000} */
  stopTimeoutMs?: number;
  /** The per-process cache of tracker reads behind each event's layer. @default {a new one, 30 s bound} */
  trackerCache?: TrackerCache;
  /**
   * Topics of events handled ahead of their turn while a job has run longer than `eagerAfterMs`
   * (a full sync): ftrack's action discoveries, which a user waits on and which change nothing.
   * Each such event is claimed once across processors (a `processor.eager` event), so its
   * handlers run once, ahead or in turn. @default {["ftrack.action.discover"]}
   */
  eagerTopics?: string[];
  /** How long a job runs before events of `eagerTopics` are looked for ahead of their turn. @default {250} */
  eagerAfterMs?: number;
  /** Called after each job, for tests and benchmarks. */
  onJob?: (job: Job, outcome: "finished" | "failed" | "lost" | "released") => void;
}

/** The topic of the claims of events handled ahead of their turn (hash `processor.eager:<source id>`). */
export const EAGER_TOPIC = "processor.eager";

/** A running processor. */
export interface RunningProcessor extends AsyncDisposable {
  readonly metrics: Readonly<ProcessorMetrics>;
  /** Unique holder name of this process's leases (`host:pid:id`). */
  readonly holder: string;
  readonly sender: string;
  /** Stops gracefully: finishes (or, after `stopTimeoutMs`, releases) the current jobs. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * Starts a processor: enrolls `tracker.leech` → `tracker.proc` (in order; by project in parallel
 * when the settings say `processor.parallelProjects`) and runs the handlers whose subscription
 * matches each event, lowest priority first. A handler that throws fails the job with its error
 * and stack; the job is retried with backoff up to `processor.maxRetries`, the handlers that
 * already succeeded being skipped, and is then left failed. Jobs of a crashed processor of this
 * machine are taken back at start; other machines' wait for their lease to expire. While a job
 * runs longer than `eagerAfterMs` (a full sync), events of `eagerTopics` (ftrack's action
 * discoveries, which someone waits on) are handled ahead of their turn, once.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { LEECH_TOPIC, openStore } from "../../src/store/mod.ts";
 * import { defineHandler } from "./define_handler.ts";
 * import { startProcessor } from "./processor.ts";
 *
 * await using store = await openStore(":memory:");
 * await store.dispatch({ topic: LEECH_TOPIC, hash: "e1", payload: { topic: "ftrack.update", id: "e1", data: {} } });
 * const seen: string[] = [];
 * const handler = defineHandler({ name: "seen", subscription: "topic=ftrack.update", handle: (event) => void seen.push(event.id) });
 * const processor = await startProcessor({ store, session: undefined as never, handlers: [handler] });
 * while (processor.metrics.processed < 1) await new Promise((resolve) => setTimeout(resolve, 10));
 * await processor.stop();
 * ok(seen.join() === "e1");
 * ```
 */
export async function startProcessor(options: ProcessorOptions): Promise<RunningProcessor> {
  const {
    store,
    session,
    handlers,
    variant = "production",
    sender = `processor@${hostname()}`,
    log = createLogger({ name: "processor" }),
    pollMs = 20,
    settingsRefreshMs = 5_000,
    stopTimeoutMs = 10_000,
    onJob,
    trackerCache = new TrackerCache(),
    eagerAfterMs = 250,
  } = options;
  const eagerTopics = new Set(options.eagerTopics ?? ["ftrack.action.discover"]);
  if (session) useTrackerCache(session, trackerCache);
  const host = hostname();
  const holder = `${host}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const metrics = emptyMetrics();
  const expressions = new ExpressionCache();
  const ordered = [...handlers].sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
  const stopping = new AbortController();
  const cancelled = new AbortController();
  const inFlight = new Map<string, Job>();

  const settingsCache = new Map<string, { at: number; settings: Promise<Settings> }>();
  const settingsFor = (project: string | null): Promise<Settings> => {
    const key = project ?? "";
    const cached = settingsCache.get(key);
    if (cached && Date.now() - cached.at < settingsRefreshMs) return cached.settings;
    const settings = store.getSettings(variant, project ? { project } : {});
    settingsCache.set(key, { at: Date.now(), settings });
    settings.catch(() => settingsCache.delete(key));
    return settings;
  };
  const studio = await settingsFor(null);

  // Jobs held by a processor of this machine that is gone: a crash. Expire them now, so the
  // restart resumes at once instead of waiting for the lease.
  for (const job of await store.heldJobs(PROC_TOPIC)) {
    const [jobHost, pid] = (job.holder ?? "").split(":");
    if (jobHost === host && Number(pid) !== process.pid && !pidAlive(Number(pid))) {
      if (await store.expireLease(job.id, job.holder!)) {
        log.warn("took back a job of a processor that stopped without finishing it", {
          job: job.id,
          holder: job.holder,
        });
      }
    }
  }

  // Every held job's lease is renewed while this process lives (a batch waits its turn held).
  const lostJobs = new Set<string>();
  let renewing = false;
  const renewAll = async () => {
    if (renewing) return;
    renewing = true;
    try {
      const { leaseMs } = (await settingsFor(null)).processor;
      for (const id of inFlight.keys()) {
        if (lostJobs.has(id)) continue;
        try {
          if (!(await store.renewLease(id, holder, leaseMs))) {
            lostJobs.add(id);
            log.warn("lost the lease of a job; another processor may run it", { job: id });
          }
        } catch (error) {
          log.warn("cannot renew a lease", { job: id, error: (error as Error).message });
        }
      }
    } finally {
      renewing = false;
    }
  };
  // Every third of the lease as the settings say now (they may change while it runs).
  let renewal: ReturnType<typeof setTimeout> | undefined;
  const scheduleRenewal = (leaseMs: number) => {
    renewal = setTimeout(async () => {
      await renewAll();
      if (!stopped) scheduleRenewal((await settingsFor(null).catch(() => studio)).processor.leaseMs);
    }, Math.max(100, Math.floor(leaseMs / 3)));
  };
  let stopped: Promise<void> | undefined;
  scheduleRenewal(studio.processor.leaseMs);

  /** How a successful job is finished: in the same transaction as the next enroll. */
  type Finish = { description: string; payload: unknown };

  const recordFinish = (job: Job, finished: boolean) => {
    if (finished) {
      metrics.processed++;
      onJob?.(job, "finished");
    } else {
      metrics.leasesLost++;
      onJob?.(job, "lost");
    }
  };

  /** Runs the matching handlers on an event (those in `succeeded` left out), collecting their errors. */
  const runHandlers = async (
    event: HubEvent,
    job: Job,
    settings: Settings,
    succeeded: Set<string>,
    errors: Array<{ handler: string; error: Error }>,
  ) => {
    const cache = new Map<string, unknown>();
    // What the event says changed is not served from the cache any more, to any handler.
    trackerCache.updated(event);
    using eventCache = trackerCache.layer();
    for (const handler of ordered) {
      if (succeeded.has(handler.name) || cancelled.signal.aborted) continue;
      let matches: boolean;
      try {
        matches = expressions.matches(handler.subscription, event);
      } catch {
        matches = false;
      }
      if (!matches) continue;
      const handlerSettings = { enabled: true, ...settings.handlers[handler.settingsKey] };
      if (handlerSettings.enabled === false) continue;
      const context: HandlerContext = {
        session,
        store,
        variant,
        settings: handlerSettings,
        projectSettings: settings,
        project: job.source.project,
        log: log.child(handler.name),
        cache,
        trackerCache: eventCache,
        job,
        signal: cancelled.signal,
      };
      try {
        await handler.handle(event, context);
        succeeded.add(handler.name);
      } catch (error) {
        errors.push({ handler: handler.name, error: error instanceof Error ? error : new Error(String(error)) });
        if (!cancelled.signal.aborted) {
          metrics.handlerErrors++;
          log.warn("a handler failed", { handler: handler.name, job: job.event.id, error: String(error) });
        }
      }
    }
  };

  /** Claims a source event for its handlers to run once (ahead of its turn or in it): undefined when it was claimed already. */
  const claimEager = async (source: Job["source"], ahead = false) => {
    const claim = await store.dispatch({
      topic: EAGER_TOPIC,
      hash: `${EAGER_TOPIC}:${source.id}`,
      sender,
      dependsOn: source.id,
      project: source.project,
      payload: { holder, ahead },
      description: `Claimed ${source.description || source.topic} for its handlers${
        ahead ? " (ahead of its turn)" : ""
      }`,
    });
    return claim.duplicate ? undefined : claim.event;
  };

  // Jobs running now and since when: a long one lets events of `eagerTopics` be handled ahead of their turn.
  const runningSince = new Map<string, number>();
  const eagerSeen = new Set<string>();
  let eagerLooking = false;
  const eagerLook = async () => {
    if (eagerLooking || stopping.signal.aborted || eagerTopics.size === 0) return;
    const now = Date.now();
    if (![...runningSince.values()].some((since) => now - since >= eagerAfterMs)) return;
    eagerLooking = true;
    try {
      const recent = await store.listEvents({ topic: LEECH_TOPIC, newestFirst: true, limit: 50 });
      for (const source of recent.reverse()) {
        if (stopping.signal.aborted) break;
        const topic = (source.payload as { topic?: unknown } | null)?.topic;
        if (eagerSeen.has(source.id) || typeof topic !== "string" || !eagerTopics.has(topic)) continue;
        eagerSeen.add(source.id);
        if (now - source.createdAt > 120_000) continue; // in turn, if ever: nobody waits for it now
        const parsed = EventSchema.safeParse(source.payload);
        if (!parsed.success) continue;
        const settings = await settingsFor(source.project);
        if (source.project !== null && !settings.enabled) continue;
        const claim = await claimEager(source, true);
        if (claim === undefined) continue;
        // Its errors are the handlers' to log (counted in handlerErrors); its job, in turn, is then finished as done.
        await runHandlers(parsed.data, { event: claim, source }, settings, new Set(), []);
        log.debug("handled ahead of its turn", { event: source.id, topic });
      }
    } catch (error) {
      log.warn("cannot look for events to handle ahead of their turn", { error: (error as Error).message });
    } finally {
      if (eagerSeen.size > 10_000) eagerSeen.clear();
      eagerLooking = false;
    }
  };
  const eagerTimer = setInterval(eagerLook, 50);

  const runJob = async (job: Job): Promise<Finish | undefined> => {
    runningSince.set(job.event.id, Date.now());
    try {
      return await runJobNow(job);
    } finally {
      runningSince.delete(job.event.id);
    }
  };

  const runJobNow = async (job: Job): Promise<Finish | undefined> => {
    const started = Date.now();
    metrics.lagSeconds = Math.max(0, started - job.source.createdAt) / 1000;
    metrics.maxLagSeconds = Math.max(metrics.maxLagSeconds, metrics.lagSeconds);
    const settings = await settingsFor(job.source.project);
    const { maxRetries, retryBackoffMs, retryBackoffMaxMs } = settings.processor;
    {
      const parsed = EventSchema.safeParse(job.source.payload);
      const previous = (job.event.payload as { succeeded?: unknown } | null)?.succeeded;
      const succeeded = new Set(Array.isArray(previous) ? previous.map(String) : []);
      const errors: Array<{ handler: string; error: Error }> = [];
      if (!parsed.success) {
        errors.push({
          handler: "(processor)",
          error: new TypeError(
            `event ${job.source.id} does not hold a tracker event: ${parsed.error.issues[0]?.message}`,
          ),
        });
      } else if (job.source.project !== null && !settings.enabled) {
        log.debug("skipped: the event services are off for the project", { project: job.source.project });
      } else if (eagerTopics.has(parsed.data.topic) && (await claimEager(job.source)) === undefined) {
        log.debug("handled ahead of its turn already", { event: job.source.id });
        return {
          description: `Processed ${job.source.description || job.source.topic} (ahead of its turn)`,
          payload: { succeeded: [...succeeded], ahead: true },
        };
      } else {
        await runHandlers(parsed.data, job, settings, succeeded, errors);
      }
      if (cancelled.signal.aborted && !lostJobs.has(job.event.id)) {
        // Stopped part-way (an error now is the abort's): give the job back; the handlers done are remembered.
        await store.releaseJob(job.event.id, holder, { payload: { succeeded: [...succeeded] } });
        onJob?.(job, "released");
        return undefined;
      }
      if (errors.length === 0) {
        return {
          description: `Processed ${job.source.description || job.source.topic}`,
          payload: { succeeded: [...succeeded] },
        };
      }
      const attempt = job.event.retries;
      const retryInMs = Math.min(retryBackoffMs * 2 ** attempt, retryBackoffMaxMs);
      const message = errors.map(({ handler, error }) => `${handler}: ${error.message}`).join("; ");
      const stack = errors.map(({ handler, error }) => `[${handler}] ${error.stack ?? error.message}`).join("\n\n");
      if (
        await store.failJob(job.event.id, holder, {
          error: { message, stack },
          retryInMs,
          payload: { succeeded: [...succeeded] },
        })
      ) {
        metrics.failed++;
        const final = attempt >= maxRetries;
        log[final ? "error" : "warn"](final ? "job failed; no retries left" : "job failed; it will be retried", {
          job: job.event.id,
          retries: attempt,
          ...(final ? {} : { retryInMs }),
          error: message,
        });
        onJob?.(job, "failed");
      } else {
        metrics.leasesLost++;
        onJob?.(job, "lost");
      }
      return undefined;
    }
  };

  const worker = async (sequential: true | "project") => {
    let idle = 1;
    let done: Array<{ job: Job; finish: Finish }> = [];
    const settle = (finishedIds: string[]) => {
      const finished = new Set(finishedIds);
      for (const { job } of done) {
        inFlight.delete(job.event.id);
        lostJobs.delete(job.event.id);
        recordFinish(job, finished.has(job.event.id));
      }
      metrics.inFlight = inFlight.size;
      done = [];
    };
    const release = async (jobs: Job[]) => {
      for (const job of jobs) {
        await store.releaseJob(job.event.id, holder).catch(() => {});
        inFlight.delete(job.event.id);
        lostJobs.delete(job.event.id);
      }
      metrics.inFlight = inFlight.size;
    };
    while (!stopping.signal.aborted) {
      let jobs: Job[];
      try {
        const settings = await settingsFor(null);
        const step = await store.enrollMany(LEECH_TOPIC, PROC_TOPIC, {
          sender,
          holder,
          sequential,
          maxRetries: settings.processor.maxRetries,
          lease: settings.processor.leaseMs,
          max: settings.processor.batchSize,
        }, done.map(({ job, finish }) => ({ jobId: job.event.id, ...finish })));
        settle(step.finished);
        jobs = step.jobs;
      } catch (error) {
        log.error("cannot enroll a job", { error: (error as Error).message });
        await sleep(Math.min(pollMs * 20, 2_000));
        continue;
      }
      if (jobs.length === 0) {
        await sleep(idle);
        idle = Math.min(idle * 2, pollMs);
        continue;
      }
      idle = 1;
      for (const job of jobs) inFlight.set(job.event.id, job);
      metrics.inFlight = inFlight.size;
      for (let i = 0; i < jobs.length; i++) {
        const job = jobs[i]!;
        if (stopping.signal.aborted || lostJobs.has(job.event.id)) {
          // Stopping, or lost: the rest go back (in order, for whoever comes next).
          await release(jobs.slice(i));
          break;
        }
        let finish: Finish | undefined;
        try {
          finish = await runJob(job);
        } catch (error) {
          log.error("cannot complete a job", { job: job.event.id, error: (error as Error).message });
        }
        if (finish) {
          done.push({ job, finish });
          continue;
        }
        inFlight.delete(job.event.id);
        metrics.inFlight = inFlight.size;
        // Failed: nothing after it may run first.
        await release(jobs.slice(i + 1));
        break;
      }
    }
    if (done.length > 0) {
      try {
        const settings = await settingsFor(null);
        const step = await store.enrollMany(LEECH_TOPIC, PROC_TOPIC, {
          sender,
          holder,
          sequential,
          maxRetries: settings.processor.maxRetries,
          max: 0,
        }, done.map(({ job, finish }) => ({ jobId: job.event.id, ...finish })));
        settle(step.finished);
      } catch (error) {
        log.error("cannot finish jobs", { jobs: done.length, error: (error as Error).message });
      }
    }
  };

  const { parallelProjects, concurrency } = studio.processor;
  const workers = parallelProjects ? Array.from({ length: concurrency }, () => worker("project")) : [worker(true)];
  const all = Promise.all(workers);

  const refreshDepth = async () => {
    try {
      metrics.queueDepth = await store.queueDepth(LEECH_TOPIC, PROC_TOPIC, {
        maxRetries: (await settingsFor(null)).processor.maxRetries,
      });
    } catch {
      // the next refresh will tell
    }
  };
  await refreshDepth();
  const depthTimer = setInterval(refreshDepth, 2_000);
  log.info("processing", {
    handlers: ordered.map((handler) => handler.name).join(",") || "(none)",
    variant,
    holder,
    mode: parallelProjects ? `parallel projects ×${concurrency}` : "sequential",
  });

  const stop = () =>
    stopped ??= (async () => {
      stopping.abort();
      clearInterval(depthTimer);
      clearInterval(eagerTimer);
      // Waits for the workers, at most `ms`; true when they are done.
      const within = async (ms: number) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
        try {
          return await Promise.race([all.then(() => true), timeout]);
        } finally {
          clearTimeout(timer);
        }
      };
      if (!(await within(stopTimeoutMs))) {
        log.warn("jobs still running at the stop timeout; asking their handlers to stop", { jobs: inFlight.size });
        cancelled.abort();
        await within(2_000);
        // Handlers that ignore the signal: their jobs go back all the same.
        for (const id of inFlight.keys()) await store.releaseJob(id, holder).catch(() => {});
      }
      clearTimeout(renewal);
      log.info("stopped", { processed: metrics.processed, failed: metrics.failed });
    })();
  return {
    metrics,
    holder,
    sender,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
