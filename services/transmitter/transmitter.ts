import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import process from "node:process";
import type { Session } from "@ftrack/api";
import { createLogger, type Logger } from "../../src/cli/service_log.ts";
import type { Job } from "../../src/store/event_record.ts";
import type { PipelineStore } from "../../src/store/pipeline_store.ts";
import type { Variant } from "../../src/store/settings.ts";
import { TRACKER_SENDER_TYPE } from "../../src/store/topics.ts";
import { applyChange, TRANSMITTER_SETTINGS_KEY } from "./apply_change.ts";
import { UnappliableChange } from "./unappliable_change.ts";

/** The transmitter's jobs: one per pipeline `entity.*` event carried to the tracker. */
export const TRANSMIT_TOPIC = "tracker.transmit";

const TYPES = ["project", "folder", "task", "product", "version"];
const CHANGES = [
  "created",
  "deleted",
  "renamed",
  "moved",
  "status_changed",
  "assignees_changed",
  "attrib_changed",
  "data_changed",
];

/**
 * The pipeline topics the transmitter enrolls: every change of projects, folders, tasks,
 * products and versions; comments created, edited and deleted; lists created, renamed, changed
 * and deleted.
 */
export const TRANSMITTER_SOURCE_TOPICS: string[] = [
  ...TYPES.flatMap((type) => CHANGES.map((change) => `entity.${type}.${change}`)),
  ...["created", "data_changed", "deleted"].map((change) => `entity.comment.${change}`),
  ...["created", "renamed", "data_changed", "deleted"].map((change) => `entity.list.${change}`),
];

/** What a transmitter has done. */
export interface TransmitterMetrics {
  applied: number;
  failed: number;
  /** Jobs that found the transmitter turned off for their project. */
  skipped: number;
}

/** Options of {@linkcode startTransmitter}. */
export interface TransmitterOptions {
  store: PipelineStore;
  session: Session;
  /** @default {"production"} */
  variant?: Variant;
  /** @default {`transmitter@<host>`} */
  sender?: string;
  log?: Logger;
  /** Longest pause between looks at an empty queue, in milliseconds. @default {50} */
  pollMs?: number;
  /** Called after each job. */
  onJob?: (job: Job, outcome: "finished" | "failed") => void;
}

/** A running transmitter. */
export interface RunningTransmitter extends AsyncDisposable {
  readonly metrics: Readonly<TransmitterMetrics>;
  readonly sender: string;
  readonly holder: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a transmitter: enrolls the pipeline's `entity.*` events (in any order, with retries),
 * leaving out those written on the tracker's behalf (sender type `tracker`: the processor's
 * sync) so nothing echoes, and applies each to the tracker. A change that cannot be applied
 * fails its job with the reason (retried with backoff up to `processor.maxRetries`, then left
 * failed, shown by `deno task events`).
 */
export function startTransmitter(options: TransmitterOptions): RunningTransmitter {
  const {
    store,
    session,
    variant = "production",
    sender = `transmitter@${hostname()}`,
    log = createLogger({ name: "transmitter" }),
    pollMs = 50,
    onJob,
  } = options;
  const holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const metrics: TransmitterMetrics = { applied: 0, failed: 0, skipped: 0 };
  const stopping = new AbortController();

  const runJob = async (job: Job) => {
    const project = job.source.project;
    const settings = await store.getSettings(variant, project ? { project } : {});
    const handlerSettings = settings.handlers[TRANSMITTER_SETTINGS_KEY];
    if (!settings.enabled || handlerSettings?.enabled === false) {
      metrics.skipped++;
      await store.finishJob(job.event.id, holder, { description: `Skipped: the transmitter is off for '${project}'` });
      onJob?.(job, "finished");
      return;
    }
    const renew = setInterval(
      () => store.renewLease(job.event.id, holder, settings.processor.leaseMs).catch(() => {}),
      Math.max(200, settings.processor.leaseMs / 3),
    );
    try {
      const applied = await applyChange({ session, store, event: job.source, settings, sender });
      await store.finishJob(job.event.id, holder, {
        description: `Applied ${job.source.topic} to the tracker: ${applied.summary}`,
      });
      metrics.applied++;
      log.debug("applied", { topic: job.source.topic, summary: applied.summary });
      onJob?.(job, "finished");
    } catch (error) {
      const { retryBackoffMs, retryBackoffMaxMs } = settings.processor;
      const reason = error instanceof UnappliableChange
        ? `Cannot apply ${job.source.topic} to the tracker: ${error.message}`
        : `Applying ${job.source.topic} failed: ${(error as Error).message}`;
      await store.failJob(job.event.id, holder, {
        error: { message: reason, stack: (error as Error).stack },
        retryInMs: Math.min(retryBackoffMs * 2 ** job.event.retries, retryBackoffMaxMs),
      });
      metrics.failed++;
      log.warn("a change could not be applied", { job: job.event.id, error: reason });
      onJob?.(job, "failed");
    } finally {
      clearInterval(renew);
    }
  };

  const loop = (async () => {
    let idle = 1;
    while (!stopping.signal.aborted) {
      let job: Job | undefined;
      try {
        const settings = await store.getSettings(variant);
        job = await store.enroll(TRANSMITTER_SOURCE_TOPICS, TRANSMIT_TOPIC, {
          sender,
          holder,
          sequential: false,
          ignoreSenderTypes: [TRACKER_SENDER_TYPE],
          maxRetries: settings.processor.maxRetries,
          lease: settings.processor.leaseMs,
        });
      } catch (error) {
        log.error("cannot enroll a job", { error: (error as Error).message });
        await sleep(1_000);
        continue;
      }
      if (!job) {
        await sleep(idle);
        idle = Math.min(idle * 2, pollMs);
        continue;
      }
      idle = 1;
      try {
        await runJob(job);
      } catch (error) {
        log.error("cannot complete a job", { job: job.event.id, error: (error as Error).message });
        await store.releaseJob(job.event.id, holder).catch(() => {});
      }
    }
  })();
  log.info("transmitting", { variant, holder });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      stopping.abort();
      await loop;
      log.info("stopped", { ...metrics });
    })();
  return { metrics, sender, holder, stop, [Symbol.asyncDispose]: stop };
}
