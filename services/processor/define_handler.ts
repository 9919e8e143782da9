import type { Session } from "@ftrack/api";
import { z } from "zod";
import type { HubEvent } from "../../src/events/event.ts";
import { parseExpression } from "../../src/events/subscription_expression.ts";
import type { Logger } from "../../src/cli/service_log.ts";
import type { Job } from "../../src/store/event_record.ts";
import type { PipelineStore } from "../../src/store/pipeline_store.ts";
import type { Settings, Variant } from "../../src/store/settings.ts";
import type { TrackerCache } from "../../src/tracker/tracker_cache.ts";

/** What a handler is given besides the event. */
export interface HandlerContext {
  /** A session on the tracker (the official client). */
  session: Session;
  /** The pipeline store. */
  store: PipelineStore;
  /** The service's variant. */
  variant: Variant;
  /** This handler's settings (`handlers.<settingsKey>` of the project's settings). */
  settings: Record<string, unknown> & { enabled: boolean };
  /** The project's whole settings document for the variant (studio settings without a project). */
  projectSettings: Settings;
  /** The event's project name, when it has one. */
  project: string | null;
  log: Logger;
  /** Shared by every handler of one event, empty for the next (memoise project lookups here). */
  cache: Map<string, unknown>;
  /**
   * Tracker reads for this event (`cachedQuery(session, expression, { cache: trackerCache })`): a
   * per-event layer in front of the processor's per-process cache, which every `ftrack.update`
   * the processor handles and every write through its session invalidate.
   */
  trackerCache: TrackerCache;
  /** The job being processed (the stored source event is `job.source`). */
  job: Job;
  /** Aborted when the processor stops: finish quickly or throw. */
  signal: AbortSignal;
}

/** What `defineHandler` takes. */
export interface HandlerSpec {
  /** Unique name, shown in logs and in failed jobs. */
  name: string;
  /** ftrack subscription expression matched against each event (`topic=ftrack.update and …`). */
  subscription: string;
  /** Lower runs earlier. @default {100} */
  priority?: number;
  /** Key of the handler's settings under `handlers`. @default {name} */
  settingsKey?: string;
  /** Handles one event; a throw fails the job (retried with backoff, then left failed). */
  handle(event: HubEvent, context: HandlerContext): unknown | Promise<unknown>;
}

/** A handler, checked and with its defaults. */
export interface Handler extends Required<HandlerSpec> {
  readonly [HANDLER]: true;
}

const HANDLER: unique symbol = Symbol.for("ferry.handler");

const SpecSchema = z.object({
  name: z.string().min(1, "is empty").regex(/^[A-Za-z0-9_.:-]+$/, "may hold letters, digits and _ . : - only"),
  subscription: z.string(),
  priority: z.number().int().default(100),
  settingsKey: z.string().min(1).optional(),
  handle: z.custom<HandlerSpec["handle"]>((value) => typeof value === "function", "must be a function"),
});

/**
 * Defines an event handler for the processor: a plain object of name, subscription, priority,
 * settings key and `handle`. Export it from a module in a handler folder. A bad definition throws
 * a `TypeError` naming the handler and the problem.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { defineHandler } from "./define_handler.ts";
 *
 * const statusToVersion = defineHandler({
 *   name: "task-status-to-version",
 *   subscription: "topic=ftrack.update",
 *   priority: 50,
 *   handle(event, { log }) {
 *     log.info("seen", { id: event.id });
 *   },
 * });
 * ok(statusToVersion.settingsKey === "task-status-to-version");
 * ```
 */
export function defineHandler(spec: HandlerSpec): Handler {
  const parsed = SpecSchema.safeParse(spec);
  const label = typeof spec?.name === "string" && spec.name ? `'${spec.name}'` : "(unnamed)";
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new TypeError(`Cannot define handler ${label}: ${problems.join("; ")}`);
  }
  try {
    parseExpression(parsed.data.subscription);
  } catch (error) {
    throw new TypeError(`Cannot define handler ${label}: ${(error as Error).message}`, { cause: error });
  }
  return Object.freeze({
    name: parsed.data.name,
    subscription: parsed.data.subscription,
    priority: parsed.data.priority,
    settingsKey: parsed.data.settingsKey ?? parsed.data.name,
    handle: spec.handle,
    [HANDLER]: true as const,
  });
}

/** Whether a value is a handler made by {@linkcode defineHandler} (of any copy of this module). */
export function isHandler(value: unknown): value is Handler {
  return value !== null && typeof value === "object" && (value as Record<symbol, unknown>)[HANDLER] === true;
}
