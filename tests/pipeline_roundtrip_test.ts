/**
 * The round trip through every service: a shot created and a status changed in the tracker with
 * `@ftrack/api` appear in the pipeline store (leecher → processor sync); an attribute, a status
 * and a comment made with `deno task pipeline` appear in the tracker (transmitter: the comment
 * entity becomes a note and records its id); a tracker note becomes a comment entity once; the
 * event count settles (nothing loops). Both store adapters.
 */
import { ok, strictEqual } from "node:assert/strict";
import { type PipelineStore } from "../src/store/mod.ts";
import { TRANSMIT_TOPIC, TRANSMITTER_SOURCE_TOPICS } from "../services/transmitter/transmitter.ts";
import { main as pipeline } from "../scripts/pipeline.ts";
import { makeShot } from "./_tracker.ts";
import { settle, setValue, startServices, storeKindsTest, waitFor } from "./_sync.ts";
import { tempFolder } from "./_publish.ts";
import { transmitter, writePng } from "./_transmit.ts";

const byTracker = async (store: PipelineStore, trackerId: string) => (await store.findEntities({ trackerId }))[0];

await storeKindsTest(
  "round trip: tracker → pipeline → tracker without loops",
  async ({ running, place, store, session }) => {
    await using _services = await startServices(running, store);
    await using _transmitter = await transmitter(running, store);
    const { project, sequence, task } = await makeShot(session, "round");
    await setValue(session, "ferry_auto_sync", project.id, true);
    await waitFor(async () => (await byTracker(store, task.id)) !== undefined, "the full sync");

    // Tracker → pipeline.
    const shot = (await session.create("Shot", { name: "sh020", parent_id: sequence.id })).data;
    const revise = (await session.query('select id from Status where name is "Revise"')).data[0]!;
    await session.update("Task", [task.id], { status_id: revise.id });
    await waitFor(async () => (await byTracker(store, shot.id))?.name === "sh020", "the new shot in the pipeline");
    await waitFor(async () => (await byTracker(store, task.id))?.status === "Revise", "the status in the pipeline");

    // Pipeline → tracker, through the command.
    const out: string[] = [];
    const run = (...args: string[]) => pipeline([...args, "--store", place.location], (text) => out.push(text));
    strictEqual(await run("set", "round", "/sq010/sh020", "fps=50", "frameStart=1009"), 0);
    strictEqual(await run("status", "round", "/sq010/sh010/lighting", "approved"), 0);
    strictEqual(await run("comment", "round", "/sq010/sh010/lighting", "Lovely rim light"), 0);
    strictEqual(await run("status", "round", "/sq010/sh010/lighting", "Nonsense"), 1, "an unknown status is refused");
    const customValue = async (key: string, id: string) =>
      (await session.query(
        `select value from ContextCustomAttributeValue where configuration.key is "${key}" and entity_id is "${id}"`,
      )).data[0]?.value;
    await waitFor(async () => (await customValue("fps", shot.id)) === 50, "the attribute in the tracker");
    strictEqual(await customValue("frameStart", shot.id), 1009);
    await waitFor(
      async () =>
        (await session.query(`select status.name from Task where id is "${task.id}"`)).data[0]!.status.name ===
          "Approved",
      "the status in the tracker",
    );
    await waitFor(
      async () =>
        (await session.query(`select content from Note where parent_id is "${task.id}"`)).data.some((note) =>
          note.content === "Lovely rim light"
        ),
      "the comment as a note",
    );

    // A thumbnail and a list through the command reach the tracker too.
    await using images = await tempFolder("ferry-round-");
    const image = await writePng(images.path, "sh020", [120, 80, 40]);
    strictEqual(await run("thumbnail", "round", "/sq010/sh020", image), 0);
    strictEqual(await run("lists", "create", "round", "to light", "/sq010/sh020", "--type", "context"), 0);
    await waitFor(
      async () => (await session.query(`select thumbnail_id from Shot where id is "${shot.id}"`)).data[0]!.thumbnail_id,
      "the thumbnail in the tracker",
    );
    await waitFor(
      async () =>
        (await session.query(`select items.id from TypedContextList where name is "to light"`)).data[0]?.items
          ?.[0]?.id === shot.id,
      "the list in the tracker",
    ).catch(async (error) => {
      const failed = await store.listEvents({ topic: TRANSMIT_TOPIC, status: "failed" });
      const lists = (await session.query("select name, items from TypedContextList")).data;
      throw new Error(
        `${error.message}: ${JSON.stringify(failed.map((f) => f.error?.message))} ${JSON.stringify(lists)}`,
      );
    });

    // Nothing echoes: the queues empty and the count of tracker events stops growing.
    const transmitted = () => store.queueDepth(TRANSMITTER_SOURCE_TOPICS, TRANSMIT_TOPIC);
    await waitFor(async () => (await transmitted()) === 0, "the transmitter's queue");
    const first = await settle(store);
    await new Promise((resolve) => setTimeout(resolve, 700));
    strictEqual(await settle(store), first, "the tracker event count settles");
    strictEqual(await transmitted(), 0, "no pipeline change waits");
    strictEqual((await byTracker(store, task.id))!.status, "Approved", "the pipeline keeps its status");
    strictEqual((await byTracker(store, shot.id))!.attributes.fps, 50);
    strictEqual((await store.findEntities({ project: "round", type: "list" })).length, 1, "the list came back once");
    const notes = (await session.query(`select id from Note where parent_id is "${task.id}"`)).data;
    strictEqual(notes.length, 1, "the comment is not duplicated");
    strictEqual(await store.countEvents({ topic: "entity.comment.created" }), 1, "its note is not recorded back");
    const [pipelineComment] = await store.findEntities({ project: "round", type: "comment" });
    strictEqual(pipelineComment!.trackerId, notes[0]!.id, "the comment knows its note");
    strictEqual(pipelineComment!.parentId, (await byTracker(store, task.id))!.id);

    // A note written in the tracker becomes a pipeline comment, once.
    const note = (await session.create("Note", { content: "Check the edge", parent_id: shot.id, parent_type: "Shot" }))
      .data;
    await waitFor(async () => (await store.countEvents({ topic: "entity.comment.created" })) === 2, "the note");
    const [comment] = await store.listEvents({ topic: "entity.comment.created", newestFirst: true, limit: 1 });
    const recorded = (await store.findEntities({ trackerId: note.id }))[0]!;
    strictEqual(recorded.type, "comment");
    strictEqual(recorded.data.text, "Check the edge");
    strictEqual(recorded.parentId, (await byTracker(store, shot.id))!.id);
    strictEqual(comment!.senderType, "tracker");
    await settle(store);
    strictEqual((await session.query(`select id from Note where parent_id is "${shot.id}"`)).data.length, 1);
    ok(await store.countEvents({ topic: TRANSMIT_TOPIC, status: "finished" }) >= 3);
  },
);
