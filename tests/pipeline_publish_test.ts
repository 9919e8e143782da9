/**
 * ferry's own publishes recorded in the pipeline store (IntegratePipelineStore): product,
 * version, representations with their files, fingerprints and location, when a store is
 * configured; nothing when none is.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { pipelineIdOf } from "../src/sync/pipeline_id.ts";
import { SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import { configuredStore } from "../plugins/integrate_pipeline_store.ts";
import { NO_REVIEW_TOOLS, publishWith, syncedStoreFixture, tempFolder, withEnv, writeFrames } from "./_publish.ts";

const request = (files: string[], location: unknown) => ({
  context: { path: "demo/sq010/sh010", task: "lighting" },
  instances: [{ family: "render", name: "beauty", files }],
  comment: "store",
  location,
});

Deno.test("configuredStore() is FERRY_STORE, else an existing store.db in FERRY_HOME, else none", async () => {
  await using home = await tempFolder("ferry-home-");
  strictEqual(configuredStore({ FERRY_STORE: "postgres://db/ferry" }), "postgres://db/ferry");
  strictEqual(configuredStore({ FERRY_HOME: home.path }), undefined);
  await Deno.writeTextFile(join(home.path, "store.db"), "");
  strictEqual(configuredStore({ FERRY_HOME: home.path }), join(home.path, "store.db"));
});

Deno.test({
  name: "IntegratePipelineStore records a publish's product, version and files when a store is configured",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await syncedStoreFixture();
    const { session, folder, made, site, root } = fixture;
    const sources = await writeFrames(join(folder.path, "frames"), [1001, 1002]);
    await withEnv("FERRY_STORE", site.location, async () => {
      const { report } = await publishWith(
        session,
        request([join(folder.path, "frames", "beauty.####.exr")], {
          disk: root.path,
        }),
        { settings: { tools: NO_REVIEW_TOOLS } },
      );
      ok(report.ok, JSON.stringify(report.results.filter((r) => !r.success)));
      ok(report.results.some((r) => r.plugin === "IntegratePipelineStore" && r.success));
    });
    await using store = await site.open();
    const shot = (await store.findEntities({ trackerId: made.shot.id }))[0]!;
    const [product] = await store.findEntities({ parentId: shot.id, type: "product" });
    strictEqual(product!.name, "beauty");
    strictEqual(product!.data.productType, "render");
    const [version] = await store.findEntities({ parentId: product!.id, type: "version" });
    strictEqual(version!.name, "v001");
    const asset = (await session.query(`select asset_id from AssetVersion where id is "${version!.trackerId}"`))
      .data[0]!;
    strictEqual(product!.trackerId, asset.asset_id, "the product records its tracker Asset");
    // The ids a sync would give them: a sync racing the publish writes the same entities.
    strictEqual(product!.id, pipelineIdOf(String(asset.asset_id)));
    strictEqual(version!.id, pipelineIdOf(version!.trackerId!));
    strictEqual(version!.data.taskId, (await store.findEntities({ trackerId: made.task.id }))[0]!.id);
    const representations = await store.findEntities({ parentId: version!.id, type: "representation" });
    strictEqual(representations.length, 1, JSON.stringify(representations.map((r) => [r.name, r.data])));
    const files = representations[0]!.data.files as Array<{ path: string; size: number; hash: string }>;
    deepStrictEqual(
      files.map((file) => file.hash).sort(),
      await Promise.all(
        sources.map(async (path) => `sha1:${createHash("sha1").update(await readFile(path)).digest("hex")}`),
      ).then((hashes) => hashes.sort()),
    );
    ok(files.every((file) => file.path.includes("demo/sq010/sh010/beauty/v001")), JSON.stringify(files));
    ok(representations[0]!.attributes.locationId);
    // The shot now has a product: a rename in the tracker is refused by the next sync.
    await session.update("Shot", [made.shot.id], { name: "sh010_new" });
    const report = await fullSync({
      session,
      store,
      project: "demo",
      settings: SyncSettingsSchema.parse({}),
      sender: "s",
    });
    ok(report.skipped.some((s) => /has published products/.test(s.reason)));
  },
});
