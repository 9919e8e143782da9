/**
 * `deno task bench sync`: a full sync of a 10,000-entity tracker project (20 sequences, 1,000
 * shots, 9,000 tasks: 10,020 on the embedded tracker) into a SQLite pipeline store, beside replaying the
 * same entities as incremental `ftrack.update` events (one per entity, as the tracker sends them
 * when they are created one by one) into a second store, with the cost per event of the first and
 * the last 1,000 events and the tracker's share of it. Prints figures; asserts nothing.
 *
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { operation } from "@ftrack/api";
import { openSession } from "../src/tracker/open_session.ts";
import { openStore } from "../src/store/open_store.ts";
import { fullSync, syncTrackerUpdate } from "../src/sync/sync_from_tracker.ts";
import { SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import { startTracker } from "../services/tracker/server.ts";

/** Runs the benchmark; `quick` uses 1,000 entities. */
export async function benchSync(quick: boolean): Promise<void> {
  const sequences = quick ? 4 : 20;
  const shotsPer = quick ? 24 : 50;
  const tasksPer = 9;
  await using tracker = await startTracker({ port: 0, data: ":memory:" });
  const session = await openSession({ server: tracker.url, apiUser: tracker.apiUser, apiKey: tracker.apiKey });
  const schema = (await session.query("select id from ProjectSchema")).data[0]!;
  const project = (await session.create("Project", { name: "bench", full_name: "bench", project_schema_id: schema.id }))
    .data;
  const config = (await session.query('select id from CustomAttributeConfiguration where key is "ferry_auto_sync"'))
    .data[0]!;
  await session.update("ContextCustomAttributeValue", [config.id, project.id], { value: true });
  type Made = { id: string; parents: string[] };
  const made: Made[] = [];
  const started = performance.now();
  for (let s = 0; s < sequences; s++) {
    const sequenceId = crypto.randomUUID();
    const operations = [operation.create("Sequence", { id: sequenceId, name: `sq${s}`, parent_id: project.id })];
    made.push({ id: sequenceId, parents: [] });
    for (let h = 0; h < shotsPer; h++) {
      const shotId = crypto.randomUUID();
      operations.push(operation.create("Shot", { id: shotId, name: `sh${h}`, parent_id: sequenceId }));
      made.push({ id: shotId, parents: [sequenceId] });
      for (let t = 0; t < tasksPer; t++) {
        const taskId = crypto.randomUUID();
        operations.push(operation.create("Task", { id: taskId, name: `task${t}`, parent_id: shotId }));
        made.push({ id: taskId, parents: [shotId, sequenceId] });
      }
    }
    await session.call(operations);
  }
  const entities = made.length;
  console.log(`tracker project: ${entities} entities made in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const folder = await mkdtemp(join(tmpdir(), "ferry-bench-sync-"));
  const settings = SyncSettingsSchema.parse({ writeBack: false });
  let fullMs = 0;
  try {
    {
      await using store = await openStore(join(folder, "full.db"));
      const t0 = performance.now();
      const report = await fullSync({ session, store, project: "bench", settings, sender: "bench" });
      const ms = performance.now() - t0;
      fullMs = ms;
      console.log(
        `full sync:        ${(ms / 1000).toFixed(2)} s, ${
          (entities / (ms / 1000)).toFixed(0)
        } entities/s (${report.created.length} created, ids not written back)`,
      );
      const t1 = performance.now();
      const again = await fullSync({ session, store, project: "bench", settings, sender: "bench" });
      const ms1 = performance.now() - t1;
      console.log(`full sync again:  ${(ms1 / 1000).toFixed(2)} s (nothing to change: ${again.unchanged} unchanged)`);
      const t2 = performance.now();
      const written = await fullSync({
        session,
        store,
        project: "bench",
        settings: SyncSettingsSchema.parse({}),
        sender: "bench",
      });
      console.log(
        `write-back:       ${
          ((performance.now() - t2) / 1000).toFixed(2)
        } s for ${written.writtenBack} tracker entities (ferry_id, ferry_path)`,
      );
    }
    {
      await using store = await openStore(join(folder, "incremental.db"));
      // The tracker runs in this process: its share of each event (the queries the sync sends) is
      // timed apart, and so are the first and last 1,000 events (the store is empty, then full).
      let trackerMs = 0;
      const call = tracker.tracker.call.bind(tracker.tracker);
      tracker.tracker.call = (body, context) => {
        const start = performance.now();
        try {
          return call(body, context);
        } finally {
          trackerMs += performance.now() - start;
        }
      };
      const window = Math.min(1000, Math.floor(entities / 2));
      let firstEnd = 0;
      let lastStart = 0;
      const t0 = performance.now();
      for (const [index, entity] of made.entries()) {
        if (index === window) firstEnd = performance.now();
        if (index === entities - window) lastStart = performance.now();
        await syncTrackerUpdate({
          session,
          store,
          project: "bench",
          settings,
          sender: "bench",
          data: {
            entities: [{
              action: "add",
              entityId: entity.id,
              entityType: "task",
              entity_type: "TypedContext",
              parents: [
                { entityId: entity.id, entityType: "task" },
                ...entity.parents.map((id) => ({ entityId: id, entityType: "task" })),
                { entityId: project.id, entityType: "show" },
              ],
            }],
          },
        });
      }
      const end = performance.now();
      const ms = end - t0;
      tracker.tracker.call = call;
      const count = (await store.findEntities({ project: "bench" })).length;
      console.log(
        `incremental:      ${(ms / 1000).toFixed(2)} s, ${(entities / (ms / 1000)).toFixed(0)} events/s, ${
          (ms / entities).toFixed(2)
        } ms per event (${count - 1} entities in the store): ${(ms / fullMs).toFixed(1)}× the full sync's time`,
      );
      console.log(
        `  per event: first ${window} ${((firstEnd - t0) / window).toFixed(2)} ms, last ${window} ${
          ((end - lastStart) / window).toFixed(2)
        } ms; the tracker's share ${(trackerMs / entities).toFixed(2)} ms`,
      );
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchSync(Deno.args.includes("--quick"));
