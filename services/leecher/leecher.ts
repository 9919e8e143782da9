import { disconnectHub } from "../../src/tracker/disconnect_hub.ts";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Session } from "@ftrack/api";
import { EventSchema, type HubEvent } from "../../src/events/event.ts";
import { createLogger, type Logger } from "../../src/cli/service_log.ts";
import type { PipelineStore } from "../../src/store/pipeline_store.ts";
import type { Variant } from "../../src/store/settings.ts";
import type { TrackerCredentials } from "../../src/tracker/tracker_credentials.ts";
import { LEECH_TOPIC, LEECHER_STARTED_TOPIC, TRACKER_SENDER_TYPE } from "../../src/store/topics.ts";
import { openSession } from "../../src/tracker/open_session.ts";
import { connectWithRetry } from "../connect_with_retry.ts";
import { projectOfSelection } from "../../src/tracker/project_of_selection.ts";
import { actionSelectionOf, projectIdOf, shouldStore } from "./filter_event.ts";
import { projectLoader, projectRefsOf } from "./update_project.ts";

export { LEECH_TOPIC, LEECHER_STARTED_TOPIC, TRACKER_SENDER_TYPE };

/** Options of {@linkcode startLeecher}. */
export interface LeecherOptions {
  store: PipelineStore;
  /** The tracker: a site's or the embedded tracker's URL, API user and key. */
  credentials: TrackerCredentials;
  /** The service name written as the sender. @default {`leecher@<host name>`} */
  sender?: string;
  /** Recorded on the "leecher started" events. @default {"production"} */
  variant?: Variant;
  log?: Logger;
  /** First wait before trying a failed tracker connection again; doubles up to `retryDelayMaxMs`. @default {1000} */
  retryDelayMs?: number;
  /** @default {30000} */
  retryDelayMaxMs?: number;
  /** Called after each (re)connect has been recorded, with the count so far. */
  onConnect?: (connects: number) => void;
  /** Stops the leecher (also while it still waits for the tracker). */
  signal?: AbortSignal;
  /**
   * Reads the project of an action's selection (shots, tasks, versions): one query per kind of
   * entity, answers kept `projectCacheMs`. A failure stores the event without a project.
   * @default {projectOfSelection}
   */
  projectOfSelection?: typeof projectOfSelection;
  /** How long a project read from the tracker may hold an event back; then it is stored without one. @default {2000} */
  projectLookupTimeoutMs?: number;
  /** How long a selection's project is remembered. @default {30000} */
  projectCacheMs?: number;
}

/** What a leecher has done. */
export interface LeecherStats {
  stored: number;
  duplicates: number;
  dropped: number;
  connects: number;
  /** Events that could not be stored (after three tries each). */
  failures: number;
}

/** A running leecher; close it (or `await using` it) to disconnect. */
export interface RunningLeecher extends AsyncDisposable {
  readonly stats: Readonly<LeecherStats>;
  /** Whether the event hub is connected now. */
  readonly connected: boolean;
  /** Resolves once everything received so far is stored. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

// @ftrack/api 1.11 keeps one socket per (server, user, key) in a static cache and exposes no
// connect callback: the leecher reaches for both, through this narrow view.
interface HubInternals {
  _socketIo?: {
    on(name: string, callback: () => void): void;
    constructor: { instances?: Map<string, unknown> };
  } | null;
}

/**
 * Starts a leecher: connects to the tracker's event hub with the official client, subscribes to
 * every topic, and stores each event (except `ftrack.meta.*` and social/team noise) as
 * `tracker.leech` with hash = the event's id, so several leechers store each event once. The hub
 * connection is retried with backoff; each (re)connect records a `ferry.leecher.started` event.
 * Each event is stored with its project's name when it can be told: from a `show` parent, from
 * the tracker for an action's selection (shots, tasks, versions in one project) and for updates
 * of lists, list items, links, components, their locations and metadata (batched, cached); a
 * lookup that fails or takes longer than `projectLookupTimeoutMs` stores the event without one.
 * A tracker that does not answer at start is waited for (`connectWithRetry`); refused credentials
 * or a server that is not ftrack reject at once (a `TrackerConnectionError`, exit code 3).
 * Resolves once the first connection is under way (not necessarily open).
 *
 * @example
 * ```ts ignore
 * import { openStore } from "../../src/store/mod.ts";
 * import { startLeecher } from "./leecher.ts";
 *
 * await using store = await openStore("/srv/ferry/store.db");
 * const credentials = { server: "https://studio.ftrackapp.com", apiUser: "pipeline", apiKey: "…" };
 * await using leecher = await startLeecher({ store, credentials, variant: "production" });
 * // …until the service stops; leecher.stats counts what was stored, dropped and duplicated
 * ```
 */
export async function startLeecher(options: LeecherOptions): Promise<RunningLeecher> {
  const {
    store,
    credentials,
    sender = `leecher@${hostname()}`,
    variant = "production",
    log = createLogger({ name: "leecher" }),
    retryDelayMs = 1_000,
    retryDelayMaxMs = 30_000,
    onConnect,
    signal,
    projectOfSelection: lookUpSelection = projectOfSelection,
    projectLookupTimeoutMs = 2_000,
    projectCacheMs = 30_000,
  } = options;
  const stats: LeecherStats = { stored: 0, duplicates: 0, dropped: 0, connects: 0, failures: 0 };
  const stopping = new AbortController();
  const projectNames = new Map<string, Promise<string | null>>();
  const selectionProjects = new Map<string, { at: number; name: Promise<string | null> }>();
  let chain: Promise<void> = Promise.resolve();
  // Assigned once below, but declared here: close() (called on an abort while waiting) reads it.
  // deno-lint-ignore prefer-const
  let session: Session | undefined;
  let hub: Session["eventHub"] | undefined = undefined;
  let closing: Promise<void> | undefined;
  if (signal?.aborted) stopping.abort();
  signal?.addEventListener("abort", () => void close(), { once: true });

  // 1. A session, waited for with backoff while the tracker is down (each attempt logged); refused credentials throw.
  session = await connectWithRetry({
    connect: () => openSession(credentials, { eventHub: false }),
    log,
    signal: stopping.signal,
    retryDelayMs,
    retryDelayMaxMs,
  });
  if (session === undefined) {
    return { stats, connected: false, drain: () => chain, close, [Symbol.asyncDispose]: close };
  }
  hub = session.eventHub;

  const dispatch = async (inputs: Parameters<PipelineStore["dispatchMany"]>[0]) => {
    for (let attempt = 1;; attempt++) {
      try {
        return await store.dispatchMany(inputs);
      } catch (error) {
        if (attempt >= 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  };

  const projectName = (id: string): Promise<string | null> => {
    let name = projectNames.get(id);
    if (name === undefined) {
      name = session.query(`select name from Project where id is "${id.replace(/"/g, "")}"`)
        .then((result) => ((result.data[0] as { name?: string } | undefined)?.name) ?? null)
        .catch((error: Error) => {
          log.warn("cannot read a project's name", { projectId: id, error: error.message });
          projectNames.delete(id);
          return null;
        });
      projectNames.set(id, name);
    }
    return name;
  };

  // A lookup never holds an event back longer than this: it is then stored without a project.
  const bounded = (name: Promise<string | null>, what: Record<string, unknown>): Promise<string | null> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        log.warn("a project lookup took too long: the event is stored without a project", {
          ...what,
          timeoutMs: projectLookupTimeoutMs,
        });
        resolve(null);
      }, projectLookupTimeoutMs);
    });
    return Promise.race([name, late]).finally(() => clearTimeout(timer));
  };

  const selectionProject = (selection: Array<{ entityType: string; entityId: string }>): Promise<string | null> => {
    const key = selection.map((item) => `${item.entityType.toLowerCase()}:${item.entityId}`).sort().join(",");
    const now = Date.now();
    const cached = selectionProjects.get(key);
    if (cached && now - cached.at < projectCacheMs) return cached.name;
    if (selectionProjects.size > 1_000) {
      for (const [k, v] of selectionProjects) if (now - v.at >= projectCacheMs) selectionProjects.delete(k);
    }
    const name = lookUpSelection(session, selection)
      .then((project) => project?.name ?? null)
      .catch((error: Error) => {
        log.warn("cannot read the project of an action's selection: the event is stored without one", {
          selection: key,
          error: error.message,
        });
        selectionProjects.delete(key);
        return null;
      });
    selectionProjects.set(key, { at: now, name });
    return name;
  };

  // Lists, list items, links, components, their locations and metadata: batched, cached reads.
  const loader = projectLoader(session, { cacheMs: projectCacheMs, log });
  const updateProject = async (refs: ReturnType<typeof projectRefsOf>): Promise<string | null> => {
    const names = new Set((await Promise.all(refs.map((ref) => loader.load(ref)))).filter((name) => name !== null));
    return names.size === 1 ? [...names][0]! : null;
  };

  /** The project name an event is stored with (null: none), started as the event arrives. */
  const projectOf = (event: HubEvent): Promise<string | null> => {
    const projectId = projectIdOf(event);
    if (projectId !== undefined) return bounded(projectName(projectId), { projectId });
    const selection = actionSelectionOf(event);
    if (selection !== undefined) return bounded(selectionProject(selection), { event: event.id });
    const refs = event.topic === "ftrack.update" ? projectRefsOf(event.data) : [];
    if (refs.length > 0) return bounded(updateProject(refs), { event: event.id });
    return Promise.resolve(null);
  };

  // Events wait here while a write is under way, then go to the store together, in order.
  const queue: Array<
    {
      event?: HubEvent;
      project?: Promise<string | null>;
      input?: Parameters<PipelineStore["dispatch"]>[0];
      after?: () => void;
    }
  > = [];
  let writing = false;
  const flush = async () => {
    writing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, 500);
        const inputs = [];
        for (const item of batch) {
          if (item.input) {
            inputs.push(item.input);
            continue;
          }
          const event = item.event!;
          const project = await (item.project ?? projectOf(event));
          const username = ((event.source as { user?: { username?: string } }).user?.username) ?? "unknown";
          inputs.push({
            topic: LEECH_TOPIC,
            hash: event.id,
            sender,
            senderType: TRACKER_SENDER_TYPE,
            project,
            payload: event,
            description: `Leeched ${event.topic} by ${username}`,
          });
        }
        try {
          const results = await dispatch(inputs);
          batch.forEach((item, i) => {
            if (item.event) {
              if (results[i]!.duplicate) stats.duplicates++;
              else stats.stored++;
            }
          });
        } catch (error) {
          stats.failures += batch.length;
          log.error("cannot store events", { events: batch.length, error: (error as Error).message });
        }
        for (const item of batch) item.after?.();
      }
    } finally {
      writing = false;
    }
  };
  const enqueue = (item: (typeof queue)[number]) => {
    queue.push(item);
    if (!writing) chain = chain.then(flush);
  };
  const record = (event: HubEvent) => enqueue({ event, project: projectOf(event) });

  const onEvent = (payload: unknown) => {
    if (stopping.signal.aborted) return;
    if (!shouldStore(payload as { topic?: unknown; data?: unknown })) {
      stats.dropped++;
      return;
    }
    const parsed = EventSchema.safeParse(payload);
    if (!parsed.success) {
      stats.dropped++;
      log.warn("dropped a malformed event", { problems: parsed.error.issues.map((issue) => issue.message).join("; ") });
      return;
    }
    record(parsed.data);
  };

  const onConnected = () => {
    if (stopping.signal.aborted) return;
    const connects = ++stats.connects;
    const id = randomUUID();
    log.info(connects === 1 ? "connected to the event hub" : "reconnected to the event hub", {
      server: credentials.server,
      connects,
    });
    enqueue({
      input: {
        topic: LEECH_TOPIC,
        hash: id,
        sender,
        senderType: TRACKER_SENDER_TYPE,
        payload: {
          topic: LEECHER_STARTED_TOPIC,
          id,
          data: { sender, variant, connects, server: credentials.server },
          source: { user: { username: credentials.apiUser } },
          target: "",
          inReplyToEvent: null,
          sent: null,
        },
        description: `Leecher ${sender} ${connects === 1 ? "started" : "reconnected"} (connection ${connects})`,
      },
      after: () => onConnect?.(connects),
    });
  };

  if (!stopping.signal.aborted) {
    hub.connect();
    const internals = hub as unknown as HubInternals;
    internals._socketIo?.on("connect", onConnected);
    hub.subscribe("topic=*", onEvent);
  }

  function close(): Promise<void> {
    return closing ??= shutDown();
  }
  async function shutDown(): Promise<void> {
    stopping.abort();
    if (hub === undefined) return;
    const socket = (hub as unknown as HubInternals)._socketIo;
    await disconnectHub(hub, { waitMs: 2_000 });
    // Let a later hub with the same credentials (a restarted leecher in this process) connect afresh.
    const instances = socket?.constructor.instances;
    if (instances) { for (const [key, value] of instances) if (value === socket) instances.delete(key); }
    await chain;
    log.info("stopped", { ...stats });
  }

  return {
    stats,
    get connected() {
      return hub?.isConnected() ?? false;
    },
    drain: () => chain,
    close,
    [Symbol.asyncDispose]: close,
  };
}
