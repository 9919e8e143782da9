/**
 * Content reuse tests' helpers: seeded bytes, a reader that counts what it reads, the SHA-1 of a
 * component as the tracker gives it back, and a tracker with the demo shot beside a temporary folder.
 */
import { strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Session } from "@ftrack/api";
import type { RunningTracker } from "../services/tracker/server.ts";
import { type OpenFile, openForReading } from "../src/tracker/upload_file.ts";
import { tempFolder } from "./_publish.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";

/** The SHA-1 of `data`, in hex. */
export const sha1 = (data: Uint8Array): string => createHash("sha1").update(data).digest("hex");

export { bytesOf } from "./_bytes.ts";

/** `openForReading` counting the bytes read of each path. */
export function countingReader(): { openFile: OpenFile; read: Map<string, number> } {
  const read = new Map<string, number>();
  const openFile: OpenFile = async (path) => {
    const file = await openForReading(path);
    return {
      stat: () => file.stat(),
      close: () => file.close(),
      async read(buffer, offset, length, position) {
        const done = await file.read(buffer, offset, length, position);
        read.set(path, (read.get(path) ?? 0) + done.bytesRead);
        return done;
      },
    };
  };
  return { openFile, read };
}

/** The SHA-1 of what the tracker gives back for a component. */
export async function download(running: RunningTracker, componentId: string): Promise<string> {
  const response = await fetch(
    `${running.url}/component/get?id=${componentId}&username=${running.apiUser}&apiKey=${running.apiKey}`,
  );
  strictEqual(response.status, 200, `component ${componentId} downloads`);
  return sha1(new Uint8Array(await response.arrayBuffer()));
}

/** A tracker in memory, a temporary folder and a session on the tracker as its API user. */
export interface ReuseWorkspace extends AsyncDisposable {
  running: RunningTracker;
  folder: AsyncDisposable & { path: string };
  session: Session;
}

/**
 * A tracker in memory, a temporary folder and a session, filled by `fill`; disposing removes the
 * folder, then stops the tracker, and a set-up that fails half-way undoes what it made.
 */
async function reuseWorkspace(fill: (session: Session) => Promise<unknown>): Promise<ReuseWorkspace> {
  await using made = new AsyncDisposableStack();
  const running = made.use(await memoryTracker());
  const folder = made.use(await tempFolder());
  const session = await openSession(running);
  await fill(session);
  const owned = made.move();
  return { running, folder, session, [Symbol.asyncDispose]: () => owned.disposeAsync() };
}

/** A workspace whose tracker holds the demo shot (`makeShot(session)`). */
export function demoShotWorkspace(): Promise<ReuseWorkspace> {
  return reuseWorkspace((session) => makeShot(session));
}

/**
 * A workspace whose tracker holds a private project `secret` (with `makeShot`'s shot), then the
 * demo shot, both made by the session (the tracker's administrator).
 */
export function privateShotWorkspace(): Promise<ReuseWorkspace> {
  return reuseWorkspace(async (admin) => {
    const secret = await makeShot(admin, "secret");
    await admin.update("Project", [secret.project.id], { is_private: true });
    await makeShot(admin, "demo");
  });
}
