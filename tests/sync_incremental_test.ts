/**
 * Incremental sync through the real services: the leecher stores the tracker's events, the
 * processor's `sync-from-tracker` handler applies them for projects with auto-sync on (and not
 * for others, nor when the settings switch it off); turning auto-sync on runs a full sync; a
 * leecher start reconciles auto-sync projects. Both store adapters.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { RECONCILE_TOPIC } from "../src/store/mod.ts";
import type { PipelineStore } from "../src/store/mod.ts";
import { makeShot } from "./_tracker.ts";
import { settle, setValue, startServices, storeKindsTest, waitFor } from "./_sync.ts";

const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0];

await storeKindsTest(
  "sync-from-tracker handler follows tracker changes of auto-sync projects only",
  async ({ running, store, session }) => {
    // Auto-sync on before any leecher runs: the leecher's start reconciles it.
    const early = await makeShot(session, "early");
    await setValue(session, "ferry_auto_sync", early.project.id, true);
    await using _services = await startServices(running, store);
    const reconciliation = async () =>
      (await store.listEvents({ topic: "ferry.sync.finished", limit: 100 })).find((event) =>
        (event.payload as { reason: string }).reason === "reconciliation"
      );
    await waitFor(async () => (await reconciliation()) !== undefined, "the reconciliation's report");
    const reconciled = (await reconciliation())!;
    deepStrictEqual((reconciled.payload as { created: string[] }).created.sort(), [
      "/",
      "/sq010",
      "/sq010/sh010",
      "/sq010/sh010/lighting",
    ]);
    ok(await byTracker(store, early.task.id));
    const [request] = await store.listEvents({ topic: RECONCILE_TOPIC });
    strictEqual(reconciled!.dependsOn, request!.id);

    // A project without auto-sync is left alone …
    const { project, shot, task } = await makeShot(session, "gamma");
    await settle(store);
    strictEqual(await byTracker(store, shot.id), undefined, "auto-sync off: not synced");
    // … until auto-sync is turned on: a full sync.
    await setValue(session, "ferry_auto_sync", project.id, true);
    await waitFor(async () => (await byTracker(store, task.id)) !== undefined, "the full sync on auto-sync on");

    // add, rename, status, attribute, assignee, move, remove
    const added = (await session.create("Shot", { name: "sh020", parent_id: shot.parent_id })).data;
    await waitFor(async () => (await byTracker(store, added.id))?.name === "sh020", "the added shot");
    await session.update("Shot", [added.id], { name: "sh020b" });
    const approved = (await session.query('select id from Status where name is "Approved"')).data[0]!;
    await session.update("Task", [task.id], { status_id: approved.id });
    await setValue(session, "frameEnd", shot.id, 1234);
    const user = (await session.query("select id, username from User")).data[0]!;
    await session.create("Appointment", { context_id: task.id, resource_id: user.id, type: "assignment" });
    await session.update("Task", [task.id], { parent_id: added.id });
    await settle(store);
    const syncedAdded = (await byTracker(store, added.id))!;
    strictEqual(syncedAdded.name, "sh020b");
    const syncedTask = (await byTracker(store, task.id))!;
    strictEqual(syncedTask.status, "Approved");
    deepStrictEqual(syncedTask.assignees, [user.username]);
    strictEqual(syncedTask.parentId, syncedAdded.id, "moved");
    strictEqual((await byTracker(store, shot.id))!.attributes.frameEnd, 1234);
    await session.delete("Shot", [added.id]);
    await waitFor(async () => (await byTracker(store, added.id)) === undefined, "the removal");
    strictEqual(await byTracker(store, task.id), undefined, "its task went with it");

    // The settings switch the handler off for the project.
    await store.setSettings("production", { handlers: { "sync-from-tracker": { enabled: false } } }, {
      project: "gamma",
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await session.update("Shot", [shot.id], { name: "sh010_off" });
    await settle(store);
    strictEqual((await byTracker(store, shot.id))!.name, "sh010", "switched off: not renamed");
    await store.setSettings("production", {}, { project: "gamma" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await session.update("Shot", [shot.id], { name: "sh010_on" });
    await waitFor(async () => (await byTracker(store, shot.id))!.name === "sh010_on", "the rename when on again");

    // Nothing loops: the written-back ids came back as events and changed nothing.
    const before = await settle(store);
    await new Promise((resolve) => setTimeout(resolve, 500));
    strictEqual(await settle(store), before, "the event count settles");
  },
);
