/**
 * The pipeline store: the event log (dispatch with dedupe by hash, enroll with claim and lease),
 * the entities the pipeline keeps (each write recorded as `entity.<type>.<change>` events),
 * the users it knows, settings per variant with project overrides, and custom handler archives. SQLite on one
 * machine, PostgreSQL for a farm; one interface.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { openStore } from "./mod.ts";
 *
 * await using store = await openStore(":memory:");
 * await store.dispatch({ topic: "tracker.leech", hash: "e1", project: "demo" });
 * const job = await store.enroll("tracker.leech", "tracker.proc", { sender: "processor", sequential: true });
 * ok(job !== undefined && job.source.hash === "e1");
 * ok(await store.finishJob(job.event.id, "processor"));
 * ```
 *
 * @module
 */
export type { DispatchInput, EventError, EventStatus, Job, StoredEvent } from "./event_record.ts";
export { EventStatusSchema } from "./event_record.ts";
export {
  type Entity,
  entityChanges,
  type EntityInput,
  EntityInputSchema,
  type EntityType,
  type Writer,
} from "./entity.ts";
export { MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";
export { openStore, type OpenStoreOptions, storeLocation } from "./open_store.ts";
export type { EnrollOptions, EventFilter, HandlerArchive, PipelineStore } from "./pipeline_store.ts";
export { openPostgresStore, type PostgresStoreOptions } from "./postgres_store.ts";
export {
  HandlerSettingsSchema,
  mergeSettings,
  parseSettings,
  type Settings,
  type SettingsDocument,
  SettingsSchema,
  type Variant,
  VariantSchema,
} from "./settings.ts";
export { openSqliteStore, type SqliteStoreOptions } from "./sqlite_store.ts";
export { type PipelineUser, userChanges, type UserFilter, type UserInput, UserInputSchema } from "./user.ts";
export { StoreVersionError } from "./store_version_error.ts";
export { LEECH_TOPIC, LEECHER_STARTED_TOPIC, PROC_TOPIC, RECONCILE_TOPIC, TRACKER_SENDER_TYPE } from "./topics.ts";
