/**
 * Mapped attributes, hierarchical or per object type, tracker → pipeline, on the embedded tracker
 * with both store adapters (PostgreSQL skipped loudly when unreachable): the settings' shapes and
 * their errors; a full sync reading a hierarchical `fps` and each entity's own per-object-type
 * `fstart` (Shot, Asset Build); the hierarchical value winning where a key has both and the
 * mapping does not say; the old `{tracker, pipeline}` shape; project defaults; an incremental
 * change of one shot's `fstart` reaching only that shot; a hierarchical change on a sequence or
 * the project reaching the entities below that inherit it.
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import type { Session } from "@ftrack/api";
import type { PipelineStore } from "../src/store/mod.ts";
import { parseSettings } from "../src/store/settings.ts";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { type AttributeMapping, syncSettingsOf, SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import { makeShot } from "./_tracker.ts";
import { autoSyncOn, settle, setValue, startServices, storeKindsTest, waitFor } from "./_sync.ts";
import { makeConfiguration } from "./_attributes.ts";

// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;

const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0];
const projectIn = async (store: PipelineStore, project: string) =>
  (await store.findEntities({ type: "project", project }))[0]!;

/**
 * A project `name` with a sequence, two shots, a lighting task and an asset build; per-object-type
 * `fstart` on Shot and on Asset Build (each entity its own value), a hierarchical and a Shot
 * `fend` (the key with both), a hierarchical `fps`.
 */
async function makeProject(session: Session, name: string) {
  const made = await makeShot(session, name);
  const shot2 = (await session.create("Shot", { name: "sh020", parent_id: made.sequence.id })).data as Row;
  const build = (await session.create("AssetBuild", { name: "hero", parent_id: made.project.id })).data as Row;
  const shotFstart = await makeConfiguration(session, "fstart", { objectType: "Shot" });
  const buildFstart = await makeConfiguration(session, "fstart", { objectType: "AssetBuild" });
  const fendHierarchical = await makeConfiguration(session, "fend", {});
  const fendShot = await makeConfiguration(session, "fend", { objectType: "Shot" });
  const value = (configuration: string, id: string, v: unknown) =>
    session.update("ContextCustomAttributeValue", [configuration, id], { value: v });
  await value(shotFstart, made.shot.id, 1010);
  await value(shotFstart, shot2.id, 1020);
  await value(buildFstart, build.id, 5);
  await value(fendHierarchical, made.sequence.id, 1200);
  await value(fendShot, made.shot.id, 1111);
  await setValue(session, "fps", made.sequence.id, 30);
  return { ...made, shot2, build, shotFstart, buildFstart, fendHierarchical, fendShot };
}

const MAPPING: AttributeMapping[] = [
  { pipeline: "fps", tracker: "fps", kind: "hierarchical" },
  { pipeline: "frameStart", tracker: "fstart", kind: "standard", objectTypes: ["Shot", "Asset Build"] },
  { pipeline: "frameEnd", tracker: "fend" },
  { pipeline: "shotEnd", tracker: "fend", kind: "standard" },
];

Deno.test("syncSettingsOf() reads hierarchical and per-object-type mappings, and the old {tracker, pipeline} shape", () => {
  const settings = syncSettingsOf(parseSettings({
    handlers: {
      "sync-from-tracker": {
        attributes: [{ tracker: "fps", pipeline: "fps" }, {
          pipeline: "frameStart",
          tracker: "fstart",
          kind: "standard",
          objectTypes: ["Shot"],
        }],
      },
    },
  }, "t"));
  deepStrictEqual(settings.attributes, [
    { tracker: "fps", pipeline: "fps" },
    { pipeline: "frameStart", tracker: "fstart", kind: "standard", objectTypes: ["Shot"] },
  ]);
  ok(SyncSettingsSchema.parse({}).attributes.every((mapping) => mapping.kind === undefined), "defaults: no kind");
});

Deno.test("syncSettingsOf() refuses a bad mapping, naming the field and the value", () => {
  const of = (mapping: unknown) => () =>
    syncSettingsOf(parseSettings({ handlers: { "sync-from-tracker": { attributes: [mapping] } } }, "t"));
  throws(of({ pipeline: "frameStart", tracker: "fstart", kind: "per-type" }), (error: Error) => {
    ok(error instanceof TypeError);
    ok(error.message.includes('handlers.sync-from-tracker.attributes.0.kind "per-type"'), error.message);
    ok(error.message.includes('is neither "hierarchical" nor "standard"'), error.message);
    return true;
  });
  throws(
    of({ pipeline: "frameStart", tracker: "fstart", objectTypes: [] }),
    /attributes\.0\.objectTypes \[\]: is empty/,
  );
  throws(of({ pipeline: "frameStart", tracker: "" }), /attributes\.0\.tracker "": is empty/);
  throws(
    of({ name: "frameStart", attr_type: "standard", hierarchical: "frameStart", standard: ["fstart"] }),
    /attributes\.0 \{"name":"frameStart".*\}: is ayon-ftrack's attributes_mapping shape: write \{"pipeline": name, "tracker": key, "kind": attr_type\}/,
  );
});

await storeKindsTest(
  "fullSync() reads each mapping's configuration: hierarchical, the entity's own object type's, hierarchical first",
  async ({ store, session }) => {
    const made = await makeProject(session, "mapped");
    const settings = SyncSettingsSchema.parse({
      attributes: [...MAPPING, { pipeline: "clipIn", tracker: "fstart", objectTypes: ["Shoot"] }],
    });
    const report = await fullSync({ session, store, project: "mapped", settings, sender: "test-sync" });
    ok(
      report.skipped.some((item) =>
        item.kind === "attribute" && item.reason.includes("'clipIn' names object type 'Shoot', which the tracker")
      ),
      "a mapping's unknown object type is reported",
    );

    const shot = (await byTracker(store, made.shot.id))!;
    const shot2 = (await byTracker(store, made.shot2.id))!;
    const build = (await byTracker(store, made.build.id))!;
    const sequence = (await byTracker(store, made.sequence.id))!;
    const task = (await byTracker(store, made.task.id))!;
    const project = await projectIn(store, "mapped");
    strictEqual(shot.attributes.frameStart, 1010, "the Shot configuration's value");
    strictEqual(shot2.attributes.frameStart, 1020, "each shot its own");
    strictEqual(build.attributes.frameStart, 5, "the Asset Build configuration's value");
    strictEqual(sequence.attributes.frameStart, undefined, "a Sequence has no fstart");
    strictEqual(task.attributes.frameStart, undefined, "a Task has none either (not inherited: per object type)");
    strictEqual(shot.attributes.fps, 30, "hierarchical: inherited from the sequence");
    strictEqual(task.attributes.fps, 30);
    strictEqual(build.attributes.fps, 24, "hierarchical: the configuration's default");
    strictEqual(shot.attributes.frameEnd, 1200, "no kind: the hierarchical value wins over the Shot's 1111");
    strictEqual(shot.attributes.shotEnd, 1111, "standard: the Shot's own");
    strictEqual(sequence.attributes.shotEnd, undefined);
    strictEqual(shot.attributes.clipIn, undefined, "mapped for an object type no entity has");
    // Project level: the defaults for mapped attributes the tracker leaves empty.
    strictEqual(project.attributes.frameStart, 1001, "default");
    strictEqual(project.attributes.fps, 24, "the tracker's value");
  },
);

await storeKindsTest(
  "fullSync() with {tracker, pipeline} mappings reads the hierarchical value, else the per-object-type one",
  async ({ store, session }) => {
    const made = await makeProject(session, "legacy");
    const settings = SyncSettingsSchema.parse({
      attributes: [
        { tracker: "fstart", pipeline: "frameStart" },
        { tracker: "fend", pipeline: "frameEnd" },
        { tracker: "fps", pipeline: "fps" },
      ],
      defaults: { frameStart: 1, fps: 25 },
    });
    await fullSync({ session, store, project: "legacy", settings, sender: "test-sync" });
    const shot = (await byTracker(store, made.shot.id))!;
    strictEqual(shot.attributes.frameStart, 1010, "only a per-object-type fstart: read");
    strictEqual((await byTracker(store, made.build.id))!.attributes.frameStart, 5);
    strictEqual(shot.attributes.frameEnd, 1200, "both: the hierarchical one");
    strictEqual(shot.attributes.fps, 30);
    const project = await projectIn(store, "legacy");
    strictEqual(project.attributes.frameStart, 1, "the project's default");
    strictEqual(project.attributes.fps, 24, "the tracker's value over the default");
  },
);

await storeKindsTest(
  "sync-from-tracker handler: a per-object-type change reaches only its entity, a hierarchical one those inheriting it",
  async ({ running, store, session }) => {
    await store.setSettings("production", { handlers: { "sync-from-tracker": { attributes: MAPPING } } });
    const made = await makeProject(session, "inc");
    await using _services = await startServices(running, store);
    await autoSyncOn({ session, store }, made.project.id, made.build.id);
    await settle(store);
    const before = {
      shot2: (await byTracker(store, made.shot2.id))!,
      build: (await byTracker(store, made.build.id))!,
    };
    strictEqual(before.build.attributes.frameStart, 5);

    await session.update("ContextCustomAttributeValue", [made.shotFstart, made.shot.id], { value: 1015 });
    await waitFor(
      async () => (await byTracker(store, made.shot.id))?.attributes.frameStart === 1015,
      "the shot's new frameStart",
    );
    await session.update("ContextCustomAttributeValue", [made.buildFstart, made.build.id], { value: 7 });
    await waitFor(
      async () => (await byTracker(store, made.build.id))?.attributes.frameStart === 7,
      "the asset build's new frameStart",
    );
    await settle(store);
    const shot2 = (await byTracker(store, made.shot2.id))!;
    strictEqual(shot2.attributes.frameStart, 1020, "the other shot keeps its own");
    strictEqual(shot2.updatedAt, before.shot2.updatedAt, "the other shot is not written at all");
    strictEqual((await byTracker(store, made.shot.id))!.attributes.frameStart, 1015);
    const task = (await byTracker(store, made.task.id))!;
    strictEqual(task.attributes.frameStart, undefined, "its task has no fstart of its own");

    // A hierarchical value changed on the sequence: the shots and the task below inherit it.
    strictEqual(task.attributes.fps, 30);
    await setValue(session, "fps", made.sequence.id, 60);
    await waitFor(
      async () => (await byTracker(store, made.task.id))?.attributes.fps === 60,
      "the task's inherited fps",
    );
    await settle(store);
    strictEqual((await byTracker(store, made.shot2.id))!.attributes.fps, 60, "the other shot inherits it too");
    strictEqual((await byTracker(store, made.build.id))!.attributes.fps, 24, "not under the sequence: unchanged");
    // On the project: the project and every entity inheriting it (the asset build), not those with their own.
    await setValue(session, "fps", made.project.id, 25);
    await waitFor(async () => (await byTracker(store, made.build.id))?.attributes.fps === 25, "the build's fps");
    await settle(store);
    const project = await projectIn(store, "inc");
    strictEqual(project.attributes.fps, 25);
    strictEqual((await byTracker(store, made.shot.id))!.attributes.fps, 60, "the sequence's own value still wins");
  },
);
