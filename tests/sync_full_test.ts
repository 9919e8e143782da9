/**
 * Full sync of a tracker project into the pipeline store, on the embedded tracker, on both store
 * adapters (PostgreSQL skipped loudly when unreachable): hierarchy, types and statuses matched
 * case-insensitively, mapped attributes and defaults, assignees, ids written back; renames,
 * moves, removals; a folder with products kept; a copy-pasted id; a task under the project.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { Session } from "@ftrack/api";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import type { PipelineStore } from "../src/store/mod.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { runSyncScript, storeKindsTest, trackerAndStore } from "./_sync.ts";

const settings = SyncSettingsSchema.parse({});

async function ownValue(session: Session, key: string, entityId: string): Promise<unknown> {
  const rows = (await session.query(
    `select value from ContextCustomAttributeValue where configuration.key is "${key}" and entity_id is "${entityId}"`,
  )).data;
  return rows[0]?.value;
}

async function setValue(session: Session, key: string, entityId: string, value: unknown) {
  const configuration = (await session.query(`select id from CustomAttributeConfiguration where key is "${key}"`))
    .data[0]!;
  await session.update("ContextCustomAttributeValue", [configuration.id, entityId], { value });
}

const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0];

await storeKindsTest(
  "fullSync() mirrors a tracker project into the pipeline store and follows its changes",
  async ({ store, session }) => {
    const { project, sequence, shot, task } = await makeShot(session, "alpha");
    const statuses = (await session.query("select id, name from Status")).data;
    const inProgress = statuses.find((s) => s.name === "In progress")!;
    await session.update("Task", [task.id], { status_id: inProgress.id, description: "key light" });
    await setValue(session, "frameStart", shot.id, 990);
    const user = (await session.query("select id, username from User")).data[0]!;
    await session.create("Appointment", { context_id: task.id, resource_id: user.id, type: "assignment" });
    const stray = (await session.create("Task", { name: "stray", parent_id: project.id })).data;
    // The pipeline already spells a status and a task type differently.
    await store.writeEntity({
      type: "project",
      project: "alpha",
      name: "alpha",
      data: { statuses: ["in progress"], taskTypes: ["generic"] },
    }, { sender: "test" });

    const first = await fullSync({ session, store, project: "alpha", settings, sender: "test-sync" });
    deepStrictEqual(first.created.sort(), ["/sq010", "/sq010/sh010", "/sq010/sh010/lighting"]);
    ok(first.skipped.some((s) => s.trackerId === stray.id && /directly under the project/.test(s.reason)));
    const pipelineProject = (await store.findEntities({ type: "project", project: "alpha" }))[0]!;
    strictEqual(pipelineProject.trackerId, project.id);
    strictEqual(pipelineProject.attributes.fps, 24, "the tracker's value");
    const projectData = pipelineProject.data as { statuses: string[]; taskTypes: string[] };
    strictEqual(projectData.statuses.filter((s) => s.toLowerCase() === "in progress").length, 1);
    const pipelineTask = (await byTracker(store, task.id))!;
    strictEqual(pipelineTask.type, "task");
    strictEqual(pipelineTask.status, "in progress", "matched case-insensitively to the pipeline's spelling");
    strictEqual(pipelineTask.data.taskType, "generic");
    deepStrictEqual(pipelineTask.assignees, [user.username]);
    strictEqual(pipelineTask.attributes.frameStart, 990, "inherited from the shot");
    strictEqual(pipelineTask.attributes.description, "key light");
    const pipelineShot = (await byTracker(store, shot.id))!;
    strictEqual(pipelineShot.data.folderType, "Shot");
    strictEqual(pipelineShot.parentId, (await byTracker(store, sequence.id))!.id);
    strictEqual(await ownValue(session, "ferry_id", task.id), pipelineTask.id, "pipeline id written back");
    strictEqual(await ownValue(session, "ferry_path", task.id), "/sq010/sh010/lighting");
    strictEqual(await ownValue(session, "ferry_id", project.id), pipelineProject.id);

    const again = await fullSync({ session, store, project: "alpha", settings, sender: "test-sync" });
    deepStrictEqual([again.created, again.updated, again.removed], [[], [], []], "a second sync changes nothing");
    strictEqual(again.writtenBack, 0);

    // Renamed, moved, removed; a copy-pasted id; a folder with products.
    const sq020 = (await session.create("Sequence", { name: "sq020", parent_id: project.id })).data;
    const sh020 = (await session.create("Shot", { name: "sh020", parent_id: sequence.id })).data;
    await fullSync({ session, store, project: "alpha", settings, sender: "test-sync" });
    const pipelineSh020 = (await byTracker(store, sh020.id))!;
    await store.writeEntity({
      type: "product",
      project: "alpha",
      parentId: pipelineShot.id,
      name: "renderMain",
      data: { productType: "render" },
    }, { sender: "publish" });
    await session.update("Shot", [shot.id], { name: "sh010_renamed" });
    await session.update("Shot", [sh020.id], { parent_id: sq020.id, name: "sh030" });
    await session.delete("Task", [task.id]);
    const copy = (await session.create("Shot", { name: "sh040", parent_id: sequence.id })).data;
    await setValue(session, "ferry_id", copy.id, pipelineSh020.id);
    const third = await fullSync({ session, store, project: "alpha", settings, sender: "test-sync" });
    const movedSh = (await store.getEntity(pipelineSh020.id))!;
    strictEqual(movedSh.name, "sh030");
    strictEqual(movedSh.parentId, (await byTracker(store, sq020.id))!.id);
    strictEqual(await store.getEntity(pipelineTask.id), undefined, "the removed task is gone");
    ok(third.removed.includes("/sq010/sh010/lighting"));
    strictEqual((await store.getEntity(pipelineShot.id))!.name, "sh010", "a folder with products keeps its name");
    ok(third.skipped.some((s) => /has published products: not renamed/.test(s.reason)), JSON.stringify(third));
    const copied = (await byTracker(store, copy.id))!;
    ok(copied.id !== pipelineSh020.id, "a copy-pasted id is not taken");
    strictEqual(await ownValue(session, "ferry_id", copy.id), copied.id, "the copy gets its own id");
    ok(third.skipped.some((s) => /was copied from tracker entity/.test(s.reason)));

    // Removed in the tracker while products hang below: kept, unlinked, reason given.
    await session.delete("Shot", [shot.id]);
    const fourth = await fullSync({ session, store, project: "alpha", settings, sender: "test-sync" });
    const kept = (await store.getEntity(pipelineShot.id))!;
    strictEqual(kept.trackerId, null);
    strictEqual(kept.data.trackerRemoved, true);
    ok(fourth.skipped.some((s) => /removed in the tracker, kept/.test(s.reason)));
    const events = await store.listEvents({ topic: "entity.folder.renamed", limit: 100 });
    ok(events.every((event) => event.senderType === "tracker" && event.sender === "test-sync"));
  },
);

Deno.test({
  name: "fullSync() refuses a project the tracker does not have, naming it",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { store, session } = fixture;
    let message = "";
    await fullSync({ session, store, project: "nope", settings, sender: "t" }).catch((e) => (message = e.message));
    strictEqual(message, "There is no tracker project named 'nope'");
  },
});

Deno.test({
  name: "deno task sync prints what it created and what it could not sync",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using running = await memoryTracker();
    const { sqliteSite } = await import("./_store.ts");
    await using place = await sqliteSite();
    const session = await openSession(running);
    const { project } = await makeShot(session, "delta");
    await session.create("Task", { name: "stray", parent_id: project.id });
    const run = (args: string[]) => runSyncScript(running, args);
    const result = await run(["delta", "--store", place.location]);
    const out = new TextDecoder().decode(result.stdout);
    strictEqual(result.code, 0, new TextDecoder().decode(result.stderr));
    ok(out.includes("delta: 4 created"), out);
    ok(out.includes("created /sq010/sh010/lighting"), out);
    ok(out.includes("not synced /stray: a task directly under the project"), out);
    const missing = await run(["nope", "--store", place.location]);
    strictEqual(missing.code, 1);
    ok(
      new TextDecoder().decode(missing.stderr).includes("Cannot sync 'nope': There is no tracker project named 'nope'"),
    );
    strictEqual((await run([])).code, 2, "no project named: a usage error");
  },
});
