/**
 * Who is publishing: this process (host, pid, a token per process) and the versions it is
 * publishing right now, so that a publish can tell a live publisher of the same files from a dead
 * one (killed, crashed) and resume the dead one's version at once. Private to the plugins folder.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import process from "node:process";
import { z } from "zod";

/** What a version's `ferry_publisher` metadata records. */
export const PublisherSchema = z.object({ host: z.string(), pid: z.number().int(), token: z.string() });
export type Publisher = z.infer<typeof PublisherSchema>;

/** This process as a publisher. */
export const THIS_PUBLISHER: Publisher = { host: hostname(), pid: process.pid, token: randomUUID() };

/** Version ids this process is publishing now (added when integration starts, removed when it ends). */
export const publishingHere = new Set<string>();

/** The recorded publisher, or undefined when the value is missing or not ferry's. */
export function parsePublisher(value: string | undefined): Publisher | undefined {
  if (!value) return undefined;
  try {
    const parsed = PublisherSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a recorded publisher of `versionId` still runs: on this machine, by its process (this
 * process: by what it is publishing now); elsewhere, unknown (undefined): the heartbeat decides.
 */
export function publisherAlive(publisher: Publisher, versionId: string): boolean | undefined {
  if (publisher.host !== THIS_PUBLISHER.host) return undefined;
  if (publisher.pid === THIS_PUBLISHER.pid) {
    return publisher.token === THIS_PUBLISHER.token && publishingHere.has(versionId);
  }
  try {
    process.kill(publisher.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
