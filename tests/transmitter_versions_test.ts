/**
 * The transmitter on products, versions, lists and thumbnails, on the embedded tracker with the
 * store on SQLite (and PostgreSQL): Assets and AssetVersions created, changed and deleted from the
 * pipeline; tracker lists made, filled, renamed, closed and deleted; thumbnails uploaded and set;
 * a ferry publish recorded in the store makes no duplicate in the tracker; what cannot be applied
 * fails with the reason.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import type { EntityInput, PipelineStore } from "../src/store/mod.ts";
import { PipelineOps } from "../src/sync/pipeline_ops.ts";
import { TRANSMIT_TOPIC } from "../services/transmitter/transmitter.ts";
import { NO_REVIEW_TOOLS, publishFixture, publishWith, tempFolder, writeFrames } from "./_publish.ts";
import { makeShot } from "./_tracker.ts";
import { sqliteSite } from "./_store.ts";
import { storeKindsTest, trackerAndStore } from "./_sync.ts";
import { ids, jobFor, mirrorShot, transmitted, transmitter, USER_WRITER, writePng } from "./_transmit.ts";

const written = async (store: PipelineStore, input: EntityInput) =>
  (await store.writeEntity(input, USER_WRITER)).entity;
const trackerIdOf = async (store: PipelineStore, id: string) => (await store.getEntity(id))!.trackerId;

await storeKindsTest(
  "transmitter creates, changes and deletes Assets and AssetVersions, and sets thumbnails",
  async ({ running, store, session }) => {
    await using images = await tempFolder("ferry-thumbs-");
    await store.setSettings("production", { processor: { maxRetries: 0, retryBackoffMs: 10 } });
    const made = await makeShot(session, "prod");
    const other = (await session.create("Shot", { name: "sh020", parent_id: made.sequence.id })).data;
    const compTask = (await session.create("Task", { name: "comp", parent_id: made.shot.id })).data;
    const mirrored = await mirrorShot(store, made);
    const sh020 = await written(store, {
      type: "folder",
      project: "prod",
      parentId: mirrored.sequence.id,
      name: "sh020",
      trackerId: other.id,
    });
    const comp = await written(store, {
      type: "task",
      project: "prod",
      parentId: mirrored.shot.id,
      name: "comp",
      trackerId: compTask.id,
    });
    await using _transmitter = await transmitter(running, store);

    // Created in the pipeline: an Asset and an AssetVersion with task, comment and status.
    const product = await written(store, {
      type: "product",
      project: "prod",
      parentId: mirrored.shot.id,
      name: "plate",
      data: { productType: "render" },
    });
    const version = await written(store, {
      type: "version",
      project: "prod",
      parentId: product.id,
      name: "v001",
      status: "pending review",
      attributes: { comment: "first pass" },
      data: { version: 1, taskId: mirrored.task.id },
    });
    await transmitted(store);
    const assetId = (await trackerIdOf(store, product.id))!;
    const versionId = (await trackerIdOf(store, version.id))!;
    ok(assetId && versionId, "tracker ids written back");
    const asset = (await session.query(`select name, context_id, type.short from Asset where id is "${assetId}"`))
      .data[0]!;
    deepStrictEqual([asset.name, asset.context_id, asset.type.short], ["plate", made.shot.id, "render"]);
    const row = async () =>
      (await session.query(
        `select version, asset_id, task_id, comment, status.name, thumbnail_id from AssetVersion where id is "${versionId}"`,
      )).data[0]!;
    const first = await row();
    deepStrictEqual(
      [first.version, first.asset_id, first.task_id, first.comment, first.status.name],
      [1, assetId, made.task.id, "first pass", "Pending Review"],
    );
    strictEqual(await store.countEvents({ topic: "entity.product.tracker_id_changed" }), 1);

    // Changed in the pipeline.
    const ops = new PipelineOps(store, USER_WRITER);
    await written(store, { ...(await store.getEntity(product.id))!, name: "plate_main" } as EntityInput);
    await written(store, { ...(await store.getEntity(product.id))!, parentId: sh020.id } as EntityInput);
    const current = (await store.getEntity(version.id))!;
    await written(store, {
      ...current,
      status: "Approved",
      attributes: { comment: "final" },
      data: { ...current.data, taskId: comp.id },
    } as EntityInput);
    const thumbnail = await writePng(images.path, "v001", [200, 40, 40]);
    await ops.setThumbnail("prod", version.id, thumbnail);
    const shotThumbnail = await writePng(images.path, "sh010", [40, 200, 40]);
    await ops.setThumbnail("prod", "/sq010/sh010", shotThumbnail);
    await transmitted(store);
    const moved = (await session.query(`select name, context_id from Asset where id is "${assetId}"`)).data[0]!;
    deepStrictEqual([moved.name, moved.context_id], ["plate_main", other.id]);
    const changed = await row();
    deepStrictEqual([changed.status.name, changed.comment, changed.task_id], ["Approved", "final", compTask.id]);
    ok(changed.thumbnail_id, "the version's thumbnail is set");
    const thumb = (await session.query(
      `select name, version_id, component_locations.location_id from Component where id is "${changed.thumbnail_id}"`,
    )).data[0]!;
    strictEqual(thumb.name, "thumbnail");
    strictEqual(thumb.version_id, versionId);
    strictEqual(thumb.component_locations[0].location_id, "3a372bde-05bc-11e4-8908-20c9d081909b");
    const download = await fetch(session.getComponentUrl(changed.thumbnail_id)!);
    deepStrictEqual(new Uint8Array(await download.arrayBuffer()), await Deno.readFile(thumbnail));
    const shotRow = (await session.query(`select thumbnail_id from Shot where id is "${made.shot.id}"`)).data[0]!;
    ok(shotRow.thumbnail_id, "the shot's thumbnail is set");

    // Unappliable: a status the version workflow does not have, a thumbnail that is gone.
    await written(store, { ...(await store.getEntity(version.id))!, status: "Not started" } as EntityInput);
    await transmitted(store);
    const failed = await jobFor(store, "entity.version.status_changed", version.id);
    strictEqual(failed!.status, "failed");
    ok(/status 'Not started' is not one the workflow of tracker entity .* allows/.test(failed!.error!.message));
    const gone = join(images.path, "gone.png");
    await written(store, {
      ...(await store.getEntity(mirrored.task.id))!,
      data: { taskType: "Lighting", thumbnail: gone },
    } as EntityInput);
    await transmitted(store);
    const noImage = await jobFor(store, "entity.task.data_changed", mirrored.task.id);
    ok(noImage!.error!.message.includes(`cannot read the thumbnail '${gone}'`), noImage!.error!.message);

    // Deleted in the pipeline: deleted in the tracker (the version first, then its product).
    await store.deleteEntity(version.id, USER_WRITER);
    await store.deleteEntity(product.id, USER_WRITER);
    await transmitted(store);
    deepStrictEqual(await ids(session, `select id from AssetVersion where id is "${versionId}"`), []);
    deepStrictEqual(await ids(session, `select id from Asset where id is "${assetId}"`), []);

    // createDeleted off: a new product stays in the pipeline; an Asset of that name is matched, not made.
    await store.setSettings("production", { handlers: { transmitter: { createDeleted: false } } }, {
      project: "prod",
    });
    const local = await written(store, {
      type: "product",
      project: "prod",
      parentId: mirrored.shot.id,
      name: "local",
      data: { productType: "render" },
    });
    await transmitted(store);
    strictEqual(await trackerIdOf(store, local.id), null);
    ok((await jobFor(store, "entity.product.created", local.id))!.description.includes("creation not carried"));
  },
);

Deno.test({
  name: "transmitter keeps tracker lists in step with pipeline lists, and names what it cannot list",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    await store.setSettings("production", { processor: { maxRetries: 0, retryBackoffMs: 10 } });
    const made = await makeShot(session, "lists");
    const mirrored = await mirrorShot(store, made);
    const asset = (await session.create("Asset", { name: "plate", context_id: made.shot.id })).data;
    const trackerVersions = [];
    for (const number of [1, 2, 3]) {
      trackerVersions.push((await session.create("AssetVersion", { asset_id: asset.id, version: number })).data);
    }
    const product = await written(store, {
      type: "product",
      project: "lists",
      parentId: mirrored.shot.id,
      name: "plate",
      trackerId: asset.id,
      data: { productType: "render" },
    });
    const versions = [];
    for (const [i, tracked] of trackerVersions.entries()) {
      versions.push(
        await written(store, {
          type: "version",
          project: "lists",
          parentId: product.id,
          name: `v00${i + 1}`,
          trackerId: tracked.id,
          data: { version: i + 1 },
        }),
      );
    }
    await using _transmitter = await transmitter(running, store);
    const dailies = await written(store, {
      type: "list",
      project: "lists",
      name: "dailies 2026-11-22",
      data: { listType: "version", category: "Dailies", items: [versions[0]!.id, versions[1]!.id] },
    });
    const shots = await written(store, {
      type: "list",
      project: "lists",
      name: "to light",
      data: { listType: "context", items: [mirrored.shot.id, mirrored.task.id] },
    });
    await transmitted(store);
    const dailiesId = (await trackerIdOf(store, dailies.id))!;
    const shotsId = (await trackerIdOf(store, shots.id))!;
    const listRow = async (id: string) =>
      (await session.query(`select name, is_open, category.name, project_id from List where id is "${id}"`)).data[0];
    // What a list holds: its items, and its ListObject rows (one on ftrack, apart on the embedded tracker).
    const items = async (id: string) => {
      const list = (await session.query(`select items from List where id is "${id}"`)).data[0]!;
      const objects = (await session.query(`select entity_id from ListObject where list_id is "${id}"`)).data;
      return [
        ...new Set([
          ...(list.items as Array<{ id: string }>).map((item) => item.id),
          ...objects.map((item) => String(item.entity_id)),
        ]),
      ].sort();
    };
    const created = (await listRow(dailiesId))!;
    deepStrictEqual([created.name, created.is_open, created.category.name, created.project_id], [
      "dailies 2026-11-22",
      true,
      "Dailies",
      made.project.id,
    ], "the missing category is created");
    deepStrictEqual(await items(dailiesId), [trackerVersions[0]!.id, trackerVersions[1]!.id].sort());
    ok((await session.query(`select id from AssetVersionList where id is "${dailiesId}"`)).data.length === 1);
    ok((await session.query(`select id from TypedContextList where id is "${shotsId}"`)).data.length === 1);
    strictEqual((await listRow(shotsId))!.category.name, "Default");
    deepStrictEqual(await items(shotsId), [made.shot.id, made.task.id].sort());

    // Renamed, closed, items changed.
    const list = (await store.getEntity(dailies.id))!;
    await written(store, {
      ...list,
      name: "dailies (done)",
      data: { ...list.data, open: false, items: [versions[1]!.id, versions[2]!.id] },
    } as EntityInput);
    await transmitted(store);
    const changed = (await listRow(dailiesId))!;
    deepStrictEqual([changed.name, changed.is_open], ["dailies (done)", false]);
    deepStrictEqual(await items(dailiesId), [trackerVersions[1]!.id, trackerVersions[2]!.id].sort());

    // What a version list cannot hold: the reason names it.
    await written(store, {
      ...(await store.getEntity(dailies.id))!,
      data: { ...list.data, items: [mirrored.shot.id] },
    } as EntityInput);
    await transmitted(store);
    const refused = await jobFor(store, "entity.list.data_changed", dailies.id);
    strictEqual(refused!.status, "failed");
    ok(/cannot hold the folder 'sh010': only versions/.test(refused!.error!.message), refused!.error!.message);

    // Deleted: the tracker list goes.
    await store.deleteEntity(shots.id, USER_WRITER);
    await transmitted(store);
    strictEqual(await listRow(shotsId), undefined);
    strictEqual(
      (await store.listEvents({ topic: TRANSMIT_TOPIC, limit: 1000 })).filter((job) =>
        job.description.includes("tracker_id_changed")
      ).length,
      0,
      "written-back ids are not carried again",
    );
  },
});

Deno.test({
  name: "transmitter after a ferry publish recorded in the store: no Asset or AssetVersion made twice",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await publishFixture();
    await using place = await sqliteSite();
    const { session, folder, made, running } = fixture;
    {
      await using store = await place.open();
      await mirrorShot(store, made);
    }
    await using store = await place.open();
    await using _transmitter = await transmitter(running, store);
    const previous = Deno.env.get("FERRY_STORE");
    Deno.env.set("FERRY_STORE", place.location);
    try {
      await writeFrames(join(folder.path, "frames"), [1001, 1002]);
      for (let pass = 0; pass < 2; pass++) {
        const { report } = await publishWith(session, {
          context: { path: "demo/sq010/sh010", task: "lighting" },
          instances: [{ family: "render", name: "beauty", files: [join(folder.path, "frames", "beauty.####.exr")] }],
          comment: `pass ${pass + 1}`,
        }, { settings: { tools: NO_REVIEW_TOOLS } });
        ok(report.ok, JSON.stringify(report.results.filter((r) => !r.success)));
        if (pass === 0) {
          await transmitted(store);
          const [product] = await store.findEntities({ project: "demo", type: "product" });
          const [assetId] = await ids(session, `select id from Asset where context_id is "${made.shot.id}"`);
          strictEqual(product!.trackerId, assetId, "the product matched to the publish's Asset");
        }
      }
    } finally {
      if (previous === undefined) Deno.env.delete("FERRY_STORE");
      else Deno.env.set("FERRY_STORE", previous);
    }
    await transmitted(store);
    const assets = await ids(session, `select id from Asset where context_id is "${made.shot.id}"`);
    strictEqual(assets.length, 1, "one Asset");
    strictEqual((await ids(session, `select id from AssetVersion where asset_id is "${assets[0]}"`)).length, 2);
    const [product] = await store.findEntities({ project: "demo", type: "product" });
    const versions = await store.findEntities({ parentId: product!.id, type: "version" });
    strictEqual(versions.length, 2);
    const jobs = await store.listEvents({ topic: TRANSMIT_TOPIC, limit: 1000 });
    strictEqual(jobs.filter((job) => job.status === "failed").length, 0, JSON.stringify(jobs.map((j) => j.error)));
    // The publish records the product with its Asset: the transmitter finds it in the tracker already.
    ok(
      jobs.some((job) => job.description.includes("already in the tracker as Asset")),
      JSON.stringify(jobs.map((j) => j.description)),
    );
    // The re-publish recorded the product again without its tracker id: a version made in the
    // pipeline still goes under the publish's Asset (matched through its versions).
    const v3 = await written(store, {
      type: "version",
      project: "demo",
      parentId: product!.id,
      name: "v003",
      data: { version: 3 },
    });
    await transmitted(store);
    const v3Row = (await session.query(
      `select asset_id, version from AssetVersion where id is "${(await trackerIdOf(store, v3.id))!}"`,
    )).data[0]!;
    deepStrictEqual([v3Row.asset_id, v3Row.version], [assets[0], 3]);
    // Recorded again without its tracker id (as a re-publish does), then renamed: the rename reaches
    // the publish's Asset (matched through its versions), no new Asset is made.
    const again = (await store.getEntity(product!.id))!;
    await store.writeEntity({ ...again, trackerId: null } as EntityInput, {
      sender: "publish",
      senderType: "pipeline",
    });
    await store.writeEntity({ ...again, trackerId: null, name: "beauty_main" } as EntityInput, USER_WRITER);
    await transmitted(store);
    deepStrictEqual(await ids(session, `select id from Asset where context_id is "${made.shot.id}"`), assets);
    strictEqual(
      (await session.query(`select name from Asset where id is "${assets[0]}"`)).data[0]!.name,
      "beauty_main",
    );
    ok(
      jobs.filter((job) => job.description.includes("entity.version.created")).every((job) =>
        job.description.includes("already in the tracker")
      ),
    );
  },
});
