/**
 * Links and lists in the tracker → pipeline sync: TypedContextLinks become `data.links` on their
 * target (`{ from, type, trackerId }`, the type from `linkType`), tracker lists become pipeline
 * `list` entities with their items as pipeline ids (items not synced reported); full sync and
 * `ftrack.update` events; `syncLinks` / `syncLists` false leave them alone. Both store adapters.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import type { EntityInput, PipelineStore } from "../src/store/mod.ts";
import { makeShot } from "./_tracker.ts";
import { makeVersion, settle, setValue, startServices, storeKindsTest, waitFor } from "./_sync.ts";

const settings = SyncSettingsSchema.parse({});
const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0];
const linksOf = async (store: PipelineStore, trackerId: string) =>
  ((await byTracker(store, trackerId))?.data.links ?? []) as Array<{ from: string; type: string; trackerId: string }>;

await storeKindsTest(
  "fullSync() turns tracker links into data.links and lists into list entities",
  async ({ store, session }) => {
    const { project, sequence, shot, task } = await makeShot(session, "links");
    const comp = (await session.create("Task", { name: "comp", parent_id: shot.id })).data;
    const milestone = (await session.create("Milestone", { name: "delivery", parent_id: project.id })).data;
    const link = (await session.create("TypedContextLink", { from_id: task.id, to_id: comp.id })).data;
    const fromShot = (await session.create("TypedContextLink", { from_id: sequence.id, to_id: comp.id })).data;
    const unsynced = (await session.create("TypedContextLink", { from_id: milestone.id, to_id: shot.id })).data;
    const made = await makeVersion(session, { contextId: shot.id, taskId: task.id });
    const category = (await session.query("select id, name from ListCategory")).data[0]!;
    const dailies = (await session.create("AssetVersionList", {
      name: "dailies",
      project_id: project.id,
      category_id: category.id,
    })).data;
    await session.create("ListObject", { list_id: dailies.id, entity_id: made.versionId });
    const shots = (await session.create("TypedContextList", {
      name: "hero shots",
      project_id: project.id,
      is_open: false,
      items: [{ __entity_type__: "Shot", id: shot.id }, { __entity_type__: "Milestone", id: milestone.id }],
    })).data;

    const report = await fullSync({
      session,
      store,
      project: "links",
      settings: SyncSettingsSchema.parse({ linkType: "breakdown" }),
      sender: "sync",
    });
    const pipelineTask = (await byTracker(store, task.id))!;
    const pipelineSequence = (await byTracker(store, sequence.id))!;
    deepStrictEqual(
      (await linksOf(store, comp.id)).sort((a, b) => a.trackerId.localeCompare(b.trackerId)),
      [
        { from: pipelineTask.id, type: "breakdown", trackerId: link.id },
        { from: pipelineSequence.id, type: "breakdown", trackerId: fromShot.id },
      ].sort((a, b) => a.trackerId.localeCompare(b.trackerId)),
    );
    deepStrictEqual(report.links.created.sort(), [
      "/sq010 → /sq010/sh010/comp (breakdown)",
      "/sq010/sh010/lighting → /sq010/sh010/comp (breakdown)",
    ]);
    ok(report.skipped.some((s) => s.kind === "link" && s.trackerId === unsynced.id && /not synced/.test(s.reason)));
    deepStrictEqual(await linksOf(store, shot.id), []);

    const lists = await store.findEntities({ project: "links", type: "list" });
    deepStrictEqual(lists.map((l) => l.name).sort(), ["dailies", "hero shots"]);
    const daily = lists.find((l) => l.name === "dailies")!;
    deepStrictEqual([daily.trackerId, daily.data.listType, daily.data.category, daily.data.open], [
      dailies.id,
      "version",
      category.name,
      true,
    ]);
    deepStrictEqual(daily.data.items, [(await byTracker(store, made.versionId))!.id]);
    const hero = lists.find((l) => l.name === "hero shots")!;
    deepStrictEqual([hero.data.listType, hero.data.open, hero.data.items], [
      "context",
      false,
      [(await byTracker(store, shot.id))!.id],
    ]);
    deepStrictEqual(report.lists.created.sort(), ["dailies", "hero shots"]);
    ok(report.skipped.some((s) => s.kind === "list" && s.trackerId === milestone.id && /hero shots/.test(s.path)));

    // Nothing changed: nothing to do.
    const again = await fullSync({ session, store, project: "links", settings, sender: "sync" });
    deepStrictEqual(again.lists, { created: [], updated: [], removed: [] });
    // linkType changed back to the default: the links are updated.
    deepStrictEqual(again.links.updated.length, 2);

    // Removed in the tracker: removed here. A pipeline-made link stays.
    const comps = (await byTracker(store, comp.id))!;
    await store.writeEntity({
      ...comps,
      data: {
        ...comps.data,
        links: [...(comps.data.links as unknown[]), { from: pipelineTask.id, type: "reference", trackerId: null }],
      },
    } as EntityInput, { sender: "tool", senderType: "user" });
    await session.delete("TypedContextLink", [link.id]);
    await session.delete("AssetVersionList", [dailies.id]);
    await session.update("TypedContextList", [shots.id], { name: "heroes" });
    const removed = await fullSync({ session, store, project: "links", settings, sender: "sync" });
    deepStrictEqual(removed.links.removed, ["/sq010/sh010/lighting → /sq010/sh010/comp (dependency)"]);
    deepStrictEqual(
      (await linksOf(store, comp.id)).map((l) => [l.type, l.trackerId]),
      [["reference", null], ["dependency", fromShot.id]],
    );
    deepStrictEqual(removed.lists.removed, ["dailies"]);
    deepStrictEqual(removed.lists.updated, ["heroes"]);
    deepStrictEqual((await store.findEntities({ project: "links", type: "list" })).map((l) => l.name), ["heroes"]);

    // Switched off: left alone.
    await session.create("TypedContextLink", { from_id: task.id, to_id: shot.id });
    await session.create("TypedContextList", { name: "later", project_id: project.id });
    const off = await fullSync({
      session,
      store,
      project: "links",
      settings: SyncSettingsSchema.parse({ syncLinks: false, syncLists: false }),
      sender: "sync",
    });
    deepStrictEqual([off.links, off.lists], [{ created: [], updated: [], removed: [] }, {
      created: [],
      updated: [],
      removed: [],
    }]);
    deepStrictEqual(await linksOf(store, shot.id), []);
    strictEqual((await store.findEntities({ project: "links", type: "list" })).length, 1);
  },
);

await storeKindsTest(
  "sync-from-tracker handler follows links and lists added, changed and removed",
  async ({ running, store, session }) => {
    const { project, shot, task } = await makeShot(session, "livelinks");
    const comp = (await session.create("Task", { name: "comp", parent_id: shot.id })).data;
    await setValue(session, "ferry_auto_sync", project.id, true);
    await using _services = await startServices(running, store);
    await waitFor(async () => (await byTracker(store, comp.id)) !== undefined, "the full sync on auto-sync on");

    const link = (await session.create("TypedContextLink", { from_id: task.id, to_id: comp.id })).data;
    await waitFor(async () => (await linksOf(store, comp.id)).length === 1, "the link");
    strictEqual((await linksOf(store, comp.id))[0]!.from, (await byTracker(store, task.id))!.id);
    await session.delete("TypedContextLink", [link.id]);
    await waitFor(async () => (await linksOf(store, comp.id)).length === 0, "the link's removal");

    const list = (await session.create("TypedContextList", { name: "review", project_id: project.id })).data;
    await waitFor(async () => (await byTracker(store, list.id)) !== undefined, "the list");
    const item = (await session.create("ListObject", { list_id: list.id, entity_id: comp.id })).data;
    await waitFor(
      async () => ((await byTracker(store, list.id))!.data.items as string[]).length === 1,
      "the list's item",
    );
    deepStrictEqual((await byTracker(store, list.id))!.data.items, [(await byTracker(store, comp.id))!.id]);
    await session.update("TypedContextList", [list.id], { name: "review2", is_open: false });
    await waitFor(async () => (await byTracker(store, list.id))!.name === "review2", "the rename");
    strictEqual((await byTracker(store, list.id))!.data.open, false);
    await session.delete("ListObject", [item.id]);
    await waitFor(
      async () => ((await byTracker(store, list.id))!.data.items as string[]).length === 0,
      "the item's removal",
    );
    await session.delete("TypedContextList", [list.id]);
    await waitFor(async () => (await byTracker(store, list.id)) === undefined, "the list's removal");

    // An item removed in the tracker leaves the list (no event of the list tells).
    const extra = (await session.create("Task", { name: "extra", parent_id: shot.id })).data;
    const picks = (await session.create("TypedContextList", {
      name: "picks",
      project_id: project.id,
      items: [{ __entity_type__: "Task", id: extra.id }, { __entity_type__: "Task", id: comp.id }],
    })).data;
    await waitFor(
      async () => ((await byTracker(store, picks.id))?.data.items as string[] | undefined)?.length === 2,
      "the list of two",
    );
    await session.delete("Task", [extra.id]);
    await waitFor(async () => (await byTracker(store, extra.id)) === undefined, "the task's removal");
    deepStrictEqual((await byTracker(store, picks.id))!.data.items, [(await byTracker(store, comp.id))!.id]);

    // Switched off for the project.
    await store.setSettings("production", {
      handlers: { "sync-from-tracker": { syncLinks: false, syncLists: false } },
    }, { project: "livelinks" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await session.create("TypedContextLink", { from_id: task.id, to_id: comp.id });
    const later = (await session.create("TypedContextList", { name: "later", project_id: project.id })).data;
    await settle(store);
    deepStrictEqual(await linksOf(store, comp.id), []);
    strictEqual(await byTracker(store, later.id), undefined);
  },
);
