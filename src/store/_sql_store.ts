import { randomUUID } from "node:crypto";
import type { Row, SqlDriver, SqlTx } from "./_sql_driver.ts";
import { DispatchSchema, type EventError, type Job, type StoredEvent } from "./event_record.ts";
import type { DispatchInput } from "./event_record.ts";
import {
  type Entity,
  entityChanges,
  type EntityInput,
  EntityInputSchema,
  type EntityType,
  type Writer,
} from "./entity.ts";
import { SCHEMA_VERSION } from "./migrations.ts";
import { type PipelineUser, userChanges, type UserFilter, type UserInput, UserInputSchema } from "./user.ts";
import type { EnrollOptions, EventFilter, HandlerArchive, PipelineStore } from "./pipeline_store.ts";
import {
  mergeSettings,
  parseSettings,
  type Settings,
  type SettingsDocument,
  type Variant,
  VariantSchema,
} from "./settings.ts";

/** Every insert into the event log holds this lock on PostgreSQL, so `seq` is committed in order. */
const EVENT_INSERT_LOCK = "ferry.events.insert";

const toNumber = (value: unknown): number | null => value === null || value === undefined ? null : Number(value);
const fromJson = (value: unknown): unknown => value === null || value === undefined ? null : JSON.parse(String(value));

function toEvent(row: Row): StoredEvent {
  return {
    id: String(row.id),
    seq: Number(row.seq),
    topic: String(row.topic),
    hash: String(row.hash),
    sender: (row.sender as string | null) ?? null,
    senderType: (row.sender_type as string | null) ?? null,
    project: (row.project as string | null) ?? null,
    dependsOn: (row.depends_on as string | null) ?? null,
    status: row.status as StoredEvent["status"],
    retries: Number(row.retries),
    payload: fromJson(row.payload),
    description: String(row.description ?? ""),
    error: fromJson(row.error) as EventError | null,
    holder: (row.holder as string | null) ?? null,
    leaseUntil: toNumber(row.lease_until),
    availableAt: toNumber(row.available_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toEntity(row: Row): Entity {
  return {
    id: String(row.id),
    type: row.type,
    project: String(row.project),
    parentId: (row.parent_id as string | null) ?? null,
    name: String(row.name),
    status: (row.status as string | null) ?? null,
    assignees: fromJson(row.assignees),
    attributes: fromJson(row.attributes),
    trackerId: (row.tracker_id as string | null) ?? null,
    data: fromJson(row.data),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  } as Entity;
}

function toUser(row: Row): PipelineUser {
  return {
    id: String(row.id),
    username: String(row.username),
    email: (row.email as string | null) ?? null,
    firstName: (row.first_name as string | null) ?? null,
    lastName: (row.last_name as string | null) ?? null,
    active: Number(row.active) === 1,
    trackerId: (row.tracker_id as string | null) ?? null,
    data: fromJson(row.data) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toArchive(row: Row): HandlerArchive {
  return {
    name: String(row.name),
    variant: row.variant as Variant,
    filename: String(row.filename),
    manifest: fromJson(row.manifest) as Record<string, unknown>,
    size: Number(row.size),
    addedAt: Number(row.added_at),
  };
}

const EVENT_COLUMNS =
  "id, topic, hash, sender, sender_type, project, depends_on, source_seq, status, retries, payload, description, holder, lease_until, available_at, created_at, updated_at";

/** The store on a SQL database: one implementation of the logic, two drivers. */
export class SqlStore implements PipelineStore {
  readonly #driver: SqlDriver;

  constructor(driver: SqlDriver) {
    this.#driver = driver;
  }

  get kind(): "sqlite" | "postgres" {
    return this.#driver.dialect;
  }

  get location(): string {
    return this.#driver.location;
  }

  async #insertEvent(tx: SqlTx, values: {
    id?: string;
    topic: string;
    hash?: string;
    sender: string | null;
    senderType: string | null;
    project: string | null;
    dependsOn: string | null;
    sourceSeq?: number | null;
    status: StoredEvent["status"];
    retries?: number;
    payload: unknown;
    description: string;
    holder?: string | null;
    leaseUntil?: number | null;
  }, now: number): Promise<StoredEvent | undefined> {
    await this.#driver.lock(tx, EVENT_INSERT_LOCK);
    const id = values.id ?? randomUUID();
    const rows = await tx.all(
      `INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (hash) DO NOTHING RETURNING *`,
      [
        id,
        values.topic,
        values.hash ?? id,
        values.sender,
        values.senderType,
        values.project,
        values.dependsOn,
        values.sourceSeq ?? null,
        values.status,
        values.retries ?? 0,
        JSON.stringify(values.payload ?? null),
        values.description,
        values.holder ?? null,
        values.leaseUntil ?? null,
        null,
        now,
        now,
      ],
    );
    return rows[0] === undefined ? undefined : toEvent(rows[0]);
  }

  async dispatch(input: DispatchInput): Promise<{ event: StoredEvent; duplicate: boolean }> {
    const parsed = DispatchSchema.safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
      throw new TypeError(`Cannot store event '${String(input?.topic)}': ${problems.join("; ")}`);
    }
    const values = parsed.data;
    return await this.#driver.transaction(async (tx) => {
      const inserted = await this.#insertEvent(tx, values, Date.now());
      if (inserted) return { event: inserted, duplicate: false };
      const existing = await tx.all("SELECT * FROM events WHERE hash = ?", [values.hash]);
      return { event: toEvent(existing[0]!), duplicate: true };
    });
  }

  async dispatchMany(inputs: DispatchInput[]): Promise<Array<{ event: StoredEvent; duplicate: boolean }>> {
    const values = inputs.map((input) => {
      const parsed = DispatchSchema.safeParse(input);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
        throw new TypeError(`Cannot store event '${String(input?.topic)}': ${problems.join("; ")}`);
      }
      return parsed.data;
    });
    if (values.length === 0) return [];
    return await this.#driver.transaction(async (tx) => {
      const now = Date.now();
      const results: Array<{ event: StoredEvent; duplicate: boolean }> = [];
      for (const value of values) {
        const inserted = await this.#insertEvent(tx, value, now);
        if (inserted) results.push({ event: inserted, duplicate: false });
        else {
          const existing = await tx.all("SELECT * FROM events WHERE hash = ?", [value.hash]);
          results.push({ event: toEvent(existing[0]!), duplicate: true });
        }
      }
      return results;
    });
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const rows = await this.#driver.read((tx) => tx.all("SELECT * FROM events WHERE id = ?", [id]));
    return rows[0] === undefined ? undefined : toEvent(rows[0]);
  }

  async listEvents(filter: EventFilter = {}): Promise<StoredEvent[]> {
    const { topic, status, project, dependsOn, limit = 100, newestFirst = false } = filter;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`Cannot list events: limit ${limit} is not a positive integer`);
    }
    const where: string[] = [];
    const params: unknown[] = [];
    for (
      const [column, value] of [["topic", topic], ["status", status], ["project", project], ["depends_on", dependsOn]]
    ) {
      if (value !== undefined) {
        where.push(`${column} = ?`);
        params.push(value);
      }
    }
    const rows = await this.#driver.read((tx) =>
      tx.all(
        `SELECT * FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq ${
          newestFirst ? "DESC" : "ASC"
        } LIMIT ${limit}`,
        params,
      )
    );
    return rows.map(toEvent);
  }

  async countEvents(filter: { topic: string; status?: StoredEvent["status"] }): Promise<number> {
    const rows = await this.#driver.read((tx) =>
      filter.status === undefined
        ? tx.all("SELECT count(*) AS n FROM events WHERE topic = ?", [filter.topic])
        : tx.all("SELECT count(*) AS n FROM events WHERE topic = ? AND status = ?", [filter.topic, filter.status])
    );
    return Number(rows[0]!.n);
  }

  async enroll(sourceTopic: string | string[], targetTopic: string, options: EnrollOptions): Promise<Job | undefined> {
    return (await this.#enroll(sourceTopic, targetTopic, options, [], 1)).jobs[0];
  }

  async finishAndEnroll(
    finish: { jobId: string; holder: string; description?: string; payload?: unknown },
    sourceTopic: string | string[],
    targetTopic: string,
    options: EnrollOptions,
  ): Promise<{ finished: boolean; job: Job | undefined }> {
    const { finished, jobs } = await this.#enroll(sourceTopic, targetTopic, options, [finish], 1);
    return { finished: finished.length === 1, job: jobs[0] };
  }

  async enrollMany(
    sourceTopic: string | string[],
    targetTopic: string,
    options: EnrollOptions & { max: number },
    finish: Array<{ jobId: string; description?: string; payload?: unknown }> = [],
  ): Promise<{ finished: string[]; jobs: Job[] }> {
    if (!Number.isInteger(options.max) || options.max < 0) {
      throw new RangeError(`Cannot enroll: max ${options.max} must be an integer ≥ 0`);
    }
    const holder = options.holder ?? options.sender;
    return await this.#enroll(sourceTopic, targetTopic, options, finish.map((f) => ({ ...f, holder })), options.max);
  }

  /** Whether an enroll could hand anything out now, read without the write lock (idle polls stay reads). */
  async #anythingToDo(sources: string[], targetTopic: string, maxRetries: number, sequential: boolean | "project") {
    return await this.#driver.read(async (tx) => {
      const now = Date.now();
      const open = await tx.all(
        `SELECT status, lease_until, available_at FROM events WHERE topic = ? AND status <> 'finished'
         AND NOT (status = 'failed' AND retries >= ?) ORDER BY source_seq LIMIT 100`,
        [targetTopic, maxRetries],
      );
      let busy = false;
      for (const row of open) {
        const at = Number(row.available_at ?? 0);
        if (row.status === "pending" && at <= now) return true;
        if (row.status === "failed" && at <= now) return true;
        if (row.status === "in_progress" && Number(row.lease_until ?? 0) <= now) return true;
        busy = true;
      }
      if (busy && sequential === true) return false;
      const cursorRows = await tx.all("SELECT seq FROM enroll_cursors WHERE target_topic = ?", [targetTopic]);
      const cursor = cursorRows.length ? Number(cursorRows[0]!.seq) : 0;
      const fresh = await tx.all(
        `SELECT 1 AS x FROM events WHERE topic IN (${sources.map(() => "?").join(", ")}) AND seq > ? LIMIT 1`,
        [...sources, cursor],
      );
      return fresh.length > 0;
    });
  }

  async #enroll(
    sourceTopic: string | string[],
    targetTopic: string,
    options: EnrollOptions,
    finishes: Array<{ jobId: string; holder: string; description?: string; payload?: unknown }>,
    max: number,
  ): Promise<{ finished: string[]; jobs: Job[] }> {
    const { sender, holder = sender, sequential = false, ignoreSenderTypes = [], maxRetries = 3, lease = 30_000 } =
      options;
    const sources = Array.isArray(sourceTopic) ? sourceTopic : [sourceTopic];
    if (sources.length === 0 || sources.some((topic) => !topic)) {
      throw new TypeError(`Cannot enroll: source topics ${JSON.stringify(sourceTopic)} must be non-empty`);
    }
    if (sources.includes(targetTopic)) throw new TypeError(`Cannot enroll '${targetTopic}' into itself`);
    if (!sender) throw new TypeError("Cannot enroll without a sender");
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new RangeError(`Cannot enroll: maxRetries ${maxRetries} must be an integer ≥ 0`);
    }
    if (!(lease > 0)) throw new RangeError(`Cannot enroll: lease ${lease} must be a positive number of milliseconds`);
    const ignored = new Set(ignoreSenderTypes);
    // Consecutive jobs go to one holder only where order allows (not per project: other workers wait for them).
    const most = sequential === "project" ? Math.min(max, 1) : max;
    if (
      finishes.length === 0 && (most === 0 || !(await this.#anythingToDo(sources, targetTopic, maxRetries, sequential)))
    ) {
      return { finished: [], jobs: [] };
    }
    const pick = async (tx: SqlTx, now: number): Promise<Job[]> => {
      if (most === 0) return [];
      const claim = async (row: StoredEvent, retries: number): Promise<Job> => {
        await tx.run(
          `UPDATE events SET status = 'in_progress', sender = ?, holder = ?, lease_until = ?, available_at = NULL,
           retries = ?, updated_at = ? WHERE id = ?`,
          [sender, holder, now + lease, retries, now, row.id],
        );
        const source = (await tx.all("SELECT * FROM events WHERE id = ?", [row.dependsOn]))[0];
        return {
          event: {
            ...row,
            status: "in_progress",
            sender,
            holder,
            leaseUntil: now + lease,
            availableAt: null,
            retries,
            updatedAt: now,
          },
          source: toEvent(source!),
        };
      };
      // 1. Jobs already made and not done: in the order of their sources.
      const blocked = new Set<string>();
      const open = (await tx.all(
        `SELECT * FROM events WHERE topic = ? AND status <> 'finished' AND NOT (status = 'failed' AND retries >= ?)
         ORDER BY source_seq LIMIT 5000`,
        [targetTopic, maxRetries],
      )).map(toEvent);
      for (const job of open) {
        const key = job.project ?? "";
        if (sequential === "project" && blocked.has(key)) continue;
        const expired = job.status === "in_progress" && (job.leaseUntil ?? 0) <= now;
        const ready = job.status === "pending" && (job.availableAt ?? 0) <= now;
        const retry = job.status === "failed" && (job.availableAt ?? 0) <= now;
        if (expired && job.retries >= maxRetries) {
          await tx.run(
            `UPDATE events SET status = 'failed', holder = NULL, lease_until = NULL, error = ?, updated_at = ? WHERE id = ?`,
            [
              JSON.stringify({
                message: `Its worker '${job.holder}' stopped renewing the lease ${job.retries + 1} times`,
              }),
              now,
              job.id,
            ],
          );
          continue;
        }
        if (ready) return [await claim(job, job.retries)];
        if (expired || retry) return [await claim(job, job.retries + 1)];
        if (sequential === true) return [];
        if (sequential === "project") blocked.add(key);
      }
      // 2. Sources after the cursor, in arrival order.
      const cursorRows = await tx.all("SELECT seq FROM enroll_cursors WHERE target_topic = ?", [targetTopic]);
      let cursor = cursorRows.length ? Number(cursorRows[0]!.seq) : 0;
      const saveCursor = () =>
        tx.run(
          "INSERT INTO enroll_cursors (target_topic, seq) VALUES (?, ?) ON CONFLICT (target_topic) DO UPDATE SET seq = excluded.seq",
          [targetTopic, cursor],
        );
      const placeholders = sources.map(() => "?").join(", ");
      let materialized = 0;
      let pageSize = Math.max(4, most); // usually the first new sources are the ones handed out
      const jobs: Job[] = [];
      while (materialized < 2000) {
        // Light columns only: the payload is read for the one source handed out.
        const page = await tx.all(
          `SELECT seq, id, topic, status, sender_type, project, description FROM events
           WHERE topic IN (${placeholders}) AND seq > ? ORDER BY seq LIMIT ${pageSize}`,
          [...sources, cursor],
        );
        if (page.length === 0) break;
        pageSize = 200;
        for (const light of page) {
          cursor = Number(light.seq);
          const senderType = (light.sender_type as string | null) ?? null;
          if (light.status !== "finished" || (senderType !== null && ignored.has(senderType))) continue;
          const source = {
            id: String(light.id),
            seq: cursor,
            topic: String(light.topic),
            project: (light.project as string | null) ?? null,
            description: String(light.description ?? ""),
          };
          const key = source.project ?? "";
          const waits = sequential === "project" && blocked.has(key);
          const job = await this.#insertEvent(tx, {
            topic: targetTopic,
            hash: `${targetTopic}:${source.id}`,
            sender,
            senderType: null,
            project: source.project,
            dependsOn: source.id,
            sourceSeq: source.seq,
            status: waits ? "pending" : "in_progress",
            payload: {},
            description: `Processing ${source.description || source.topic}`,
            holder: waits ? null : holder,
            leaseUntil: waits ? null : now + lease,
          }, now);
          if (job === undefined) continue; // made before the cursor was kept (never expected)
          if (waits) {
            materialized++;
            continue;
          }
          jobs.push({
            event: job,
            source: toEvent((await tx.all("SELECT * FROM events WHERE id = ?", [source.id]))[0]!),
          });
          if (jobs.length >= most) {
            await saveCursor();
            return jobs;
          }
        }
      }
      await saveCursor();
      return jobs;
    };
    return await this.#driver.transaction(async (tx) => {
      const now = Date.now();
      const finished: string[] = [];
      for (const finish of finishes) if (await this.#finishIn(tx, finish, now)) finished.push(finish.jobId);
      const jobs = await pick(tx, now);
      return { finished, jobs };
    }, { locks: [`ferry.enroll:${targetTopic}`] });
  }

  async #finishIn(
    tx: SqlTx,
    finish: { jobId: string; holder: string; description?: string; payload?: unknown },
    now: number,
  ): Promise<boolean> {
    return (await tx.run(
      `UPDATE events SET status = 'finished', holder = NULL, lease_until = NULL, error = NULL,
       description = COALESCE(?, description), payload = COALESCE(?, payload), updated_at = ?
       WHERE id = ? AND holder = ? AND status = 'in_progress'`,
      [
        finish.description ?? null,
        finish.payload === undefined ? null : JSON.stringify(finish.payload),
        now,
        finish.jobId,
        finish.holder,
      ],
    )) === 1;
  }

  async renewLease(jobId: string, holder: string, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    return await this.#driver.transaction(async (tx) =>
      (await tx.run(
        "UPDATE events SET lease_until = ?, updated_at = ? WHERE id = ? AND holder = ? AND status = 'in_progress'",
        [now + leaseMs, now, jobId, holder],
      )) === 1
    );
  }

  async finishJob(
    jobId: string,
    holder: string,
    options: { description?: string; payload?: unknown } = {},
  ): Promise<boolean> {
    const now = Date.now();
    const payload = options.payload === undefined ? null : JSON.stringify(options.payload);
    return await this.#driver.transaction(async (tx) =>
      (await tx.run(
        `UPDATE events SET status = 'finished', holder = NULL, lease_until = NULL, error = NULL,
         description = COALESCE(?, description), payload = COALESCE(?, payload), updated_at = ?
         WHERE id = ? AND holder = ? AND status = 'in_progress'`,
        [options.description ?? null, payload, now, jobId, holder],
      )) === 1
    );
  }

  async failJob(
    jobId: string,
    holder: string,
    options: { error: EventError; retryInMs?: number; payload?: unknown },
  ): Promise<boolean> {
    const now = Date.now();
    const error = {
      message: String(options.error.message),
      ...(options.error.stack ? { stack: String(options.error.stack) } : {}),
    };
    return await this.#driver.transaction(async (tx) =>
      (await tx.run(
        `UPDATE events SET status = 'failed', holder = NULL, lease_until = NULL, error = ?, available_at = ?,
         payload = COALESCE(?, payload), updated_at = ? WHERE id = ? AND holder = ? AND status = 'in_progress'`,
        [
          JSON.stringify(error),
          now + (options.retryInMs ?? 0),
          options.payload === undefined ? null : JSON.stringify(options.payload),
          now,
          jobId,
          holder,
        ],
      )) === 1
    );
  }

  async expireLease(jobId: string, holder: string): Promise<boolean> {
    const now = Date.now();
    return await this.#driver.transaction(async (tx) =>
      (await tx.run(
        "UPDATE events SET lease_until = 0, updated_at = ? WHERE id = ? AND holder = ? AND status = 'in_progress'",
        [now, jobId, holder],
      )) === 1
    );
  }

  async releaseJob(jobId: string, holder: string, options: { payload?: unknown } = {}): Promise<boolean> {
    const now = Date.now();
    return await this.#driver.transaction(async (tx) =>
      (await tx.run(
        `UPDATE events SET status = 'pending', holder = NULL, lease_until = NULL, available_at = NULL,
         payload = COALESCE(?, payload), updated_at = ? WHERE id = ? AND holder = ? AND status = 'in_progress'`,
        [options.payload === undefined ? null : JSON.stringify(options.payload), now, jobId, holder],
      )) === 1
    );
  }

  async heldJobs(targetTopic: string): Promise<StoredEvent[]> {
    const rows = await this.#driver.read((tx) =>
      tx.all(
        "SELECT * FROM events WHERE topic = ? AND status = 'in_progress' ORDER BY source_seq",
        [targetTopic],
      )
    );
    return rows.map(toEvent);
  }

  async retryJob(id: string, targetTopic?: string): Promise<StoredEvent> {
    return await this.#driver.transaction(async (tx) => {
      const found = (await tx.all("SELECT * FROM events WHERE id = ?", [id])).map(toEvent)[0];
      if (found === undefined) throw new RangeError(`Cannot retry event '${id}': there is no such event`);
      let job = found;
      if (found.dependsOn === null || (targetTopic !== undefined && found.topic !== targetTopic)) {
        const jobs = (await tx.all(
          `SELECT * FROM events WHERE depends_on = ? ${targetTopic ? "AND topic = ?" : ""} ORDER BY seq`,
          targetTopic ? [id, targetTopic] : [id],
        )).map(toEvent);
        if (jobs.length === 0) {
          throw new RangeError(
            `Cannot retry event '${id}' (${found.topic}): no job processes it${
              targetTopic ? ` as '${targetTopic}'` : ""
            }`,
          );
        }
        job = jobs[jobs.length - 1]!;
      }
      if (job.status === "in_progress") {
        throw new RangeError(`Cannot retry job '${job.id}': it is running now, held by '${job.holder}'`);
      }
      const now = Date.now();
      await tx.run(
        `UPDATE events SET status = 'pending', retries = 0, holder = NULL, lease_until = NULL, available_at = NULL,
         description = ?, updated_at = ? WHERE id = ?`,
        [`${job.description.replace(/ \(retry requested\)$/, "")} (retry requested)`, now, job.id],
      );
      return toEvent((await tx.all("SELECT * FROM events WHERE id = ?", [job.id]))[0]!);
    });
  }

  async queueDepth(
    sourceTopic: string | string[],
    targetTopic: string,
    options: { maxRetries?: number } = {},
  ): Promise<number> {
    const { maxRetries = 3 } = options;
    const sources = Array.isArray(sourceTopic) ? sourceTopic : [sourceTopic];
    return await this.#driver.read(async (tx) => {
      const cursorRows = await tx.all("SELECT seq FROM enroll_cursors WHERE target_topic = ?", [targetTopic]);
      const cursor = cursorRows.length ? Number(cursorRows[0]!.seq) : 0;
      const fresh = await tx.all(
        `SELECT count(*) AS n FROM events WHERE topic IN (${
          sources.map(() => "?").join(", ")
        }) AND seq > ? AND status = 'finished'`,
        [...sources, cursor],
      );
      const open = await tx.all(
        `SELECT count(*) AS n FROM events WHERE topic = ? AND status <> 'finished' AND NOT (status = 'failed' AND retries >= ?)`,
        [targetTopic, maxRetries],
      );
      return Number(fresh[0]!.n) + Number(open[0]!.n);
    });
  }

  async writeEntity(input: EntityInput, by: Writer): Promise<{ entity: Entity; events: StoredEvent[] }> {
    const parsed = EntityInputSchema.safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "type"}: ${issue.message}`);
      throw new TypeError(`Cannot write ${String(input?.type)} '${String(input?.name)}': ${problems.join("; ")}`);
    }
    const value = parsed.data;
    if (!by?.sender) throw new TypeError(`Cannot write ${value.type} '${value.name}' without a sender`);
    return await this.#driver.transaction(async (tx) => {
      const now = Date.now();
      const id = value.id ?? randomUUID();
      const beforeRow = (await tx.all("SELECT * FROM entities WHERE id = ?", [id]))[0];
      const before = beforeRow === undefined ? undefined : toEntity(beforeRow);
      if (before && before.type !== value.type) {
        throw new TypeError(`Cannot write ${value.type} '${value.name}': id '${id}' is a ${before.type}`);
      }
      if (value.type === "project") {
        if (value.parentId !== null) {
          throw new TypeError(`Cannot write project '${value.name}': a project has no parent`);
        }
        if (value.project !== value.name) {
          throw new TypeError(
            `Cannot write project '${value.name}': its project must be its own name, not '${value.project}'`,
          );
        }
      } else {
        const parentNeeded = value.type !== "folder" && value.type !== "list";
        if (value.parentId === null && parentNeeded) {
          throw new TypeError(`Cannot write ${value.type} '${value.name}': it needs a parentId`);
        }
        if (value.parentId !== null) {
          const parent = (await tx.all("SELECT type, project FROM entities WHERE id = ?", [value.parentId]))[0];
          if (parent === undefined) {
            throw new RangeError(
              `Cannot write ${value.type} '${value.name}': its parent '${value.parentId}' is not in the store`,
            );
          }
          if (parent.project !== value.project) {
            throw new RangeError(
              `Cannot write ${value.type} '${value.name}' in project '${value.project}': its parent is in '${parent.project}'`,
            );
          }
        }
      }
      const entity = { ...value, id, createdAt: before?.createdAt ?? now, updatedAt: now } as Entity;
      const changes = entityChanges(before, entity);
      if (before !== undefined && changes.length === 0) return { entity: before, events: [] };
      const columns = [
        value.type,
        value.project,
        value.parentId,
        value.name,
        value.status,
        JSON.stringify(value.assignees),
        JSON.stringify(value.attributes),
        value.trackerId,
        JSON.stringify(value.data),
      ];
      if (before === undefined) {
        await tx.run(
          `INSERT INTO entities (id, type, project, parent_id, name, status, assignees, attributes, tracker_id, data, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [id, ...columns, now, now],
        );
      } else {
        await tx.run(
          `UPDATE entities SET type = ?, project = ?, parent_id = ?, name = ?, status = ?, assignees = ?, attributes = ?,
           tracker_id = ?, data = ?, updated_at = ? WHERE id = ?`,
          [...columns, now, id],
        );
      }
      const events = await this.#entityEvents(tx, entity, changes, by, now);
      return { entity, events };
    });
  }

  async #entityEvents(
    tx: SqlTx,
    entity: Entity,
    changes: Array<{ change: string; old: unknown; new: unknown }>,
    by: Writer,
    now: number,
  ): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    for (const change of changes) {
      const event = await this.#insertEvent(tx, {
        topic: `entity.${entity.type}.${change.change}`,
        sender: by.sender,
        senderType: by.senderType ?? null,
        project: entity.project,
        dependsOn: null,
        status: "finished",
        payload: {
          entityId: entity.id,
          entityType: entity.type,
          parentId: entity.parentId,
          old: change.old,
          new: change.new,
        },
        description: `${entity.type} '${entity.name}' ${change.change.replace("_", " ")} by ${by.sender}`,
      }, now);
      events.push(event!);
    }
    return events;
  }

  async getEntity(id: string): Promise<Entity | undefined> {
    const rows = await this.#driver.read((tx) => tx.all("SELECT * FROM entities WHERE id = ?", [id]));
    return rows[0] === undefined ? undefined : toEntity(rows[0]);
  }

  async findEntities(
    filter: { type?: EntityType; project?: string; parentId?: string; trackerId?: string },
  ): Promise<Entity[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    for (
      const [column, value] of [
        ["type", filter.type],
        ["project", filter.project],
        ["parent_id", filter.parentId],
        ["tracker_id", filter.trackerId],
      ]
    ) {
      if (value !== undefined) {
        where.push(`${column} = ?`);
        params.push(value);
      }
    }
    const rows = await this.#driver.read((tx) =>
      tx.all(
        `SELECT * FROM entities ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, id`,
        params,
      )
    );
    return rows.map(toEntity);
  }

  async deleteEntity(id: string, by: Writer): Promise<boolean> {
    if (!by?.sender) throw new TypeError(`Cannot delete entity '${id}' without a sender`);
    return await this.#driver.transaction(async (tx) => {
      const row = (await tx.all("SELECT * FROM entities WHERE id = ?", [id]))[0];
      if (row === undefined) return false;
      const entity = toEntity(row);
      // Comments go with what they comment on (each recorded as deleted); other children block the delete.
      const children = (await tx.all("SELECT * FROM entities WHERE parent_id = ?", [id])).map(toEntity);
      const blocking = children.filter((child) => child.type !== "comment");
      if (blocking.length > 0) {
        throw new RangeError(`Cannot delete ${entity.type} '${entity.name}': ${blocking.length} entities are below it`);
      }
      const now = Date.now();
      for (const comment of children) {
        await tx.run("DELETE FROM entities WHERE id = ?", [comment.id]);
        await this.#entityEvents(tx, comment, entityChanges(comment, undefined), by, now);
      }
      await tx.run("DELETE FROM entities WHERE id = ?", [id]);
      await this.#entityEvents(tx, entity, entityChanges(entity, undefined), by, now);
      return true;
    });
  }

  async writeUser(input: UserInput, by: Writer): Promise<{ user: PipelineUser; changed: boolean }> {
    const parsed = UserInputSchema.safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "user"}: ${issue.message}`);
      throw new TypeError(`Cannot write user '${String(input?.username)}': ${problems.join("; ")}`);
    }
    const value = parsed.data;
    if (!by?.sender) throw new TypeError(`Cannot write user '${value.username}' without a sender`);
    return await this.#driver.transaction(async (tx) => {
      const now = Date.now();
      const id = value.id ?? randomUUID();
      const beforeRow = (await tx.all("SELECT * FROM users WHERE id = ?", [id]))[0];
      const before = beforeRow === undefined ? undefined : toUser(beforeRow);
      const clash = (await tx.all("SELECT id FROM users WHERE username_key = ? AND id <> ?", [
        value.username.toLowerCase(),
        id,
      ]))[0];
      if (clash !== undefined) {
        throw new RangeError(`Cannot write user '${value.username}': user '${clash.id}' has that username`);
      }
      const user: PipelineUser = { ...value, id, createdAt: before?.createdAt ?? now, updatedAt: now };
      const changes = before === undefined ? [] : userChanges(before, user);
      if (before !== undefined && changes.length === 0) return { user: before, changed: false };
      const columns = [
        value.username,
        value.username.toLowerCase(),
        value.email,
        value.email?.toLowerCase() ?? null,
        value.firstName,
        value.lastName,
        value.active ? 1 : 0,
        value.trackerId,
        JSON.stringify(value.data),
      ];
      if (before === undefined) {
        await tx.run(
          `INSERT INTO users (id, username, username_key, email, email_key, first_name, last_name, active, tracker_id, data,
           created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [id, ...columns, now, now],
        );
      } else {
        await tx.run(
          `UPDATE users SET username = ?, username_key = ?, email = ?, email_key = ?, first_name = ?, last_name = ?,
           active = ?, tracker_id = ?, data = ?, updated_at = ? WHERE id = ?`,
          [...columns, now, id],
        );
      }
      const shown = (u: PipelineUser | undefined) =>
        u === undefined ? null : Object.fromEntries(
          (before === undefined ? Object.keys(u) : changes).map((key) => [key, u[key as keyof PipelineUser]]),
        );
      await this.#insertEvent(tx, {
        topic: before === undefined ? "user.created" : "user.changed",
        sender: by.sender,
        senderType: by.senderType ?? null,
        project: null,
        dependsOn: null,
        status: "finished",
        payload: { userId: id, username: value.username, old: shown(before), new: shown(user) },
        description: `user '${value.username}' ${
          before === undefined ? "created" : `changed (${changes.join(", ")})`
        } by ${by.sender}`,
      }, now);
      return { user, changed: true };
    });
  }

  async getUser(id: string): Promise<PipelineUser | undefined> {
    const rows = await this.#driver.read((tx) => tx.all("SELECT * FROM users WHERE id = ?", [id]));
    return rows[0] === undefined ? undefined : toUser(rows[0]);
  }

  async findUsers(filter: UserFilter): Promise<PipelineUser[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.username !== undefined) {
      where.push("username_key = ?");
      params.push(filter.username.trim().toLowerCase());
    }
    if (filter.email !== undefined) {
      where.push("email_key = ?");
      params.push(filter.email.trim().toLowerCase());
    }
    if (filter.trackerId !== undefined) {
      where.push("tracker_id = ?");
      params.push(filter.trackerId);
    }
    if (filter.active !== undefined) {
      where.push("active = ?");
      params.push(filter.active ? 1 : 0);
    }
    const rows = await this.#driver.read((tx) =>
      tx.all(`SELECT * FROM users ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY username_key`, params)
    );
    return rows.map(toUser);
  }

  listUsers(): Promise<PipelineUser[]> {
    return this.findUsers({});
  }

  async getSettingsDocument(variant: Variant, options: { project?: string } = {}): Promise<SettingsDocument> {
    VariantSchema.parse(variant);
    const rows = await this.#driver.read((tx) =>
      tx.all("SELECT document FROM settings WHERE variant = ? AND project = ?", [variant, options.project ?? ""])
    );
    return rows[0] === undefined ? {} : JSON.parse(String(rows[0].document));
  }

  async getSettings(variant: Variant, options: { project?: string } = {}): Promise<Settings> {
    const studio = await this.getSettingsDocument(variant);
    const project = options.project ? await this.getSettingsDocument(variant, options) : {};
    return parseSettings(
      mergeSettings(studio, project),
      `variant '${variant}'${options.project ? `, project '${options.project}'` : ""}`,
    );
  }

  async setSettings(
    variant: Variant,
    document: SettingsDocument,
    options: { project?: string } = {},
  ): Promise<Settings> {
    const checked = VariantSchema.safeParse(variant);
    if (!checked.success) {
      throw new TypeError(`Cannot store settings: variant '${variant}' ${checked.error.issues[0]!.message}`);
    }
    if (document === null || typeof document !== "object" || Array.isArray(document)) {
      throw new TypeError(`Cannot store settings for variant '${variant}': the document must be a JSON object`);
    }
    const where = `variant '${variant}'${options.project ? `, project '${options.project}'` : ""}`;
    const base = options.project ? await this.getSettingsDocument(variant) : {};
    const resolved = parseSettings(mergeSettings(base, document), where);
    await this.#driver.transaction((tx) =>
      tx.run(
        `INSERT INTO settings (variant, project, document, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (variant, project) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
        [variant, options.project ?? "", JSON.stringify(document), Date.now()],
      )
    );
    return resolved;
  }

  async addArchive(archive: Omit<HandlerArchive, "addedAt" | "size">, bytes: Uint8Array): Promise<HandlerArchive> {
    VariantSchema.parse(archive.variant);
    const now = Date.now();
    await this.#driver.transaction((tx) =>
      tx.run(
        `INSERT INTO handler_archives (variant, name, filename, manifest, bytes, size, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (variant, name) DO UPDATE SET filename = excluded.filename, manifest = excluded.manifest,
         bytes = excluded.bytes, size = excluded.size, added_at = excluded.added_at`,
        [archive.variant, archive.name, archive.filename, JSON.stringify(archive.manifest), bytes, bytes.length, now],
      )
    );
    return { ...archive, size: bytes.length, addedAt: now };
  }

  async listArchives(variant?: Variant): Promise<HandlerArchive[]> {
    const rows = await this.#driver.read((tx) =>
      variant === undefined
        ? tx.all(
          "SELECT variant, name, filename, manifest, size, added_at FROM handler_archives ORDER BY variant, name",
        )
        : tx.all(
          "SELECT variant, name, filename, manifest, size, added_at FROM handler_archives WHERE variant = ? ORDER BY name",
          [variant],
        )
    );
    return rows.map(toArchive);
  }

  async readArchive(name: string, variant: Variant): Promise<Uint8Array | undefined> {
    const rows = await this.#driver.read((tx) =>
      tx.all("SELECT bytes FROM handler_archives WHERE variant = ? AND name = ?", [variant, name])
    );
    if (rows[0] === undefined) return undefined;
    const bytes = rows[0].bytes as Uint8Array;
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async removeArchive(name: string, variant: Variant): Promise<boolean> {
    return await this.#driver.transaction(async (tx) =>
      (await tx.run("DELETE FROM handler_archives WHERE variant = ? AND name = ?", [variant, name])) > 0
    );
  }

  async schemaVersion(): Promise<number> {
    const rows = await this.#driver.read((tx) => tx.all("SELECT value FROM ferry_meta WHERE key = 'schema_version'"));
    return rows.length ? Number(rows[0]!.value) : 0;
  }

  /** The newest version this code knows (for `/health`). */
  static readonly SCHEMA_VERSION = SCHEMA_VERSION;

  close(): Promise<void> {
    return this.#driver.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
