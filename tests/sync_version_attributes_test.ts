/**
 * A tracker AssetVersion's mapped custom attributes → the pipeline version's attributes, on the
 * embedded tracker with both store adapters (PostgreSQL skipped loudly when unreachable): a full
 * sync reads the key's AssetVersion configuration (no `objectTypes` needed), a mapping naming
 * `AssetVersion` reads even a hierarchical key, a mapping limited to other object types or a key
 * with no AssetVersion configuration does not apply; an incremental change of one version's
 * value reaches only that version; a value set in the pipeline goes to the tracker through the
 * transmitter and comes back as one value, nothing looping.
 */
import { ok, strictEqual } from "node:assert/strict";
import type { Session } from "@ftrack/api";
import type { Entity, EntityInput, PipelineStore } from "../src/store/mod.ts";
import { LEECH_TOPIC } from "../src/store/mod.ts";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { readVersions } from "../src/sync/tracker_versions.ts";
import { type AttributeMapping, SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import { TRANSMIT_TOPIC } from "../services/transmitter/transmitter.ts";
import { makeShot } from "./_tracker.ts";
import {
  autoSyncOn,
  makeVersion,
  settle,
  setValue,
  startServices,
  storeKindsTest,
  trackerAndStore,
  waitFor,
} from "./_sync.ts";
import { transmitted, transmitter, USER_WRITER } from "./_transmit.ts";

const byTracker = async (store: PipelineStore, trackerId: string): Promise<Entity | undefined> =>
  (await store.findEntities({ trackerId }))[0];

/** A per-object-type number configuration of AssetVersions (`entity_type: "assetversion"`). */
async function versionConfiguration(session: Session, key: string): Promise<string> {
  const type = (await session.query('select id from CustomAttributeType where name is "number"')).data[0]!;
  const created = await session.create("CustomAttributeConfiguration", {
    key,
    label: `${key} (version)`,
    entity_type: "assetversion",
    object_type_id: null,
    is_hierarchical: false,
    type_id: type.id,
    config: JSON.stringify({ isdecimal: true }),
    default: null,
  });
  return String(created.data.id);
}

/** Sets a version's own value of a configuration. */
const setVersionValue = (session: Session, configuration: string, versionId: string, value: unknown) =>
  session.update("AssetVersionCustomAttributeValue", [configuration, versionId], { value });

/** The own value of one configuration on an entity (undefined: none stored). */
async function own(session: Session, configuration: string, entityId: string): Promise<unknown> {
  return (await session.query(
    `select value from CustomAttributeValue where configuration_id is "${configuration}" and entity_id is "${entityId}"`,
  )).data[0]?.value;
}

/**
 * A shot with two versions of `beauty`; `vfps` and `take` AssetVersion configurations with values
 * on the first version (`vfps` on the second too); the hierarchical `fps` 30 on the sequence.
 */
async function makeProject(session: Session, name: string) {
  const made = await makeShot(session, name);
  const vfps = await versionConfiguration(session, "vfps");
  const take = await versionConfiguration(session, "take");
  const first = await makeVersion(session, { contextId: made.shot.id, taskId: made.task.id, comment: "first look" });
  const second = await makeVersion(session, { contextId: made.shot.id, version: 2 });
  await setVersionValue(session, vfps, first.versionId, 23.976);
  await setVersionValue(session, vfps, second.versionId, 25);
  await setVersionValue(session, take, first.versionId, 3);
  await setValue(session, "fps", made.sequence.id, 30);
  return { ...made, vfps, take, first, second };
}

const MAPPING: AttributeMapping[] = [
  // No objectTypes: applies to versions because `vfps` has an AssetVersion configuration.
  { pipeline: "fps", tracker: "vfps" },
  // Limited to shots: not read on versions, though `take` has an AssetVersion configuration with a value.
  { pipeline: "take", tracker: "take", objectTypes: ["Shot"] },
  // No objectTypes, only a hierarchical configuration: not a version's own value, not read on versions.
  { pipeline: "shotFps", tracker: "fps" },
  // Naming AssetVersion: read on versions whatever the configuration (here the inherited hierarchical value).
  { pipeline: "contextFps", tracker: "fps", kind: "hierarchical", objectTypes: ["AssetVersion"] },
];

await storeKindsTest(
  "fullSync() reads a version's mapped custom attributes: its AssetVersion configuration's, mappings naming AssetVersion, not those limited to other types",
  async ({ store, session }) => {
    const made = await makeProject(session, "vattrs");
    const settings = SyncSettingsSchema.parse({ attributes: MAPPING });
    const report = await fullSync({ session, store, project: "vattrs", settings, sender: "test-sync" });
    strictEqual(
      report.skipped.filter((item) => item.kind === "attribute").length,
      0,
      "AssetVersion is an object type mappings may name",
    );

    const first = (await byTracker(store, made.first.versionId))!;
    const second = (await byTracker(store, made.second.versionId))!;
    strictEqual(first.type, "version");
    strictEqual(first.attributes.fps, 23.976, "the version's own vfps");
    strictEqual(second.attributes.fps, 25, "each version its own");
    strictEqual(first.attributes.take, undefined, "a mapping limited to Shot does not apply to versions");
    strictEqual(first.attributes.shotFps, undefined, "a hierarchical-only key without objectTypes: not read");
    strictEqual(first.attributes.contextFps, 30, "objectTypes naming AssetVersion: read (inherited)");
    strictEqual(first.attributes.comment, "first look", "the comment is kept");
    strictEqual(first.attributes.description, "first look");
    const shot = (await byTracker(store, made.shot.id))!;
    strictEqual(shot.attributes.shotFps, 30, "the shot reads the hierarchical mapping");
    strictEqual(shot.attributes.fps, undefined, "a shot has no vfps");

    // A second full sync with nothing changed writes nothing.
    const again = await fullSync({ session, store, project: "vattrs", settings, sender: "test-sync" });
    strictEqual(again.updated.length, 0, `nothing updated: ${again.updated.join(", ")}`);
    strictEqual((await byTracker(store, made.first.versionId))!.updatedAt, first.updatedAt);
  },
);

await storeKindsTest(
  "sync-from-tracker handler: a version's custom attribute change updates only that version, a Shot-only mapping stays out",
  async ({ running, store, session }) => {
    await store.setSettings("production", { handlers: { "sync-from-tracker": { attributes: MAPPING } } });
    const made = await makeProject(session, "vinc");
    await using _services = await startServices(running, store);
    await autoSyncOn({ session, store }, made.project.id, made.second.versionId);
    await settle(store);
    const second = (await byTracker(store, made.second.versionId))!;
    strictEqual(second.attributes.fps, 25);

    await setVersionValue(session, made.vfps, made.first.versionId, 48);
    await waitFor(
      async () => (await byTracker(store, made.first.versionId))?.attributes.fps === 48,
      "the first version's new fps",
    );
    await setVersionValue(session, made.take, made.first.versionId, 4);
    await settle(store);
    const first = (await byTracker(store, made.first.versionId))!;
    strictEqual(first.attributes.fps, 48);
    strictEqual(first.attributes.take, undefined, "the Shot-only mapping is not read on the version");
    strictEqual(first.attributes.comment, "first look");
    const after = (await byTracker(store, made.second.versionId))!;
    strictEqual(after.attributes.fps, 25, "the other version keeps its own");
    strictEqual(after.updatedAt, second.updatedAt, "the other version is not written at all");
  },
);

/** `entity` as a write input with `attributes` set over its own. */
const withAttributes = (entity: Entity, attributes: Record<string, unknown>): EntityInput =>
  ({ ...entity, attributes: { ...entity.attributes, ...attributes } }) as EntityInput;

Deno.test({
  name:
    "startTransmitter() and the sync: a version attribute set in the pipeline reaches the tracker and comes back as one value, nothing loops",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    await store.setSettings("production", { handlers: { "sync-from-tracker": { attributes: MAPPING } } });
    const made = await makeProject(session, "vround");
    await using _services = await startServices(running, store);
    await using _transmitter = await transmitter(running, store);
    await autoSyncOn(
      { session, store },
      made.project.id,
      async () => (await byTracker(store, made.first.versionId))?.attributes.fps === 23.976,
    );
    await settle(store);
    await transmitted(store);

    // Pipeline → transmitter → tracker → sync (a no-op: the value is the pipeline's already).
    const version = (await byTracker(store, made.first.versionId))!;
    const { entity: written } = await store.writeEntity(
      withAttributes(version, { fps: 50 }),
      USER_WRITER,
    );
    await waitFor(async () => (await own(session, made.vfps, made.first.versionId)) === 50, "the tracker's vfps");
    const events = await settle(store);
    await transmitted(store);
    const back = (await byTracker(store, made.first.versionId))!;
    strictEqual(back.attributes.fps, 50, "one value on both sides");
    strictEqual(back.updatedAt, written.updatedAt, "the sync wrote nothing back");
    await new Promise((resolve) => setTimeout(resolve, 500));
    strictEqual(await settle(store), events, "the event count settles: nothing echoes");
    strictEqual(await store.countEvents({ topic: LEECH_TOPIC }), events);

    // Tracker → sync → pipeline: the sync's write (sender type tracker) is not carried back.
    await setVersionValue(session, made.vfps, made.first.versionId, 60);
    await waitFor(
      async () => (await byTracker(store, made.first.versionId))?.attributes.fps === 60,
      "the tracker's change in the pipeline",
    );
    const later = await settle(store);
    await transmitted(store);
    strictEqual(await own(session, made.vfps, made.first.versionId), 60, "the tracker keeps its value");
    ok(later > events, "the tracker's change was one more event");
    await new Promise((resolve) => setTimeout(resolve, 500));
    strictEqual(await settle(store), later, "and nothing after it");
    strictEqual(await store.countEvents({ topic: TRANSMIT_TOPIC, status: "failed" }), 0, "no transmitter job failed");

    // A mapping that is not a version's (`shotFps`: a hierarchical key, no objectTypes) is kept in the
    // pipeline: nothing is written on the tracker's AssetVersion, and the job says so.
    const hierarchical = String(
      (await session.query(
        'select id from CustomAttributeConfiguration where key is "fps" and is_hierarchical is true',
      ))
        .data[0]!.id,
    );
    const current = (await byTracker(store, made.first.versionId))!;
    await store.writeEntity(
      withAttributes(current, { shotFps: 12 }),
      USER_WRITER,
    );
    await transmitted(store);
    strictEqual(
      await own(session, hierarchical, made.first.versionId),
      undefined,
      "no hierarchical value on the version",
    );
    const jobs = await store.listEvents({ topic: TRANSMIT_TOPIC, limit: 1000, newestFirst: true });
    ok(
      jobs.some((job) => job.description.includes("kept in the pipeline (no tracker version attribute): shotFps")),
      JSON.stringify(jobs.slice(0, 3).map((job) => job.description)),
    );
    strictEqual(await store.countEvents({ topic: TRANSMIT_TOPIC, status: "failed" }), 0, "and it does not fail");
  },
});

/** Records the query expressions `session` sends from now on (the real session still answers them). */
function recordQueries(session: Session): string[] {
  const expressions: string[] = [];
  const query = session.query.bind(session);
  (session as { query: (expression: string, ...rest: unknown[]) => unknown }).query = (expression, ...rest) => {
    expressions.push(expression);
    return (query as (expression: string, ...rest: unknown[]) => unknown)(expression, ...rest);
  };
  return expressions;
}

Deno.test({
  name:
    "readVersions() and fullSync() ask for versions' custom attributes only when a mapping can apply to versions, values still synced",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { store, session } = fixture;
    const made = await makeProject(session, "vquery");
    const expressions = recordQueries(session);
    const versionQueries = () => expressions.filter((expression) => /\bfrom AssetVersion\b/.test(expression));

    // The default mappings (hierarchical fps, frames …, none with an AssetVersion configuration).
    const defaults = SyncSettingsSchema.parse({});
    await fullSync({ session, store, project: "vquery", settings: defaults, sender: "test-sync" });
    ok(versionQueries().length > 0, "the full sync read the versions");
    ok(!versionQueries().some((e) => e.includes("custom_attributes")), versionQueries().join("\n"));
    const first = (await byTracker(store, made.first.versionId))!;
    strictEqual(first.type, "version", "the versions are synced all the same");
    strictEqual(first.attributes.fps, undefined);
    strictEqual(first.attributes.comment, "first look");

    expressions.length = 0;
    const ids = { assetIds: [], versionIds: [made.first.versionId] };
    const plain = await readVersions(session, ids, { mappings: defaults.attributes });
    strictEqual(plain.versions[0]!.id, made.first.versionId);
    const shotOnly = [{ pipeline: "take", tracker: "take", objectTypes: ["Shot"] }];
    await readVersions(session, ids, { mappings: shotOnly });
    ok(!versionQueries().some((e) => e.includes("custom_attributes")), "incremental reads: none asked for either");

    // A mapping applying to versions (`vfps` has an AssetVersion configuration): asked for and synced.
    expressions.length = 0;
    const read = await readVersions(session, ids, { mappings: [{ pipeline: "fps", tracker: "vfps" }] });
    ok(versionQueries().some((e) => e.includes("custom_attributes")));
    strictEqual(read.versions[0]!.sources.standard.vfps, 23.976);
    const named = [{ pipeline: "contextFps", tracker: "fps", objectTypes: ["AssetVersion"] }];
    expressions.length = 0;
    await readVersions(session, ids, { mappings: named });
    ok(versionQueries().some((e) => e.includes("custom_attributes")), "a mapping naming AssetVersion asks for them");

    expressions.length = 0;
    const settings = SyncSettingsSchema.parse({ attributes: MAPPING });
    await fullSync({ session, store, project: "vquery", settings, sender: "test-sync" });
    ok(versionQueries().some((e) => e.includes("custom_attributes")));
    strictEqual((await byTracker(store, made.first.versionId))!.attributes.fps, 23.976, "the version's own vfps");
    strictEqual((await byTracker(store, made.second.versionId))!.attributes.fps, 25);
  },
});
