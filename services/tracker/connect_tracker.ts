import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import loglevel from "loglevel";
import { ConfigurationError } from "../../src/config/configuration_error.ts";
import { ferryHome } from "../../src/config/ferry_home.ts";
import { trackerTimeout } from "../../src/config/tracker_timeout.ts";
import { openSession } from "../../src/tracker/open_session.ts";
import { type TrackerCredentials, trackerFromEnv } from "../../src/tracker/tracker_credentials.ts";
import { runningTrackerOf, startTracker, TrackerInUseError, type TrackerLock } from "./server.ts";

/** The tracker another process is starting on `data`, once it listens (up to 30 s). */
async function listening(data: string): Promise<TrackerLock | undefined> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    const running = await runningTrackerOf(data);
    if (running) return running;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/** A session on the tracker a command should use, and how to let go of it. */
export interface TrackerConnection extends AsyncDisposable {
  session: Session;
  credentials: TrackerCredentials;
  /** Where it came from: the environment's site, a running embedded tracker, or one started here. */
  kind: "site" | "running" | "embedded";
  close(): Promise<void>;
}

/** Options of {@linkcode connectTracker}. */
export interface ConnectTrackerOptions {
  /**
   * Milliseconds an API call may take, and an upload may go without progress. @default {the
   * `FERRY_TRACKER_TIMEOUT` variable of `env` (seconds), else 60000}
   */
  timeout?: number;
}

/** A folder ferry keeps data in: made when missing; a file or an unwritable place is a ConfigurationError. */
async function ensureFolder(path: string, setting: string, value: string): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new ConfigurationError(setting, value, `'${path}' cannot be read (${error.code ?? error.message})`, {
      cause: error,
    });
  });
  if (info && !info.isDirectory()) {
    throw new ConfigurationError(setting, value, `'${path}' is a file, not a folder`);
  }
  if (!info) {
    await mkdir(path, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      throw new ConfigurationError(
        setting,
        value,
        `the folder '${path}' cannot be created (${error.code ?? error.message})`,
        {
          cause: error,
        },
      );
    });
  }
}

/**
 * The tracker to publish to: the ftrack site of `FTRACK_SERVER` / `FTRACK_API_USER` /
 * `FTRACK_API_KEY` when set; otherwise the embedded tracker of `$FERRY_HOME/tracker`, reached
 * through its process when `deno task tracker` runs on it, or started in this process.
 *
 * Failures say what to fix, in one line: a bad environment or `FERRY_HOME` is a
 * `ConfigurationError`; a tracker that is unreachable, silent for longer than the timeout, refuses
 * the credentials or is not an ftrack server is a `TrackerConnectionError` (both carry
 * `exitCode` 3).
 */
export async function connectTracker(
  env: Record<string, string | undefined> = Deno.env.toObject(),
  options: ConnectTrackerOptions = {},
): Promise<TrackerConnection> {
  // The official client logs every failed request with its stack; commands report failures in one
  // line instead (FERRY_DEBUG=1 keeps the client's own log).
  if (!env.FERRY_DEBUG) {
    for (const name of ["ftrack_api", "ftrack_api:EventHub"]) loglevel.getLogger(name).setLevel("silent");
  }
  const timeout = options.timeout ?? trackerTimeout({ env });
  const site = trackerFromEnv(env);
  const home = ferryHome({
    env,
    platform: Deno.build.os === "windows" ? "win32" : Deno.build.os,
    home: env.HOME ?? env.USERPROFILE ?? ".",
  });
  // The tracker's schemas, kept by its schema hash: a new process does not download them again.
  const schemaCache = join(home, "cache", "schemas");
  if (site) {
    const session = await openSession(site, { timeout, schemaCache });
    return { session, credentials: site, kind: "site", close: async () => {}, [Symbol.asyncDispose]: async () => {} };
  }
  const [setting, value] = env.FERRY_HOME ? ["FERRY_HOME", env.FERRY_HOME] : ["ferry's data folder", home];
  await ensureFolder(home, setting, value);
  const data = join(home, "tracker");
  await ensureFolder(data, setting, value);
  const running = await runningTrackerOf(data);
  if (running) {
    const credentials = { server: running.url, apiUser: running.apiUser, apiKey: running.apiKey };
    const session = await openSession(credentials, { timeout, schemaCache });
    return { session, credentials, kind: "running", close: async () => {}, [Symbol.asyncDispose]: async () => {} };
  }
  let started;
  try {
    started = await startTracker({ port: 0, data });
  } catch (error) {
    // Another process started it at the same moment: use that one once it listens.
    const other = error instanceof TrackerInUseError ? await listening(data) : undefined;
    if (other) {
      const credentials = { server: other.url, apiUser: other.apiUser, apiKey: other.apiKey };
      const session = await openSession(credentials, { timeout, schemaCache });
      return { session, credentials, kind: "running", close: async () => {}, [Symbol.asyncDispose]: async () => {} };
    }
    throw new ConfigurationError(
      setting,
      value,
      `the embedded tracker cannot start on '${data}': ${(error as Error).message}`,
      { cause: error },
    );
  }
  const credentials = { server: started.url, apiUser: started.apiUser, apiKey: started.apiKey };
  try {
    const session = await openSession(credentials, { timeout, schemaCache });
    return { session, credentials, kind: "embedded", close: started.close, [Symbol.asyncDispose]: started.close };
  } catch (error) {
    await started.close();
    throw error;
  }
}
