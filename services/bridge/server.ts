import { join } from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { ferryHome } from "../../src/config/ferry_home.ts";
import type { PublishSettings } from "../../publish/settings.ts";
import { connectTracker, type TrackerConnection } from "../tracker/connect_tracker.ts";
import { createBridgeApp } from "./app.ts";
import { BridgeLog } from "./bridge_log.ts";
import { BridgeError } from "./errors.ts";
import { listContexts } from "./contexts.ts";
import { type BridgeInfo, BridgeRunningError, claimBridgeFile, runningBridgeOf } from "./discovery.ts";
import { JobRunner } from "./job_runner.ts";
import { JobStore } from "./job_store.ts";
import { pluginCatalog } from "./plugin_catalog.ts";
import { TrackerCache } from "../../src/tracker/tracker_cache.ts";
import { useTrackerCache } from "../../src/tracker/cached_query.ts";
import { FERRY_VERSION } from "./version.ts";

/** Options of {@linkcode startBridge}. */
export interface StartBridgeOptions {
  /** @default {8071} (0 picks a free port) */
  port?: number;
  /** A loopback address. @default {"127.0.0.1"} */
  hostname?: string;
  /** Jobs run at once. @default {2} */
  concurrency?: number;
  /** Browser origins allowed to call the bridge. @default {[]} */
  allowedOrigins?: readonly string[];
  /** More plugin folders, before `FERRY_PLUGIN_PATH`. @default {[]} */
  pluginPaths?: readonly string[];
  settings?: PublishSettings;
  /** The environment: FERRY_HOME, FTRACK_*, FERRY_PLUGIN_PATH. @default {Deno.env.toObject()} */
  env?: Record<string, string | undefined>;
}

/** A bridge serving its FERRY_HOME. */
export interface RunningBridge extends AsyncDisposable {
  url: string;
  token: string;
  home: string;
  info: BridgeInfo;
  tracker: TrackerConnection;
  store: JobStore;
  runner: JobRunner;
  log: BridgeLog;
  /** The Hono app (for `app.request()` in tests). */
  app: OpenAPIHono;
  /** Stops: running jobs are left for the next bridge, bridge.json is removed. */
  close(): Promise<void>;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Starts the bridge of a FERRY_HOME: refuses when a live one serves it ({@linkcode
 * BridgeRunningError}), listens on the loopback address, writes `bridge.json` (0600), connects to
 * the tracker once (`FTRACK_*`, or the embedded tracker of FERRY_HOME), and resumes the jobs a
 * previous bridge left queued or running.
 *
 * @example
 * ```ts ignore
 * await using bridge = await startBridge({ port: 0 });
 * console.log(bridge.url, bridge.token);
 * ```
 */
export async function startBridge(options: StartBridgeOptions = {}): Promise<RunningBridge> {
  const { port = 8071, hostname = "127.0.0.1", env = Deno.env.toObject() } = options;
  const home = ferryHome({
    env,
    platform: Deno.build.os === "windows" ? "win32" : Deno.build.os,
    home: env.HOME ?? env.USERPROFILE ?? ".",
  });
  const existing = await runningBridgeOf(home);
  if (existing) throw new BridgeRunningError(home, existing);

  const log = new BridgeLog({ folder: join(home, "logs") });
  const store = await JobStore.open({ folder: join(home, "bridge", "jobs") });
  const plugins = pluginCatalog({ paths: options.pluginPaths, env });
  let tracker: Promise<TrackerConnection> | undefined;
  let prepared = false;
  // One cache of tracker reads for the bridge's life, shared by its jobs. The bridge connects the
  // session's event hub at first use and keeps it for its life: the cache hears other clients'
  // `ftrack.update`s, and concurrent publishes find the hub up, so their announcements leave it
  // as it is (none of them connects it, so none disconnects it under another).
  const readCache = new TrackerCache();
  const session = async () => {
    if (!tracker) throw new BridgeError(503, "tracker_unavailable", "The bridge is still connecting to the tracker");
    const raw = (await tracker).session;
    if (!prepared) {
      prepared = true;
      useTrackerCache(raw, readCache);
      if (!raw.eventHub.isConnected()) raw.eventHub.connect();
      readCache.listen(raw.eventHub as never);
    }
    return raw;
  };
  const runner = new JobRunner({
    store,
    session,
    plugins,
    settings: options.settings,
    concurrency: options.concurrency,
    log,
  });
  const stopping = new AbortController();
  const token = randomToken();
  const app = createBridgeApp({
    token,
    allowedOrigins: options.allowedOrigins,
    version: FERRY_VERSION,
    store,
    runner,
    plugins,
    contexts: async (parent) => listContexts(await session(), parent),
    log,
    signal: stopping.signal,
  });
  const server = Deno.serve({ port, hostname, onListen: () => {} }, app.fetch);
  const address = server.addr as Deno.NetAddr;
  const url = `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`;
  const info: BridgeInfo = { url, token, pid: Deno.pid, version: FERRY_VERSION, startedAt: new Date().toISOString() };
  let claim;
  try {
    claim = await claimBridgeFile(home, info);
    tracker = connectTracker(env);
    await tracker;
  } catch (error) {
    await server.shutdown();
    await claim?.release();
    await tracker?.then((connection) => connection.close(), () => {});
    throw error;
  }
  const connection = await tracker;
  log.info("bridge started", {
    url,
    pid: Deno.pid,
    version: FERRY_VERSION,
    home,
    tracker: connection.credentials.server,
  });
  const resumed = runner.resume();
  if (resumed.length > 0) log.info("jobs resumed", { jobs: resumed.map((job) => job.id) });

  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await runner.close();
      stopping.abort();
      await server.shutdown();
      // The event hub is left as it is: the official client shares its socket with every session of
      // this process on the same server and user, so disconnecting it would cut theirs too.
      await connection.close();
      await claim.release();
      log.info("bridge stopped", { url, pid: Deno.pid });
      await log.flush();
    })();
  return { url, token, home, info, tracker: connection, store, runner, log, app, close, [Symbol.asyncDispose]: close };
}
