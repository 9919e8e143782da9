import type { Session } from "@ftrack/api";
import type { Discovery } from "../../publish/discover.ts";
import type { Result } from "../../publish/run.ts";
import { runPublish } from "../../publish/run_publish.ts";
import { repairsFor } from "../../plugins/_repair.ts";
import type { PublishSettings } from "../../publish/settings.ts";
import type { BridgeLog } from "./bridge_log.ts";
import { BridgeError } from "./errors.ts";
import type { JobStore, StoredJob } from "./job_store.ts";
import { type BridgePublishRequest, FINAL_STATES, type JobResult } from "./schemas.ts";

/** Options of {@linkcode JobRunner}. */
export interface JobRunnerOptions {
  store: JobStore;
  /** The tracker session every job uses (opened once per bridge). */
  session: () => Promise<Session>;
  /** The plugins for a host. */
  plugins: (host: string) => Promise<Discovery>;
  settings?: PublishSettings;
  /** Jobs run at once. @default {2} */
  concurrency?: number;
  log?: BridgeLog;
  /** Least time between two `progress` events of a job, in ms. @default {100} */
  progressInterval?: number;
  /**
   * How long a job waits after it is queued before it starts, in ms: a host that follows its
   * events right after the 202 gets the first ones before the publish takes the event loop.
   * @default {5}
   */
  startDelay?: number;
}

/** Why a running publish was stopped. */
type StopReason = "cancel" | "shutdown";

/**
 * The assets a request publishes (context path + asset name): two jobs sharing one run one after
 * the other. Dry runs publish nothing and wait for nobody.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { assetKeys } from "./job_runner.ts";
 *
 * const request = { context: { path: "demo/sq010/sh010/", task: "lighting" }, instances: [{ name: "beauty" }] };
 * const job = { dryRun: false, request } as unknown as Parameters<typeof assetKeys>[0];
 * deepStrictEqual(assetKeys(job), ["demo/sq010/sh010\u0000beauty"]);
 * ```
 */
export function assetKeys(job: Pick<StoredJob, "request" | "dryRun">): string[] {
  if (job.dryRun) return [];
  const path = job.request.context.path.split("/").map((part) => part.trim()).filter(Boolean).join("/");
  return job.request.instances.map((instance) => `${path}\u0000${instance.name}`);
}

/** A plugin result as jobs and events show it; a failed validation carries the repairs its plugin proposes. */
export function toJobResult(result: Result): JobResult {
  const repairs = repairsFor(result);
  return {
    plugin: result.plugin.name,
    instance: result.instance?.name ?? null,
    success: result.success,
    error: result.error ? { message: result.error.message, stack: result.error.stack } : null,
    records: result.records.map(({ level, message }) => ({ level, message })),
    duration: Math.round(result.duration * 100) / 100,
    ...(repairs.length > 0 ? { repairs } : {}),
  };
}

/**
 * Runs publish jobs: at most `concurrency` at once, in the order they came, two jobs of the same
 * asset one after the other. A job's plugin results, byte progress and log records become its
 * events as they happen. Cancelling stops a publish at its next safe point: the version stays
 * unpublished, and the same request again completes it (the publish takes up a version whose
 * publisher is gone). Jobs left queued or running by a bridge that stopped are resumed by
 * {@linkcode JobRunner.resume}.
 */
export class JobRunner {
  readonly concurrency: number;
  #options: JobRunnerOptions;
  #store: JobStore;
  #queue: string[] = [];
  #running = new Map<string, { controller: AbortController; done: Promise<void>; keys: string[] }>();
  #closed = false;

  constructor(options: JobRunnerOptions) {
    const { concurrency = 2 } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`Cannot run jobs with concurrency '${concurrency}': give a whole number from 1`);
    }
    this.concurrency = concurrency;
    this.#options = options;
    this.#store = options.store;
  }

  /** Queues a validated request; returns its job (state `queued`). */
  submit(request: BridgePublishRequest): StoredJob {
    if (this.#closed) throw new BridgeError(503, "shutting_down", "The bridge is stopping: publish again in a moment");
    const job = this.#store.create(request);
    this.#options.log?.info("job queued", { job: job.id, host: job.host, dryRun: job.dryRun });
    this.#queue.push(job.id);
    this.#pump();
    return job;
  }

  /** Re-queues the jobs a previous bridge left queued or running (oldest first). */
  resume(): StoredJob[] {
    const unfinished = this.#store.list().filter((job) =>
      !FINAL_STATES.includes(job.state) && !this.#running.has(job.id)
    )
      .reverse();
    for (const job of unfinished) {
      if (this.#queue.includes(job.id)) continue;
      if (job.state === "running") {
        this.#store.emit(job.id, {
          type: "log",
          data: { level: "warning", message: "the bridge stopped while this job ran; resuming it" },
        });
        this.#store.update(job.id, { state: "queued" });
        this.#store.emit(job.id, { type: "state", data: { state: "queued", resumed: true } });
      }
      this.#options.log?.info("job resumed", { job: job.id, attempts: job.attempts });
      this.#queue.push(job.id);
    }
    this.#pump();
    return unfinished;
  }

  /**
   * Cancels a job: a queued one at once, a running one at its next safe point (its state becomes
   * `cancelled` when the publish has stopped). A finished job is left as it is.
   */
  cancel(id: string): StoredJob {
    const job = this.#store.get(id);
    if (!job) throw new BridgeError(404, "job_not_found", `No job '${id}' on this bridge`);
    if (FINAL_STATES.includes(job.state)) return job;
    const running = this.#running.get(id);
    if (running) {
      this.#options.log?.info("job cancel requested", { job: id });
      this.#store.emit(id, { type: "log", data: { level: "info", message: "cancel requested" } });
      running.controller.abort("cancel" satisfies StopReason);
      return job;
    }
    this.#queue = this.#queue.filter((queued) => queued !== id);
    this.#finish(job, "cancelled", "cancelled before it started");
    this.#pump();
    return job;
  }

  /** Resolves when the job is in a final state (or the runner closed). */
  async settled(id: string): Promise<StoredJob> {
    for await (const _ of this.#store.follow(id, 0)) {
      // Wait for the final state event.
    }
    return this.#store.get(id)!;
  }

  /**
   * Stops: running publishes are interrupted and left `queued`, so that the next bridge resumes
   * them; nothing new starts.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [, running] of this.#running) running.controller.abort("shutdown" satisfies StopReason);
    await Promise.all([...this.#running.values()].map((running) => running.done));
    await this.#store.flush();
  }

  #pump(): void {
    if (this.#closed) return;
    const held = new Set([...this.#running.values()].flatMap((running) => running.keys));
    const waiting = new Set<string>();
    for (const id of [...this.#queue]) {
      if (this.#running.size >= this.concurrency) break;
      const job = this.#store.get(id)!;
      const keys = assetKeys(job);
      if (keys.some((key) => held.has(key) || waiting.has(key))) {
        for (const key of keys) waiting.add(key);
        continue;
      }
      this.#queue = this.#queue.filter((queued) => queued !== id);
      for (const key of keys) held.add(key);
      const controller = new AbortController();
      const entry = { controller, keys, done: Promise.resolve() };
      this.#running.set(id, entry);
      // Started a moment later, so that the answer to the POST (and the first events to a client
      // that follows) go out before the publish takes the event loop.
      entry.done = new Promise((resolve) => setTimeout(resolve, this.#options.startDelay ?? 5))
        .then(() => this.#run(job, controller.signal))
        .catch((error) => {
          this.#options.log?.error("job crashed", { job: id, error: String(error) });
          if (!FINAL_STATES.includes(job.state)) this.#finish(job, "failed", `the bridge failed: ${String(error)}`);
        })
        .finally(() => {
          this.#running.delete(id);
          this.#pump();
        });
    }
  }

  async #run(job: StoredJob, signal: AbortSignal): Promise<void> {
    const store = this.#store;
    const log = this.#options.log;
    const resumed = job.attempts > 0;
    store.update(job.id, {
      state: "running",
      startedAt: job.startedAt ?? new Date().toISOString(),
      attempts: job.attempts + 1,
      results: [],
    });
    store.emit(job.id, { type: "state", data: { state: "running", ...(resumed ? { resumed: true } : {}) } });
    log?.info("job started", { job: job.id, attempt: job.attempts });

    const session = await this.#options.session();
    const { plugins, skipped } = await this.#options.plugins(job.host);
    for (const problem of skipped) {
      store.emit(job.id, {
        type: "log",
        data: { level: "warning", message: `skipped plugin file '${problem.path}': ${problem.reason}` },
      });
    }

    const progress = { bytes: 0, totalBytes: 0 };
    const interval = this.#options.progressInterval ?? 100;
    let lastProgress = 0;
    let sent = { bytes: -1, totalBytes: -1 };
    const sendProgress = (force: boolean) => {
      const now = performance.now();
      if (!force && now - lastProgress < interval && progress.bytes < progress.totalBytes) return;
      if (sent.bytes === progress.bytes && sent.totalBytes === progress.totalBytes) return;
      lastProgress = now;
      sent = { ...progress };
      store.update(job.id, { progress: { ...progress } });
      store.emit(job.id, { type: "progress", data: { ...progress } });
    };

    let thrown: unknown;
    const outcome = await runPublish({
      request: job.request,
      session,
      plugins,
      settings: this.#options.settings,
      dryRun: job.dryRun,
      signal,
      progress: {
        expect: (bytes) => {
          progress.totalBytes += bytes;
          sendProgress(false);
        },
        done: (bytes) => {
          progress.bytes += bytes;
          sendProgress(false);
        },
      },
      events: {
        pluginProcessed: (result) => {
          for (const record of result.records) {
            store.emit(job.id, {
              type: "log",
              data: { level: record.level, message: record.message, plugin: result.plugin.name },
            });
          }
          const shown = toJobResult(result);
          store.update(job.id, { results: [...job.results, shown] });
          store.emit(job.id, { type: "result", data: shown });
        },
        stopped: (reason) =>
          store.emit(job.id, { type: "log", data: { level: "warning", message: `stopped: ${reason}` } }),
      },
    }).catch((error) => {
      thrown = error;
      return undefined;
    });
    sendProgress(true);

    const report = outcome?.report;
    const versionIds = job.dryRun || !report ? [] : (report.created as Array<{ versionId?: unknown }>)
      .map((created) => created.versionId)
      .filter((id): id is string => typeof id === "string");
    store.update(job.id, {
      report: (report ?? null) as Record<string, unknown> | null,
      versionIds: report?.ok ? versionIds : [],
    });

    if (signal.aborted && signal.reason === ("shutdown" satisfies StopReason)) {
      // Left for the next bridge: it resumes the job from where this one stopped.
      store.emit(job.id, {
        type: "log",
        data: { level: "warning", message: "the bridge is stopping; the job resumes when it starts again" },
      });
      store.update(job.id, { state: "queued" });
      store.emit(job.id, { type: "state", data: { state: "queued" } });
      log?.info("job interrupted", { job: job.id });
      return;
    }
    if (report?.ok && !signal.aborted) {
      this.#finish(job, "succeeded", null);
      return;
    }
    if (signal.aborted) {
      this.#finish(
        job,
        "cancelled",
        "cancelled: the version was not published; publish the same request again to complete it",
      );
      return;
    }
    if (!report) {
      this.#finish(job, "failed", `the publish stopped: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
      return;
    }
    const failures = report.results.filter((result) => !result.success);
    const why = failures.map((failure) => `${failure.plugin}: ${failure.error?.message ?? "failed"}`);
    this.#finish(job, "failed", why[0] ?? report.stopped ?? "the publish did not complete");
  }

  #finish(job: StoredJob, state: "succeeded" | "failed" | "cancelled", error: string | null): void {
    this.#store.update(job.id, { state, finishedAt: new Date().toISOString(), error });
    this.#store.emit(job.id, { type: "state", data: { state, ...(error ? { error } : {}) } });
    this.#options.log?.info("job finished", { job: job.id, state, error, versionIds: job.versionIds });
  }
}
