/**
 * Transmitter tests' helpers: a tracker shot mirrored into the store (as a sync would leave it,
 * written on the tracker's behalf), a transmitter on a tracker, the leecher and a processor that
 * runs only the `sync-notes` handler, waiting for the transmitter's queue, a small PNG.
 */
import type { Session } from "@ftrack/api";
import { createLogger } from "../src/cli/service_log.ts";
import type { Entity, PipelineStore } from "../src/store/mod.ts";
import { startProcessor } from "../services/processor/processor.ts";
import { syncNotes } from "../services/processor/handlers/sync_notes.ts";
import {
  type RunningTransmitter,
  startTransmitter,
  TRANSMIT_TOPIC,
  TRANSMITTER_SOURCE_TOPICS,
} from "../services/transmitter/transmitter.ts";
import { encodePng } from "../scripts/_png.ts";
import { openSession } from "./_tracker.ts";
import { connectedLeecher, waitFor } from "./_sync.ts";

/** How the sync writes: on the tracker's behalf. */
export const TRACKER_WRITER = { sender: "sync", senderType: "tracker" };
/** How a person or tool writes. */
export const USER_WRITER = { sender: "studio-tool", senderType: "user" };

// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;

/** Writes the project, sequence, shot and task of `makeShot` into the store with their tracker ids. */
export async function mirrorShot(
  store: PipelineStore,
  made: { project: Row; sequence: Row; shot: Row; task: Row },
): Promise<{ project: Entity; sequence: Entity; shot: Entity; task: Entity }> {
  const name = made.project.name;
  const project = (await store.writeEntity(
    { type: "project", project: name, name, trackerId: made.project.id },
    TRACKER_WRITER,
  )).entity;
  const sequence = (await store.writeEntity({
    type: "folder",
    project: name,
    name: made.sequence.name,
    trackerId: made.sequence.id,
    data: { folderType: "Sequence" },
  }, TRACKER_WRITER)).entity;
  const shot = (await store.writeEntity({
    type: "folder",
    project: name,
    parentId: sequence.id,
    name: made.shot.name,
    trackerId: made.shot.id,
    data: { folderType: "Shot" },
  }, TRACKER_WRITER)).entity;
  const task = (await store.writeEntity({
    type: "task",
    project: name,
    parentId: shot.id,
    name: made.task.name,
    trackerId: made.task.id,
    data: { taskType: "Lighting" },
  }, TRACKER_WRITER)).entity;
  return { project, sequence, shot, task };
}

/** A transmitter on the tracker, quiet and quick. */
export async function transmitter(
  running: { url: string; apiUser: string; apiKey: string },
  store: PipelineStore,
): Promise<RunningTransmitter> {
  return startTransmitter({
    store,
    session: await openSession(running),
    log: createLogger({ name: "transmitter", level: "error" }),
    pollMs: 10,
  });
}

/** Waits until the transmitter has no pipeline change left to apply (failed ones with no retries left count as done). */
export async function transmitted(store: PipelineStore, what = "the transmitter's queue"): Promise<void> {
  const { maxRetries } = (await store.getSettings("production")).processor;
  try {
    await waitFor(
      async () => (await store.queueDepth(TRANSMITTER_SOURCE_TOPICS, TRANSMIT_TOPIC, { maxRetries })) === 0,
      what,
    );
  } catch (error) {
    const failed = await store.listEvents({ topic: TRANSMIT_TOPIC, status: "failed" });
    throw new Error(`${(error as Error).message}; failed: ${failed.map((job) => job.error?.message).join(" | ")}`);
  }
}

/** The latest transmitter job about an entity's topic, with its outcome. */
export async function jobFor(store: PipelineStore, topic: string, entityId: string) {
  const sources = (await store.listEvents({ topic, limit: 1000 })).filter((event) =>
    (event.payload as { entityId?: string }).entityId === entityId
  );
  const jobs = [];
  for (const source of sources) jobs.push(...await store.listEvents({ topic: TRANSMIT_TOPIC, dependsOn: source.id }));
  return jobs.at(-1);
}

/** The leecher and a processor running only `sync-notes` (tracker notes → comments), stopped when disposed. */
export async function notesServices(
  running: { url: string; apiUser: string; apiKey: string },
  store: PipelineStore,
): Promise<AsyncDisposable> {
  const leecher = await connectedLeecher(running, store);
  const processor = await startProcessor({
    store,
    session: await openSession(running),
    handlers: [syncNotes],
    log: createLogger({ name: "processor", level: "error" }),
    settingsRefreshMs: 20,
  });
  return {
    [Symbol.asyncDispose]: async () => {
      await processor.stop();
      await leecher.close();
    },
  };
}

/** Writes an 8×8 PNG of one colour; returns its path. */
export async function writePng(folder: string, name: string, rgb: [number, number, number]): Promise<string> {
  const pixels = new Uint8Array(8 * 8 * 3).map((_, i) => rgb[i % 3]!);
  const path = `${folder}/${name}.png`;
  await Deno.writeFile(path, encodePng(8, 8, pixels));
  return path;
}

/** The ids of a tracker query's rows. */
export async function ids(session: Session, expression: string): Promise<string[]> {
  return ((await session.query(expression)).data as Array<{ id: string }>).map((row) => row.id);
}
