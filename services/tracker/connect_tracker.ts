import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { ferryHome } from "../../src/config/ferry_home.ts";
import { openSession } from "../../src/tracker/open_session.ts";
import { type TrackerCredentials, trackerFromEnv } from "../../src/tracker/tracker_credentials.ts";
import { runningTrackerOf, startTracker } from "./server.ts";

/** A session on the tracker a command should use, and how to let go of it. */
export interface TrackerConnection extends AsyncDisposable {
  session: Session;
  credentials: TrackerCredentials;
  /** Where it came from: the environment's site, a running embedded tracker, or one started here. */
  kind: "site" | "running" | "embedded";
  close(): Promise<void>;
}

/**
 * The tracker to publish to: the ftrack site of `FTRACK_SERVER` / `FTRACK_API_USER` /
 * `FTRACK_API_KEY` when set; otherwise the embedded tracker of `$FERRY_HOME/tracker`, reached
 * through its process when `deno task tracker` runs on it, or started in this process.
 */
export async function connectTracker(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<TrackerConnection> {
  const site = trackerFromEnv(env);
  if (site) {
    const session = await openSession(site);
    return { session, credentials: site, kind: "site", close: async () => {}, [Symbol.asyncDispose]: async () => {} };
  }
  const data = join(
    ferryHome({
      env,
      platform: Deno.build.os === "windows" ? "win32" : Deno.build.os,
      home: env.HOME ?? env.USERPROFILE ?? ".",
    }),
    "tracker",
  );
  const running = await runningTrackerOf(data);
  if (running) {
    const credentials = { server: running.url, apiUser: running.apiUser, apiKey: running.apiKey };
    const session = await openSession(credentials);
    return { session, credentials, kind: "running", close: async () => {}, [Symbol.asyncDispose]: async () => {} };
  }
  const started = await startTracker({ port: 0, data });
  const credentials = { server: started.url, apiUser: started.apiUser, apiKey: started.apiKey };
  const session = await openSession(credentials);
  return { session, credentials, kind: "embedded", close: started.close, [Symbol.asyncDispose]: started.close };
}
