/**
 * The transmitter writes a mapped pipeline attribute to the configuration its mapping names for
 * the entity's object type, on the embedded tracker with both store adapters: a shot's
 * `frameStart` into the Shot's per-object-type `fstart` (not the Asset Build's, not the
 * hierarchical one), an asset build's into its own, `fps` into the hierarchical one; a Sequence,
 * which has no `fstart`, fails with the reason (a Sequence made in the pipeline is made, that
 * attribute named as not written); the old `{tracker, pipeline}` shape writes the
 * hierarchical configuration when there is one, else the entity's own object type's; with the
 * sync and `push-hierarchical-values` running, a standard mapping and the push agree (no loop).
 */
import { ok, strictEqual } from "node:assert/strict";
import { LEECH_TOPIC } from "../src/store/mod.ts";
import type { Session } from "@ftrack/api";
import type { Entity, EntityInput, PipelineStore } from "../src/store/mod.ts";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { type AttributeMapping, SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import { TRANSMIT_TOPIC } from "../services/transmitter/transmitter.ts";
import { makeShot } from "./_tracker.ts";
import { autoSyncOn, settle, startServices, storeKindsTest, trackerAndStore, waitFor } from "./_sync.ts";
import { jobFor, transmitted, transmitter, USER_WRITER } from "./_transmit.ts";
import { makeConfiguration } from "./_attributes.ts";

// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;

const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0]!;
const setAttributes = (store: PipelineStore, entity: Entity, attributes: Record<string, unknown>) =>
  store.writeEntity({ ...entity, attributes: { ...entity.attributes, ...attributes } } as EntityInput, USER_WRITER);

/** The own value of one configuration on an entity (undefined: none stored). */
async function own(session: Session, configuration: string, entityId: string): Promise<unknown> {
  return (await session.query(
    `select value from CustomAttributeValue where configuration_id is "${configuration}" and entity_id is "${entityId}"`,
  )).data[0]?.value;
}

/** A project with a shot, an asset build and a sequence; `fstart` on Shot and on Asset Build, and a hierarchical one. */
async function makeProject(session: Session, name: string, options: { hierarchicalFstart: boolean }) {
  const made = await makeShot(session, name);
  const build = (await session.create("AssetBuild", { name: "hero", parent_id: made.project.id })).data as Row;
  const shotFstart = await makeConfiguration(session, "fstart", { objectType: "Shot" });
  const buildFstart = await makeConfiguration(session, "fstart", { objectType: "AssetBuild" });
  const hierarchicalFstart = options.hierarchicalFstart ? await makeConfiguration(session, "fstart", {}) : undefined;
  const fps = String(
    (await session.query('select id from CustomAttributeConfiguration where key is "fps"')).data[0]!.id,
  );
  return { ...made, build, shotFstart, buildFstart, hierarchicalFstart, fps };
}

const MAPPING: AttributeMapping[] = [
  { pipeline: "fps", tracker: "fps", kind: "hierarchical" },
  { pipeline: "frameStart", tracker: "fstart", kind: "standard" },
];

await storeKindsTest(
  "startTransmitter() writes a mapped attribute to the configuration of the entity's object type, and fails where it has none",
  async ({ running, store, session }) => {
    await store.setSettings("production", {
      processor: { maxRetries: 0, retryBackoffMs: 10 },
      handlers: { "sync-from-tracker": { attributes: MAPPING } },
    });
    const made = await makeProject(session, "tx", { hierarchicalFstart: true });
    const settings = SyncSettingsSchema.parse({ attributes: MAPPING });
    await fullSync({ session, store, project: "tx", settings, sender: "sync" });
    await using _transmitter = await transmitter(running, store);
    await transmitted(store, "the sync's own events to be left alone");

    await setAttributes(store, await byTracker(store, made.shot.id), { frameStart: 1050, fps: 48 });
    await setAttributes(store, await byTracker(store, made.build.id), { frameStart: 7 });
    await transmitted(store);
    strictEqual(await own(session, made.shotFstart, made.shot.id), 1050, "the Shot configuration");
    strictEqual(await own(session, made.buildFstart, made.shot.id), undefined, "not the Asset Build one");
    strictEqual(await own(session, made.hierarchicalFstart!, made.shot.id), undefined, "not the hierarchical one");
    strictEqual(await own(session, made.buildFstart, made.build.id), 7, "the asset build: its own configuration");
    strictEqual(await own(session, made.shotFstart, made.build.id), undefined);
    strictEqual(await own(session, made.fps, made.shot.id), 48, "fps: the hierarchical configuration");

    const sequence = await byTracker(store, made.sequence.id);
    await setAttributes(store, sequence, { frameStart: 990 });
    await transmitted(store);
    const job = await jobFor(store, "entity.folder.attrib_changed", sequence.id);
    strictEqual(job?.status, "failed");
    ok(
      job!.error!.message.includes("no custom attribute 'fstart' for object type 'Sequence'"),
      job!.error!.message,
    );
    ok(job!.error!.message.includes("'frameStart'"), "the pipeline attribute is named");
    strictEqual(await own(session, made.hierarchicalFstart!, made.sequence.id), undefined, "nothing written");
    strictEqual(await store.countEvents({ topic: TRANSMIT_TOPIC, status: "failed" }), 1, "only the sequence failed");

    // A folder made in the pipeline is made in the tracker; an attribute its object type has no configuration for
    // is named in the job's description, the others written.
    const project = (await store.findEntities({ type: "project", project: "tx" }))[0]!;
    const created = (await store.writeEntity({
      type: "folder",
      project: "tx",
      parentId: null,
      name: "sq020",
      attributes: { frameStart: 1001, fps: 12 },
      data: { folderType: "Sequence" },
    }, USER_WRITER)).entity;
    await transmitted(store);
    const createdJob = await jobFor(store, "entity.folder.created", created.id);
    strictEqual(createdJob?.status, "finished", createdJob?.error?.message);
    ok(
      createdJob!.description.includes("not written: no custom attribute 'fstart' for object type 'Sequence'"),
      createdJob!.description,
    );
    const trackerId = (await store.getEntity(created.id))!.trackerId!;
    const row = (await session.query(`select parent_id, object_type.name from TypedContext where id is "${trackerId}"`))
      .data[0]!;
    strictEqual(row.parent_id, project.trackerId);
    strictEqual(row.object_type.name, "Sequence");
    strictEqual(await own(session, made.fps, trackerId), 12, "fps written (hierarchical)");
  },
);

await storeKindsTest(
  "startTransmitter() with a {tracker, pipeline} mapping writes the hierarchical configuration, else the object type's",
  async ({ running, store, session }) => {
    const mapping = [{ tracker: "fstart", pipeline: "frameStart" }, { tracker: "fps", pipeline: "fps" }];
    await store.setSettings("production", {
      processor: { maxRetries: 0, retryBackoffMs: 10 },
      handlers: { "sync-from-tracker": { attributes: mapping } },
    });
    const made = await makeProject(session, "old", { hierarchicalFstart: false });
    await fullSync({
      session,
      store,
      project: "old",
      settings: SyncSettingsSchema.parse({ attributes: mapping }),
      sender: "sync",
    });
    await using _transmitter = await transmitter(running, store);
    await transmitted(store);
    await setAttributes(store, await byTracker(store, made.shot.id), { frameStart: 1060, fps: 50 });
    await setAttributes(store, await byTracker(store, made.build.id), { frameStart: 9 });
    await transmitted(store);
    strictEqual(await own(session, made.shotFstart, made.shot.id), 1060, "no hierarchical fstart: the Shot's");
    strictEqual(await own(session, made.buildFstart, made.build.id), 9, "the Asset Build's");
    strictEqual(await own(session, made.buildFstart, made.shot.id), undefined);
    strictEqual(await own(session, made.fps, made.shot.id), 50, "hierarchical fps");
    strictEqual(await store.countEvents({ topic: TRANSMIT_TOPIC, status: "failed" }), 0);
  },
);

Deno.test({
  name:
    "startTransmitter() with a standard mapping and push-hierarchical-values running: both values follow, the sync agrees, nothing loops",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    await store.setSettings("production", {
      handlers: {
        "sync-from-tracker": { attributes: [{ pipeline: "frameStart", tracker: "frameStart", kind: "standard" }] },
        "push-hierarchical-values": { attributes: ["frameStart"], objectTypes: ["Shot"] },
      },
    });
    const shotFrameStart = await makeConfiguration(session, "frameStart", { objectType: "Shot" });
    const hierarchical = String(
      (await session.query(
        'select id from CustomAttributeConfiguration where key is "frameStart" and is_hierarchical is true',
      ))
        .data[0]!.id,
    );
    await using _services = await startServices(running, store);
    await using _transmitter = await transmitter(running, store);
    const made = await makeShot(session, "push");
    await session.update("ContextCustomAttributeValue", [shotFrameStart, made.shot.id], { value: 1001 });
    await autoSyncOn(
      { session, store },
      made.project.id,
      async () => (await store.findEntities({ trackerId: made.shot.id }))[0]?.attributes.frameStart === 1001,
    );
    await settle(store);
    await transmitted(store);

    await setAttributes(store, await byTracker(store, made.shot.id), { frameStart: 1050 });
    await waitFor(
      async () => (await own(session, hierarchical, made.shot.id)) === 1050,
      "the push to the hierarchical",
    );
    const events = await settle(store);
    await transmitted(store);
    strictEqual(await own(session, shotFrameStart, made.shot.id), 1050, "the Shot configuration (the mapping's)");
    strictEqual((await byTracker(store, made.shot.id)).attributes.frameStart, 1050, "the sync reads the same value");
    await new Promise((resolve) => setTimeout(resolve, 500));
    strictEqual(await settle(store), events, "the event count settles: nothing echoes");
    strictEqual(await store.countEvents({ topic: LEECH_TOPIC }), events);
    strictEqual(await store.countEvents({ topic: TRANSMIT_TOPIC, status: "failed" }), 0);
  },
});
