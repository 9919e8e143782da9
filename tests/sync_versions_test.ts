/**
 * Versions in the tracker → pipeline sync: assets, asset versions and components become
 * products, versions and representations (files with sizes, fingerprints and locations), in a
 * full sync and from `ftrack.update` events; a ferry publish's records are matched, never
 * duplicated; `syncVersions: false` leaves them alone. Both store adapters.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import type { Entity, PipelineStore } from "../src/store/mod.ts";
import { makeShot } from "./_tracker.ts";
import { diskLocation, makeVersion, settle, setValue, startServices, storeKindsTest, waitFor } from "./_sync.ts";
import { NO_REVIEW_TOOLS, publishWith, syncedStoreFixture, withEnv, writeFrames } from "./_publish.ts";

const settings = SyncSettingsSchema.parse({});
const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0];
const below = (store: PipelineStore, parent: Entity, type: Entity["type"]) =>
  store.findEntities({ parentId: parent.id, type });

await storeKindsTest(
  "fullSync() mirrors assets, versions and components as products, versions and representations",
  async ({ running, store, session }) => {
    const { project, shot, task } = await makeShot(session, "vfx");
    const made = await makeVersion(session, { contextId: shot.id, taskId: task.id, comment: "first look" });
    const approved = (await session.query('select id from Status where name is "Approved"')).data[0]!;
    await session.update("AssetVersion", [made.versionId], { status_id: approved.id });
    const stray = await makeVersion(session, { contextId: project.id, asset: "stray" });
    const onTask = await makeVersion(session, { contextId: task.id, asset: "layout" });

    const sync = (options = settings) =>
      fullSync({ session, store, project: "vfx", settings: options, sender: "sync" });
    const report = await sync();
    deepStrictEqual(report.products.created.sort(), ["/sq010/sh010/beauty", "/sq010/sh010/layout"]);
    deepStrictEqual(report.versions.created.sort(), ["/sq010/sh010/beauty/v001", "/sq010/sh010/layout/v001"]);
    deepStrictEqual(report.representations.created.sort(), [
      "/sq010/sh010/beauty/v001/exr",
      "/sq010/sh010/beauty/v001/main",
      "/sq010/sh010/layout/v001/exr",
      "/sq010/sh010/layout/v001/main",
    ]);
    strictEqual(
      (await byTracker(store, onTask.assetId))!.parentId,
      (await byTracker(store, shot.id))!.id,
      "a task's asset goes in the task's folder",
    );
    ok(
      report.skipped.some((s) =>
        s.kind === "version" && s.trackerId === stray.assetId && /directly under the project/.test(s.reason)
      ),
      JSON.stringify(report.skipped),
    );
    const product = (await byTracker(store, made.assetId))!;
    strictEqual(product.type, "product");
    strictEqual(product.parentId, (await byTracker(store, shot.id))!.id);
    strictEqual(product.data.productType, "render");
    const version = (await byTracker(store, made.versionId))!;
    deepStrictEqual([version.name, version.parentId, version.status], ["v001", product.id, "Approved"]);
    strictEqual(version.data.version, 1);
    strictEqual(version.data.taskId, (await byTracker(store, task.id))!.id);
    strictEqual(version.data.author, running.apiUser);
    deepStrictEqual([version.attributes.comment, version.attributes.description], ["first look", "first look"]);
    const location = await diskLocation(session);
    const main = (await byTracker(store, made.fileId))!;
    deepStrictEqual(main.data.files, [{
      path: "/proj/beauty/v001/main.abc",
      size: 10,
      hash: `sha1:${"a".repeat(40)}`,
    }]);
    strictEqual(main.attributes.locationId, location);
    deepStrictEqual(main.data.locations, ["studio.disk"]);
    const exr = (await byTracker(store, made.sequenceId))!;
    deepStrictEqual(exr.data.files, [
      { path: "/proj/beauty/v001/exr/beauty.1001.exr", size: 20, hash: `sha1:${"1001".repeat(10)}` },
      { path: "/proj/beauty/v001/exr/beauty.1002.exr", size: 20, hash: `sha1:${"1002".repeat(10)}` },
    ]);
    strictEqual(exr.data.kind, "sequence");

    // A second sync changes nothing.
    const again = await sync();
    for (const section of [again.products, again.versions, again.representations]) {
      deepStrictEqual(section, { created: [], updated: [], removed: [] });
    }

    // Changes and removals follow.
    await session.update("AssetVersion", [made.versionId], { comment: "final" });
    await session.delete("FileComponent", [made.fileId]);
    const changed = await sync();
    deepStrictEqual(changed.versions.updated, ["/sq010/sh010/beauty/v001"]);
    deepStrictEqual(changed.representations.removed, ["/sq010/sh010/beauty/v001/main"]);
    strictEqual((await byTracker(store, made.versionId))!.attributes.comment, "final");
    strictEqual(await byTracker(store, made.fileId), undefined);

    // syncVersions off: a new version stays out.
    const second = await makeVersion(session, { contextId: shot.id, version: 2 });
    const off = await sync(SyncSettingsSchema.parse({ syncVersions: false }));
    deepStrictEqual(off.versions.created, []);
    strictEqual(await byTracker(store, second.versionId), undefined);

    await session.delete("AssetVersion", [made.versionId]);
    const removed = await sync();
    deepStrictEqual(removed.versions.created, ["/sq010/sh010/beauty/v002"]);
    deepStrictEqual(removed.versions.removed, ["/sq010/sh010/beauty/v001"]);
    deepStrictEqual(removed.representations.removed, ["/sq010/sh010/beauty/v001/exr"]);
    deepStrictEqual((await below(store, product, "version")).map((v) => v.name), ["v002"]);

    // Two writers raced to record v002: one entity stays, with what hung below the other.
    const kept = (await byTracker(store, second.versionId))!;
    const { entity: twin } = await store.writeEntity({
      type: "version",
      project: "vfx",
      parentId: product.id,
      name: "v002",
      trackerId: second.versionId,
      data: { version: 2, taskId: null, recordedBy: "publish" },
    }, { sender: "publish" });
    const { entity: note } = await store.writeEntity({
      type: "representation",
      project: "vfx",
      parentId: twin.id,
      name: "notes",
      data: { files: [{ path: "/proj/notes.txt" }] },
    }, { sender: "publish" });
    const merged = await sync();
    deepStrictEqual(merged.versions.removed, ["/sq010/sh010/beauty/v002 (a duplicate)"]);
    deepStrictEqual((await below(store, product, "version")).map((v) => v.id), [kept.id]);
    strictEqual((await store.getEntity(note.id))!.parentId, kept.id, "what hung below the twin moved");
    strictEqual((await store.getEntity(kept.id))!.data.recordedBy, "publish", "data only the twin had is kept");
  },
);

await storeKindsTest(
  "sync-from-tracker handler follows versions and components added, changed and removed",
  async ({ running, store, session }) => {
    const { project, shot, task } = await makeShot(session, "live");
    await setValue(session, "ferry_auto_sync", project.id, true);
    await using _services = await startServices(running, store);
    await waitFor(async () => (await byTracker(store, task.id)) !== undefined, "the full sync on auto-sync on");

    const made = await makeVersion(session, { contextId: shot.id, taskId: task.id });
    await waitFor(async () => {
      const exr = await byTracker(store, made.sequenceId);
      return (exr?.data.files as unknown[] | undefined)?.length === 2;
    }, "the sequence's files placed and fingerprinted");
    const version = (await byTracker(store, made.versionId))!;
    strictEqual(version.data.taskId, (await byTracker(store, task.id))!.id);
    deepStrictEqual((await byTracker(store, made.fileId))!.data.files, [
      { path: "/proj/beauty/v001/main.abc", size: 10, hash: `sha1:${"a".repeat(40)}` },
    ]);

    const before = (await byTracker(store, made.versionId))!.status;
    const statuses = (await session.query("select id, name from Status")).data;
    const next = statuses.find((status) => status.name !== before && status.name !== "Approved")!;
    await session.update("AssetVersion", [made.versionId], { status_id: next.id });
    await session.update("Asset", [made.assetId], { name: "beauty_main" });
    await waitFor(
      async () =>
        (await byTracker(store, made.versionId))!.status === next.name &&
        (await byTracker(store, made.assetId))!.name === "beauty_main",
      "the status and the product's new name",
    );
    await session.delete("FileComponent", [made.memberIds[0]!]);
    await waitFor(
      async () => ((await byTracker(store, made.sequenceId))!.data.files as unknown[]).length === 1,
      "a member's removal",
    );
    await session.delete("AssetVersion", [made.versionId]);
    await waitFor(async () => (await byTracker(store, made.versionId)) === undefined, "the version's removal");
    strictEqual(await byTracker(store, made.sequenceId), undefined, "its representations went with it");

    // syncVersions off for the project: a new version stays out.
    await store.setSettings("production", { handlers: { "sync-from-tracker": { syncVersions: false } } }, {
      project: "live",
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const later = await makeVersion(session, { contextId: shot.id, version: 2 });
    await settle(store);
    strictEqual(await byTracker(store, later.versionId), undefined);
  },
);

Deno.test({
  name:
    "fullSync() after a ferry publish matches the publish's product, version and representations, never duplicating",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await syncedStoreFixture();
    const { session, folder, made, site, root } = fixture;
    await writeFrames(join(folder.path, "frames"), [1001, 1002]);
    await withEnv("FERRY_STORE", site.location, async () => {
      const { report } = await publishWith(session, {
        context: { path: "demo/sq010/sh010", task: "lighting" },
        instances: [{ family: "render", name: "beauty", files: [join(folder.path, "frames", "beauty.####.exr")] }],
        comment: "store",
        location: { disk: root.path },
      }, { settings: { tools: NO_REVIEW_TOOLS } });
      ok(report.ok, JSON.stringify(report.results.filter((r) => !r.success)));
    });
    await using store = await site.open();
    const shot = (await byTracker(store, made.shot.id))!;
    const snapshot = async () => {
      const products = await below(store, shot, "product");
      const versions = (await Promise.all(products.map((p) => below(store, p, "version")))).flat();
      const representations = (await Promise.all(versions.map((v) => below(store, v, "representation")))).flat();
      return { products, versions, representations };
    };
    const published = await snapshot();
    strictEqual(published.products.length, 1);
    strictEqual(published.versions.length, 1);
    const syncDemo = () => fullSync({ session, store, project: "demo", settings, sender: "sync" });
    const sync = await syncDemo();
    deepStrictEqual(
      [sync.products.created, sync.versions.created, sync.representations.created],
      [[], [], []],
      JSON.stringify(sync),
    );
    const synced = await snapshot();
    deepStrictEqual(synced.products.map((p) => p.id), published.products.map((p) => p.id));
    deepStrictEqual(synced.versions.map((v) => v.id), published.versions.map((v) => v.id));
    deepStrictEqual(
      synced.representations.map((r) => r.id).sort(),
      published.representations.map((r) => r.id).sort(),
    );
    const asset = (await session.query('select id from Asset where name is "beauty"')).data[0]!;
    strictEqual(synced.products[0]!.trackerId, asset.id, "the product now knows its asset");
    deepStrictEqual(
      (synced.representations[0]!.data.files as Array<{ hash: string }>).map((f) => f.hash).sort(),
      (published.representations[0]!.data.files as Array<{ hash: string }>).map((f) => f.hash).sort(),
    );
    // And once more: nothing to do.
    const again = await syncDemo();
    deepStrictEqual(again.representations, { created: [], updated: [], removed: [] });
  },
});
