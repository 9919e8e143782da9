import { disconnectHub } from "../src/tracker/disconnect_hub.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { parsePublishSettings } from "../publish/settings.ts";
import type { RunningTracker } from "../services/tracker/server.ts";
import { type RunningBridge, startBridge, type StartBridgeOptions } from "../services/bridge/server.ts";
import type { JobEvent } from "../services/bridge/schemas.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";

/** Publish settings without review media (no ffmpeg runs), to keep tests quick; review has its own tests. */
export const NO_REVIEW = parsePublishSettings({
  tools: { ffmpeg: "/nonexistent/ffmpeg", ffprobe: "/nonexistent/ffprobe", oiiotool: "/nonexistent/oiiotool" },
});

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
  const bridges: RunningBridge[] = [];
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
      bridge = await startBridge({ port: 0, settings: NO_REVIEW, ...options, ...more, env: bridgeEnv(home, running) });
      bridges.push(bridge);
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
      // Bridges leave their event hub up (the client shares it per server and user); nothing else
      // in this test uses it now, so it goes before the tracker does.
      // A hub still opening its socket is let finish first (disconnectHub).
      for (const started of bridges) await disconnectHub(started.tracker.session.eventHub, { waitMs: 10_000 });
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

/**
 * A plugin folder with `ExtractWait`: an extractor that waits `options.waitMs` of each instance
 * (stopping early when the publish is cancelled), to hold a job in `running`.
 */
export async function waitPlugins(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "ferry-bridge-plugins-"));
  await Deno.writeTextFile(
    join(path, "extract_wait.ts"),
    `export const ExtractWait = {
  kind: "instance",
  name: "ExtractWait",
  order: 2.4,
  families: ["*"],
  async process(instance, { log, signal }) {
    const ms = Number(instance.data.options?.waitMs ?? 0);
    if (!ms) return;
    log.info("waiting " + ms + " ms");
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => { clearTimeout(timer); reject(new Error("cancelled while waiting")); }, { once: true });
    });
  },
};
`,
  );
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** Reads events from a stream until `until` says stop (or the stream ends), then lets go of it. */
export async function readEventsUntil(response: Response, until: (events: JobEvent[]) => boolean): Promise<JobEvent[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      const complete = text.slice(0, text.lastIndexOf("\n\n") + 2);
      if (until(parseEvents(complete))) return parseEvents(complete);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return parseEvents(text);
}
