import { appendFile, mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type BridgePublishRequest,
  FINAL_STATES,
  type JobEvent,
  type JobEventInput,
  JobEventSchema,
  JobSchema,
} from "./schemas.ts";
import { z } from "@hono/zod-openapi";

/** What the store keeps of a job besides what the API shows: what a resumed run needs. */
export const StoredJobSchema = JobSchema.extend({
  /** How many times a run started (a resumed job has more than one). */
  attempts: z.number().int().default(0),
});
/** A job as kept on disk. */
export type StoredJob = z.infer<typeof StoredJobSchema>;

/** Options of {@linkcode JobStore.open}. */
export interface JobStoreOptions {
  /** The folder of `<id>.json` and `<id>.events.jsonl` files (made when missing). */
  folder: string;
}

type Listener = (event: JobEvent) => void;

/**
 * The bridge's jobs, kept in a folder so that a bridge started again answers for the jobs of the
 * one before it: `<id>.json` holds the job (replaced atomically on each change) and
 * `<id>.events.jsonl` its events, appended as they happen. Events are numbered 1, 2, 3… per job
 * and followers are told of each one as it is emitted.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { JobStore } from "./job_store.ts";
 *
 * const folder = await mkdtemp(join(tmpdir(), "ferry-jobs-"));
 * const store = await JobStore.open({ folder });
 * const job = store.create({
 *   host: "shell", dryRun: true, comment: "", location: "server",
 *   context: { path: "demo/sq010/sh010", task: "lighting" },
 *   instances: [{ family: "render", families: [], name: "beauty", files: ["a.exr"], options: {} }],
 * });
 * await store.flush();
 * const again = await JobStore.open({ folder });
 * ok(again.get(job.id)?.state === "queued");
 * ok((await again.events(job.id, 0))[0]?.type === "state");
 * await rm(folder, { recursive: true });
 * ```
 */
export class JobStore {
  readonly folder: string;
  #jobs = new Map<string, StoredJob>();
  #events = new Map<string, JobEvent[]>();
  #listeners = new Map<string, Set<Listener>>();
  #writes = new Map<string, Promise<void>>();
  #dirty = new Set<string>();
  #pendingLines = new Map<string, string[]>();
  /** How many of a job's events are on disk (and so shown to followers). */
  #durable = new Map<string, number>();

  private constructor(folder: string) {
    this.folder = folder;
  }

  /** Opens (or makes) the folder and loads every job in it; unreadable files are passed over. */
  static async open(options: JobStoreOptions): Promise<JobStore> {
    const store = new JobStore(options.folder);
    await mkdir(options.folder, { recursive: true });
    for (const name of await readdir(options.folder)) {
      if (!/^[0-9a-f-]{36}\.json$/.test(name)) continue;
      try {
        const job = StoredJobSchema.parse(JSON.parse(await readFile(join(options.folder, name), "utf8")));
        store.#jobs.set(job.id, job);
        if (!FINAL_STATES.includes(job.state)) await store.#loadEvents(job.id);
      } catch (error) {
        console.error(`bridge: skipped the unreadable job file '${name}': ${(error as Error).message}`);
      }
    }
    return store;
  }

  /** Every job, newest first. */
  list(): StoredJob[] {
    return [...this.#jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  /** A job by id. */
  get(id: string): StoredJob | undefined {
    return this.#jobs.get(id);
  }

  /** Records a new queued job for a validated request and emits its first `state` event. */
  create(input: BridgePublishRequest): StoredJob {
    const { dryRun, ...request } = input;
    const job: StoredJob = {
      id: crypto.randomUUID(),
      state: "queued",
      host: request.host,
      dryRun,
      request,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      progress: { bytes: 0, totalBytes: 0 },
      results: [],
      versionIds: [],
      report: null,
      error: null,
      attempts: 0,
    };
    this.#jobs.set(job.id, job);
    this.#events.set(job.id, []);
    this.#durable.set(job.id, 0);
    this.update(job.id, {});
    this.emit(job.id, { type: "state", data: { state: "queued" } });
    return job;
  }

  /** Changes a job's fields and schedules it to be written. */
  update(id: string, patch: Partial<StoredJob>): StoredJob {
    const job = this.#require(id);
    Object.assign(job, patch);
    if (!this.#dirty.has(id)) {
      this.#dirty.add(id);
      this.#chain(`${id}.json`, async () => {
        this.#dirty.delete(id);
        const path = join(this.folder, `${id}.json`);
        await writeFile(`${path}.tmp`, JSON.stringify(job));
        await rename(`${path}.tmp`, path);
      });
    }
    return job;
  }

  /**
   * Numbers an event, keeps it and appends it to the job's log; followers are told once it is on
   * disk, so that an event a client has seen survives a killed bridge (and its id is never reused).
   */
  emit(id: string, input: JobEventInput): JobEvent {
    this.#require(id);
    const events = this.#events.get(id) ?? [];
    this.#events.set(id, events);
    const event = { id: (events.at(-1)?.id ?? 0) + 1, ...input } as JobEvent;
    events.push(event);
    const lines = this.#pendingLines.get(id);
    if (lines) lines.push(JSON.stringify(event));
    else {
      this.#pendingLines.set(id, [JSON.stringify(event)]);
      // Its own chain: an event is not held up by a job file being written.
      this.#chain(`${id}.events`, async () => {
        const batch = this.#pendingLines.get(id) ?? [];
        this.#pendingLines.delete(id);
        try {
          await appendFile(join(this.folder, `${id}.events.jsonl`), batch.map((line) => `${line}\n`).join(""));
        } finally {
          const durable = this.#durable.get(id) ?? 0;
          this.#durable.set(id, durable + batch.length);
          for (const written of events.slice(durable, durable + batch.length)) {
            for (const listener of this.#listeners.get(id) ?? []) listener(written);
          }
        }
      });
    }
    return event;
  }

  /** The events of a job after event `after` (0 for all). */
  async events(id: string, after: number): Promise<JobEvent[]> {
    this.#require(id);
    if (!this.#events.has(id)) await this.#loadEvents(id);
    const durable = this.#durable.get(id) ?? 0;
    return (this.#events.get(id) ?? []).slice(0, durable).filter((event) => event.id > after);
  }

  /**
   * The events after `after`, then each new one as it comes, until the `state` event of a final
   * state (or the signal aborts). Nothing is missed between the replay and the live events.
   */
  async *follow(id: string, after: number, signal?: AbortSignal): AsyncGenerator<JobEvent> {
    const past = await this.events(id, after);
    const queue: JobEvent[] = [];
    let wake: (() => void) | undefined;
    let last = past.at(-1)?.id ?? after;
    const listener: Listener = (event) => {
      queue.push(event);
      wake?.();
    };
    const listeners = this.#listeners.get(id) ?? new Set();
    this.#listeners.set(id, listeners);
    listeners.add(listener);
    const onAbort = () => wake?.();
    signal?.addEventListener("abort", onAbort);
    try {
      const isEnd = (event: JobEvent) => event.type === "state" && FINAL_STATES.includes(event.data.state);
      for (const event of past) {
        yield event;
        if (isEnd(event)) return;
      }
      // Nothing after `after` and the end already written: the client has everything.
      if (past.length === 0 && (await this.events(id, 0)).some(isEnd)) return;
      while (!signal?.aborted) {
        const event = queue.shift();
        if (event === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        if (event.id <= last) continue;
        last = event.id;
        yield event;
        if (isEnd(event)) return;
      }
    } finally {
      listeners.delete(listener);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Waits until everything emitted or changed so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.#writes.values()]);
  }

  #require(id: string): StoredJob {
    const job = this.#jobs.get(id);
    if (!job) throw new RangeError(`No job '${id}' in '${this.folder}'`);
    return job;
  }

  /** Runs writes to one file one after the other. */
  #chain(file: string, write: () => Promise<void>): void {
    const previous = this.#writes.get(file) ?? Promise.resolve();
    const next = previous.then(write).catch((error) =>
      console.error(`bridge: cannot write '${file}' in '${this.folder}': ${(error as Error).message}`)
    );
    this.#writes.set(file, next);
    next.then(() => {
      if (this.#writes.get(file) === next) this.#writes.delete(file);
    });
  }

  async #loadEvents(id: string): Promise<void> {
    let text = "";
    try {
      text = await readFile(join(this.folder, `${id}.events.jsonl`), "utf8");
    } catch {
      // No events written yet.
    }
    const events: JobEvent[] = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      const parsed = JobEventSchema.safeParse((() => {
        try {
          return JSON.parse(line);
        } catch {
          return undefined; // a line torn by a killed bridge
        }
      })());
      if (parsed.success && parsed.data.id === (events.at(-1)?.id ?? 0) + 1) events.push(parsed.data);
    }
    this.#events.set(id, events);
    this.#durable.set(id, events.length);
    // A line torn by a killed bridge must not swallow the next event appended after it.
    if (text.length > 0 && !text.endsWith("\n")) await appendFile(join(this.folder, `${id}.events.jsonl`), "\n");
  }
}
