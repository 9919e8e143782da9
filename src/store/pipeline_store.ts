import type { DispatchInput, EventError, EventStatus, Job, StoredEvent } from "./event_record.ts";
import type { Entity, EntityInput, EntityType, Writer } from "./entity.ts";
import type { Settings, SettingsDocument, Variant } from "./settings.ts";
import type { PipelineUser, UserFilter, UserInput } from "./user.ts";

/** Options of {@linkcode PipelineStore.enroll}. */
export interface EnrollOptions {
  /** The worker's service name, recorded as the job's sender. */
  sender: string;
  /** Who holds the lease (unique per process, e.g. `host:pid:uuid`). @default {sender} */
  holder?: string;
  /**
   * `true`: one job at a time, in order; nothing after an unfinished job is handed out.
   * `"project"`: in order within each project, projects in parallel. `false`: any order.
   * @default {false}
   */
  sequential?: boolean | "project";
  /** Source events written by these sender types are never enrolled. @default {[]} */
  ignoreSenderTypes?: string[];
  /** A failed job (or one whose lease expired) is handed out again this many times. @default {3} */
  maxRetries?: number;
  /** Milliseconds the claim lasts without a renewal. @default {30000} */
  lease?: number;
}

/** Filter of {@linkcode PipelineStore.listEvents}. */
export interface EventFilter {
  topic?: string;
  status?: EventStatus;
  project?: string;
  dependsOn?: string;
  /** @default {100} */
  limit?: number;
  /** Newest first. @default {false} */
  newestFirst?: boolean;
}

/** A custom handler archive kept in the store for the processors of a variant. */
export interface HandlerArchive {
  name: string;
  variant: Variant;
  filename: string;
  manifest: Record<string, unknown>;
  size: number;
  addedAt: number;
}

/**
 * The pipeline store: the event log with enroll (claim and lease), the entities the pipeline
 * keeps, settings per variant and handler archives. One interface, two adapters (SQLite for one
 * machine, PostgreSQL for a farm), opened with {@linkcode openStore}.
 */
export interface PipelineStore extends AsyncDisposable {
  /** Which adapter. */
  readonly kind: "sqlite" | "postgres";
  /** Where it is (a file path, or the URL without a password). */
  readonly location: string;

  /** Stores an event; one whose hash is already stored is not stored again and comes back with `duplicate`. */
  dispatch(input: DispatchInput): Promise<{ event: StoredEvent; duplicate: boolean }>;
  /** Stores several events in one transaction, in order (a leecher's burst); each result says whether it was a duplicate. */
  dispatchMany(inputs: DispatchInput[]): Promise<Array<{ event: StoredEvent; duplicate: boolean }>>;
  getEvent(id: string): Promise<StoredEvent | undefined>;
  listEvents(filter?: EventFilter): Promise<StoredEvent[]>;
  /** Number of events with a topic (and status). */
  countEvents(filter: { topic: string; status?: EventStatus }): Promise<number>;

  /**
   * Atomically hands out the oldest source event without a finished job of `targetTopic` (or a
   * job that may run again: failed with retries left, its lease expired, released), creating or
   * updating the job for `sender` as `in_progress` with a lease. Undefined when there is nothing.
   * Source events count only when `finished` (events are stored finished unless told otherwise).
   */
  enroll(sourceTopic: string | string[], targetTopic: string, options: EnrollOptions): Promise<Job | undefined>;
  /**
   * Finishes a held job and enrolls the next in one transaction (a worker's usual step: half the
   * commits). `finished` is false when `finish.holder` no longer held the job.
   */
  finishAndEnroll(
    finish: { jobId: string; holder: string; description?: string; payload?: unknown },
    sourceTopic: string | string[],
    targetTopic: string,
    options: EnrollOptions,
  ): Promise<{ finished: boolean; job: Job | undefined }>;
  /**
   * Finishes the given jobs held by `options.holder` (the ids finished come back), then hands out
   * up to `max` jobs at once, consecutive, to that holder, in one transaction. They must be
   * processed in order; on a failure, release the rest. With `sequential: "project"` at most one
   * is handed out (the others belong to other workers' projects). `max: 0` only finishes.
   */
  enrollMany(
    sourceTopic: string | string[],
    targetTopic: string,
    options: EnrollOptions & { max: number },
    finish?: Array<{ jobId: string; description?: string; payload?: unknown }>,
  ): Promise<{ finished: string[]; jobs: Job[] }>;
  /** Extends the lease of a job still held by `holder`; false when it was lost. */
  renewLease(jobId: string, holder: string, leaseMs: number): Promise<boolean>;
  /** Marks a held job finished; false when `holder` no longer holds it. */
  finishJob(jobId: string, holder: string, options?: { description?: string; payload?: unknown }): Promise<boolean>;
  /**
   * Marks a held job failed with its error; it may be handed out again after `retryInMs`. A
   * `payload` replaces the job's (what a retry needs to know, e.g. which handlers succeeded).
   */
  failJob(
    jobId: string,
    holder: string,
    options: { error: EventError; retryInMs?: number; payload?: unknown },
  ): Promise<boolean>;
  /**
   * Ends a held job's lease now, as if its worker had died (it did: the processor that finds its
   * own crashed predecessor's jobs calls this). The next enroll hands it out, counting a retry.
   */
  expireLease(jobId: string, holder: string): Promise<boolean>;
  /** Gives a held job back (a graceful stop), with a new `payload` if given; it is handed out again at once. */
  releaseJob(jobId: string, holder: string, options?: { payload?: unknown }): Promise<boolean>;
  /** Jobs of a topic now `in_progress`, with their holders. */
  heldJobs(targetTopic: string): Promise<StoredEvent[]>;
  /**
   * Makes a job run again: `pending`, retries 0. Takes the job's id, or a source event's id (its
   * job of `targetTopic` then). Throws a `RangeError` naming the id when there is no such job.
   */
  retryJob(id: string, targetTopic?: string): Promise<StoredEvent>;
  /** Sources not yet handed out plus jobs waiting to run (pending, in progress, failed with retries left). */
  queueDepth(sourceTopic: string | string[], targetTopic: string, options?: { maxRetries?: number }): Promise<number>;

  /** Creates or updates an entity; each change is recorded as an `entity.<type>.<change>` event in the same transaction. */
  writeEntity(input: EntityInput, by: Writer): Promise<{ entity: Entity; events: StoredEvent[] }>;
  getEntity(id: string): Promise<Entity | undefined>;
  findEntities(
    filter: { type?: EntityType; project?: string; parentId?: string; trackerId?: string },
  ): Promise<Entity[]>;
  /**
   * Deletes an entity, recording `entity.<type>.deleted`; its comments go with it (each recorded too),
   * other children refuse the delete with a `RangeError`. False when there was none.
   */
  deleteEntity(id: string, by: Writer): Promise<boolean>;

  /**
   * Creates or updates a user (by id); a `user.created` or `user.changed` event is recorded in the
   * same transaction when something changed. A username another user has (case-insensitively) is
   * refused with a `RangeError`; bad input with a `TypeError` naming the field.
   */
  writeUser(input: UserInput, by: Writer): Promise<{ user: PipelineUser; changed: boolean }>;
  getUser(id: string): Promise<PipelineUser | undefined>;
  /** Users matching every given field (username and email case-insensitively), by username. */
  findUsers(filter: UserFilter): Promise<PipelineUser[]>;
  /** Every user, by username. */
  listUsers(): Promise<PipelineUser[]>;

  /** The settings of a variant, with the project's overrides when a project is named; validated. */
  getSettings(variant: Variant, options?: { project?: string }): Promise<Settings>;
  /** The stored document (studio or project override), unresolved. */
  getSettingsDocument(variant: Variant, options?: { project?: string }): Promise<SettingsDocument>;
  /** Replaces a studio document or a project override; refused with a `TypeError` when the result is invalid. */
  setSettings(variant: Variant, document: SettingsDocument, options?: { project?: string }): Promise<Settings>;

  addArchive(archive: Omit<HandlerArchive, "addedAt" | "size">, bytes: Uint8Array): Promise<HandlerArchive>;
  listArchives(variant?: Variant): Promise<HandlerArchive[]>;
  readArchive(name: string, variant: Variant): Promise<Uint8Array | undefined>;
  removeArchive(name: string, variant: Variant): Promise<boolean>;

  /** The schema version of the store. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
