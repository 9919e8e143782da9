import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import type { RunningTracker } from "../services/tracker/server.ts";
import { type RunningBridge, startBridge, type StartBridgeOptions } from "../services/bridge/server.ts";
import type { JobEvent } from "../services/bridge/schemas.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";

/** The environment of a bridge on a temporary FERRY_HOME publishing to `running`. */
export function bridgeEnv(home: string, running: { url: string; apiUser: string; apiKey: string }) {
  return {
    FERRY_HOME: home,
    FTRACK_SERVER: running.url,
    FTRACK_API_USER: running.apiUser,
    FTRACK_API_KEY: running.apiKey,
    PATH: Deno.env.get("PATH"),
    HOME: Deno.env.get("HOME"),
  };
}

/**
 * A bridge on a free port and a temporary FERRY_HOME, publishing to a fresh in-memory tracker
 * that has the demo shot and task; a session on that tracker and a files folder. All released
 * when disposed.
 */
export async function bridgeFixture(options: Omit<StartBridgeOptions, "env" | "port"> & { shot?: boolean } = {}) {
  const home = await mkdtemp(join(tmpdir(), "ferry-bridge-home-"));
  const files = await mkdtemp(join(tmpdir(), "ferry-bridge-files-"));
  const running: RunningTracker = await memoryTracker();
  const session: Session = await openSession(running);
  const made = options.shot === false ? undefined : await makeShot(session);
  let bridge: RunningBridge | undefined;
  const fixture = {
    home,
    files,
    running,
    session,
    made,
    get bridge(): RunningBridge {
      return bridge!;
    },
    /** Starts (again) the bridge of this FERRY_HOME. */
    async start(more: Omit<StartBridgeOptions, "env" | "port"> = {}) {
      bridge = await startBridge({ port: 0, ...options, ...more, env: bridgeEnv(home, running) });
      return bridge;
    },
    /** `app.request()` with the token and a JSON body when given. */
    request(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${bridge!.token}`, ...init.headers };
      if (init.body !== undefined) headers["content-type"] ??= "application/json";
      return bridge!.app.request(path, {
        method: init.method ?? (init.body === undefined ? "GET" : "POST"),
        headers,
        body: init.body === undefined
          ? undefined
          : typeof init.body === "string"
          ? init.body
          : JSON.stringify(init.body),
      });
    },
    async [Symbol.asyncDispose]() {
      await bridge?.close();
      await running.close();
      await rm(home, { recursive: true, force: true });
      await rm(files, { recursive: true, force: true });
    },
  };
  await fixture.start();
  return fixture;
}

/** Parses a Server-Sent Events body into events (reads to its end). */
export async function readEvents(response: Response): Promise<JobEvent[]> {
  const text = await response.text();
  return parseEvents(text);
}

/** Parses Server-Sent Events text. */
export function parseEvents(text: string): JobEvent[] {
  const events: JobEvent[] = [];
  for (const block of text.split("\n\n")) {
    const fields: Record<string, string> = {};
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const at = line.indexOf(":");
      fields[line.slice(0, at)] = (fields[line.slice(0, at)] ? fields[line.slice(0, at)] + "\n" : "") +
        line.slice(at + 1).replace(/^ /, "");
    }
    if (fields.id && fields.event) {
      events.push({ id: Number(fields.id), type: fields.event, data: JSON.parse(fields.data ?? "null") } as JobEvent);
    }
  }
  return events;
}
