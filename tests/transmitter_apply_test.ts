/**
 * The transmitter on the embedded tracker with the store on SQLite (and PostgreSQL): pipeline
 * changes reach the tracker (status by the workflow's names, attributes, dates, description,
 * assignees, rename, move, creation, deletion); writes on the tracker's behalf are not echoed;
 * unappliable changes end failed with the reason; the settings switch creation and the whole
 * transmitter off.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { Session } from "@ftrack/api";
import type { Entity, EntityInput, PipelineStore } from "../src/store/mod.ts";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import { TRANSMIT_TOPIC } from "../services/transmitter/transmitter.ts";
import { makeShot } from "./_tracker.ts";
import { storeKindsTest, waitFor } from "./_sync.ts";
import { transmitter } from "./_transmit.ts";

const user = { sender: "studio-tool", senderType: "user" };
const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0]!;
const write = (store: PipelineStore, entity: Entity, change: Partial<Entity>) =>
  store.writeEntity({ ...entity, ...change } as EntityInput, user);

async function trackerRow(session: Session, id: string, fields = "name, parent_id, status.name, description") {
  return (await session.query(`select ${fields} from TypedContext where id is "${id}"`)).data[0];
}

await storeKindsTest(
  "startTransmitter() carries pipeline changes to the tracker and fails unappliable ones with the reason",
  async ({ running, store, session }) => {
    await store.setSettings("production", { processor: { maxRetries: 0, retryBackoffMs: 10 } });
    const { shot, task, sequence } = await makeShot(session, "tx");
    await fullSync({ session, store, project: "tx", settings: SyncSettingsSchema.parse({}), sender: "sync" });
    const settled = async () =>
      (await store.queueDepth(
        (await import("../services/transmitter/transmitter.ts")).TRANSMITTER_SOURCE_TOPICS,
        TRANSMIT_TOPIC,
        { maxRetries: 0 },
      )) === 0;
    await using _transmitter = await transmitter(running, store);
    await waitFor(settled, "the sync's own events to be left alone");
    strictEqual(await store.countEvents({ topic: TRANSMIT_TOPIC }), 0, "events of sender type tracker are ignored");

    const pipelineTask = await byTracker(store, task.id);
    const username = String((await session.query("select username from User")).data[0]!.username);
    await write(store, pipelineTask, {
      status: "approved",
      assignees: [username],
      attributes: { ...pipelineTask.attributes, description: "from the pipeline", fps: 48 },
    });
    const pipelineShot = await byTracker(store, shot.id);
    await write(store, pipelineShot, { name: "sh010_pipe" });
    await waitFor(settled, "the changes to be applied");
    const row = await trackerRow(session, task.id);
    strictEqual(row!.status.name, "Approved", "matched case-insensitively among the workflow's statuses");
    strictEqual(row!.description, "from the pipeline");
    const fps = (await session.query(
      `select value from ContextCustomAttributeValue where configuration.key is "fps" and entity_id is "${task.id}"`,
    )).data[0];
    strictEqual(fps!.value, 48);
    const appointments = (await session.query(
      `select resource.username from Appointment where context_id is "${task.id}"`,
    )).data;
    deepStrictEqual(appointments.map((a) => a.resource.username), [username]);
    strictEqual((await trackerRow(session, shot.id))!.name, "sh010_pipe");

    // Created and deleted in the pipeline: created and deleted in the tracker.
    const pipelineSequence = await byTracker(store, sequence.id);
    const { entity: created } = await store.writeEntity({
      type: "folder",
      project: "tx",
      parentId: pipelineSequence.id,
      name: "sh050",
      status: "In progress",
      data: { folderType: "Shot" },
      attributes: { frameStart: 1010 },
    }, user);
    await waitFor(async () => (await store.getEntity(created.id))!.trackerId !== null, "the creation");
    const createdId = (await store.getEntity(created.id))!.trackerId!;
    const createdRow = await trackerRow(session, createdId, "name, parent_id, object_type.name, status.name");
    strictEqual(createdRow!.object_type.name, "Shot");
    strictEqual(createdRow!.parent_id, sequence.id);
    strictEqual(createdRow!.status.name, "In progress");
    const ferryId = (await session.query(
      `select value from ContextCustomAttributeValue where configuration.key is "ferry_id" and entity_id is "${createdId}"`,
    )).data[0];
    strictEqual(ferryId!.value, created.id, "the tracker knows the pipeline id");
    await store.deleteEntity(created.id, user);
    await waitFor(async () => (await trackerRow(session, createdId)) === undefined, "the deletion");

    // Unappliable: an unknown status, a user the tracker does not have.
    await write(store, await byTracker(store, task.id), { status: "Nonsense" });
    await write(store, await byTracker(store, task.id), { assignees: ["ghost@example.com"] });
    await waitFor(
      async () => (await store.countEvents({ topic: TRANSMIT_TOPIC, status: "failed" })) === 2,
      "failures",
    );
    const failures = await store.listEvents({ topic: TRANSMIT_TOPIC, status: "failed" });
    ok(
      failures.some((f) =>
        /status 'Nonsense' is not one the workflow of tracker entity .* allows/.test(f.error!.message)
      ),
    );
    ok(failures.some((f) => /no tracker user has the email or username 'ghost@example.com'/.test(f.error!.message)));

    // Settings: creation off, then the transmitter off for the project.
    await store.setSettings("production", { handlers: { transmitter: { createDeleted: false } } }, { project: "tx" });
    const { entity: notCarried } = await store.writeEntity({
      type: "folder",
      project: "tx",
      parentId: pipelineSequence.id,
      name: "sh060",
    }, user);
    await waitFor(settled, "the creation job");
    strictEqual((await store.getEntity(notCarried.id))!.trackerId, null, "creation off: not created");
    ok((await store.listEvents({ topic: TRANSMIT_TOPIC, newestFirst: true, limit: 1 }))[0]!.description.includes(
      "creation not carried",
    ));
    await store.setSettings("production", { handlers: { transmitter: { enabled: false } } }, { project: "tx" });
    await write(store, pipelineShot, { name: "sh010_off" });
    await waitFor(settled, "the last jobs");
    strictEqual((await trackerRow(session, shot.id))!.name, "sh010_pipe", "transmitter off: not renamed");
  },
);
