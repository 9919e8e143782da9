/**
 * One suite for the pipeline store, run against both adapters: SQLite (a file) and PostgreSQL
 * (a schema of its own on the test server; skipped loudly when unreachable).
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { type EntityInput, type PipelineStore, SCHEMA_VERSION, StoreVersionError } from "../src/store/mod.ts";
import { storeKinds, type StoreSite } from "./_store.ts";

const SRC = "tracker.leech";
const JOB = "tracker.proc";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function leech(
  store: PipelineStore,
  hash: string,
  project: string | null = "demo",
  senderType: string | null = "tracker",
) {
  return (await store.dispatch({ topic: SRC, hash, project, sender: "leecher", senderType, payload: { id: hash } }))
    .event;
}

for (const { kind, site, ignore } of await storeKinds()) {
  const suite = (name: string, fn: (store: PipelineStore, place: StoreSite) => Promise<void>) =>
    Deno.test({
      name: `PipelineStore (${kind}) ${name}`,
      ignore,
      fn: async () => {
        await using place = await site();
        await using store = await place.open();
        await fn(store, place);
      },
    });

  suite("dispatch() stores an event once per hash and reports the duplicate", async (store) => {
    const first = await store.dispatch({
      topic: SRC,
      hash: "ftrack-1",
      sender: "leecher@a",
      senderType: "tracker",
      project: "demo",
      payload: { topic: "ftrack.update", data: { n: 1 } },
      description: "Leeched ftrack.update",
    });
    strictEqual(first.duplicate, false);
    strictEqual(first.event.status, "finished");
    deepStrictEqual(first.event.payload, { topic: "ftrack.update", data: { n: 1 } });
    const again = await store.dispatch({ topic: SRC, hash: "ftrack-1", sender: "leecher@b", payload: { other: true } });
    strictEqual(again.duplicate, true);
    strictEqual(again.event.id, first.event.id);
    strictEqual(again.event.sender, "leecher@a");
    strictEqual(await store.countEvents({ topic: SRC }), 1);
    const loaded = await store.getEvent(first.event.id);
    strictEqual(loaded?.senderType, "tracker");
    strictEqual(loaded?.description, "Leeched ftrack.update");
    ok(loaded!.createdAt > 0 && loaded!.updatedAt >= loaded!.createdAt);
    const noHash = await store.dispatch({ topic: "log.error", payload: { message: "x" } });
    strictEqual(noHash.event.hash, noHash.event.id);
    await rejects(
      store.dispatch({ topic: "" }),
      (error: Error) => error instanceof TypeError && /topic: is empty/.test(error.message),
    );
    await rejects(store.dispatch({ topic: "x", status: "done" as never }), /status/);
  });

  suite("enroll() sequential hands out one job at a time, oldest first", async (store) => {
    const events = [await leech(store, "a"), await leech(store, "b"), await leech(store, "c")];
    const options = { sender: "processor", sequential: true, lease: 30_000 } as const;
    const first = await store.enroll(SRC, JOB, options);
    strictEqual(first?.source.id, events[0]!.id);
    strictEqual(first?.event.dependsOn, events[0]!.id);
    strictEqual(first?.event.status, "in_progress");
    strictEqual(first?.event.project, "demo");
    strictEqual(
      await store.enroll(SRC, JOB, { ...options, holder: "other" }),
      undefined,
      "nothing after an unfinished job",
    );
    strictEqual(await store.queueDepth(SRC, JOB), 3);
    ok(await store.finishJob(first!.event.id, "processor", { description: "Processed a" }));
    strictEqual((await store.getEvent(first!.event.id))?.status, "finished");
    strictEqual((await store.getEvent(first!.event.id))?.description, "Processed a");
    const second = await store.enroll(SRC, JOB, options);
    strictEqual(second?.source.id, events[1]!.id);
    ok(await store.finishJob(second!.event.id, "processor"));
    const third = await store.enroll(SRC, JOB, options);
    strictEqual(third?.source.id, events[2]!.id);
    ok(await store.finishJob(third!.event.id, "processor"));
    strictEqual(await store.enroll(SRC, JOB, options), undefined);
    strictEqual(await store.queueDepth(SRC, JOB), 0);
    strictEqual(await store.countEvents({ topic: JOB, status: "finished" }), 3);
  });

  suite("finishAndEnroll() finishes a job and hands out the next in one step", async (store) => {
    await leech(store, "a");
    await leech(store, "b");
    const options = { sender: "p", sequential: true } as const;
    const first = await store.enroll(SRC, JOB, options);
    const step = await store.finishAndEnroll(
      { jobId: first!.event.id, holder: "p", payload: { done: 1 } },
      SRC,
      JOB,
      options,
    );
    strictEqual(step.finished, true);
    strictEqual(step.job?.source.hash, "b");
    deepStrictEqual((await store.getEvent(first!.event.id))?.payload, { done: 1 });
    const last = await store.finishAndEnroll({ jobId: step.job!.event.id, holder: "someone else" }, SRC, JOB, options);
    deepStrictEqual(
      last,
      { finished: false, job: undefined },
      "not the holder: nothing finished, and b still holds the queue",
    );
    strictEqual(
      (await store.finishAndEnroll({ jobId: step.job!.event.id, holder: "p" }, SRC, JOB, options)).finished,
      true,
    );
  });

  suite("enrollMany() hands out consecutive jobs to one holder and finishes them in the next step", async (store) => {
    for (const hash of ["a", "b", "c", "d", "e"]) await leech(store, hash);
    const options = { sender: "p", sequential: true, max: 3 } as const;
    const first = await store.enrollMany(SRC, JOB, options);
    deepStrictEqual(first.jobs.map((job) => job.source.hash), ["a", "b", "c"]);
    deepStrictEqual(first.jobs.map((job) => job.source.payload), [{ id: "a" }, { id: "b" }, { id: "c" }]);
    strictEqual(await store.enroll(SRC, JOB, { sender: "q", sequential: true }), undefined, "the queue waits for them");
    const next = await store.enrollMany(SRC, JOB, options, first.jobs.map((job) => ({ jobId: job.event.id })));
    deepStrictEqual(next.finished, first.jobs.map((job) => job.event.id));
    deepStrictEqual(next.jobs.map((job) => job.source.hash), ["d", "e"]);
    const last = await store.enrollMany(
      SRC,
      JOB,
      { ...options, max: 0 },
      next.jobs.map((job) => ({ jobId: job.event.id })),
    );
    deepStrictEqual(last, { finished: next.jobs.map((job) => job.event.id), jobs: [] });
    strictEqual(await store.countEvents({ topic: JOB, status: "finished" }), 5);
    await leech(store, "f", "alpha");
    await leech(store, "g", "alpha");
    const perProject = await store.enrollMany(SRC, JOB, { sender: "p", sequential: "project", max: 5 });
    strictEqual(perProject.jobs.length, 1, "one at a time per project");
  });

  suite("enroll() without sequential hands out several jobs at once; never one source twice", async (store) => {
    for (const hash of ["a", "b", "c"]) await leech(store, hash);
    const jobs = [];
    for (let i = 0; i < 4; i++) jobs.push(await store.enroll(SRC, JOB, { sender: "p", holder: `h${i}` }));
    deepStrictEqual(jobs.map((job) => job?.source.hash), ["a", "b", "c", undefined]);
  });

  suite("enroll() sequential per project keeps order within a project and runs projects in parallel", async (store) => {
    await leech(store, "a1", "alpha");
    await leech(store, "a2", "alpha");
    await leech(store, "b1", "beta");
    const options = { sender: "p", sequential: "project" } as const;
    const a1 = await store.enroll(SRC, JOB, options);
    const b1 = await store.enroll(SRC, JOB, options);
    strictEqual(a1?.source.hash, "a1");
    strictEqual(b1?.source.hash, "b1", "beta runs while alpha's first event is held");
    strictEqual(await store.enroll(SRC, JOB, options), undefined, "a2 waits for a1");
    ok(await store.finishJob(a1!.event.id, "p"));
    const a2 = await store.enroll(SRC, JOB, options);
    strictEqual(a2?.source.hash, "a2");
    strictEqual(a2?.event.retries, 0);
  });

  suite("enroll() skips sources written by ignored sender types", async (store) => {
    await leech(store, "own", "demo", "pipeline");
    await leech(store, "theirs", "demo", "tracker");
    const job = await store.enroll(SRC, JOB, { sender: "t", sequential: true, ignoreSenderTypes: ["pipeline"] });
    strictEqual(job?.source.hash, "theirs");
    ok(await store.finishJob(job!.event.id, "t"));
    strictEqual(
      await store.enroll(SRC, JOB, { sender: "t", sequential: true, ignoreSenderTypes: ["pipeline"] }),
      undefined,
    );
    strictEqual((await store.listEvents({ topic: JOB })).length, 1);
  });

  suite("enroll() retries a failed job up to maxRetries, then leaves it failed and goes on", async (store) => {
    await leech(store, "bad");
    await leech(store, "good");
    const options = { sender: "p", sequential: true, maxRetries: 2 } as const;
    let job = await store.enroll(SRC, JOB, options);
    for (let attempt = 0; attempt <= 2; attempt++) {
      strictEqual(job?.source.hash, "bad");
      strictEqual(job?.event.retries, attempt);
      ok(
        await store.failJob(job!.event.id, "p", {
          error: { message: `boom ${attempt}`, stack: "Error: boom\n  at handler" },
        }),
      );
      job = await store.enroll(SRC, JOB, options);
    }
    strictEqual(job?.source.hash, "good", "after its retries the failed job no longer holds the queue");
    const failed = await store.listEvents({ topic: JOB, status: "failed" });
    strictEqual(failed.length, 1);
    strictEqual(failed[0]!.retries, 2);
    deepStrictEqual(failed[0]!.error, { message: "boom 2", stack: "Error: boom\n  at handler" });
  });

  suite("enroll() sequential waits for a failed job's backoff before anything else", async (store) => {
    await leech(store, "a");
    await leech(store, "b");
    const options = { sender: "p", sequential: true } as const;
    const job = await store.enroll(SRC, JOB, options);
    ok(await store.failJob(job!.event.id, "p", { error: { message: "later" }, retryInMs: 300 }));
    strictEqual(await store.enroll(SRC, JOB, options), undefined, "b must not overtake a");
    await sleep(350);
    const retried = await store.enroll(SRC, JOB, options);
    strictEqual(retried?.source.hash, "a");
    strictEqual(retried?.event.retries, 1);
  });

  suite("enroll() hands out a job again when its lease expires; the old holder loses it", async (store) => {
    await leech(store, "a");
    const first = await store.enroll(SRC, JOB, { sender: "p", holder: "crashed", sequential: true, lease: 300 });
    ok(first);
    strictEqual(
      await store.enroll(SRC, JOB, { sender: "p", holder: "second", sequential: true, lease: 300 }),
      undefined,
    );
    ok(await store.renewLease(first.event.id, "crashed", 300), "the holder renews while it lives");
    strictEqual((await store.heldJobs(JOB))[0]?.holder, "crashed");
    await sleep(400);
    const again = await store.enroll(SRC, JOB, { sender: "p", holder: "second", sequential: true, lease: 30_000 });
    strictEqual(again?.event.id, first.event.id);
    strictEqual(again?.event.holder, "second");
    strictEqual(again?.event.retries, 1);
    strictEqual(await store.renewLease(first.event.id, "crashed", 300), false);
    strictEqual(
      await store.finishJob(first.event.id, "crashed"),
      false,
      "a lost job cannot be finished by its old holder",
    );
    ok(await store.finishJob(first.event.id, "second"));
  });

  suite("releaseJob() gives a job back for the next enroll, without counting a retry", async (store) => {
    await leech(store, "a");
    const job = await store.enroll(SRC, JOB, { sender: "p", holder: "stopping", sequential: true });
    ok(await store.releaseJob(job!.event.id, "stopping"));
    const again = await store.enroll(SRC, JOB, { sender: "p", holder: "next", sequential: true });
    strictEqual(again?.event.id, job!.event.id);
    strictEqual(again?.event.retries, 0);
  });

  suite("retryJob() makes a failed job run again, by job id or source id", async (store) => {
    const source = await leech(store, "a");
    const options = { sender: "p", sequential: true, maxRetries: 0 } as const;
    const job = await store.enroll(SRC, JOB, options);
    ok(await store.failJob(job!.event.id, "p", { error: { message: "broken" } }));
    strictEqual(await store.enroll(SRC, JOB, options), undefined);
    const retried = await store.retryJob(source.id, JOB);
    strictEqual(retried.id, job!.event.id);
    strictEqual(retried.status, "pending");
    const again = await store.enroll(SRC, JOB, options);
    strictEqual(again?.event.id, job!.event.id);
    await rejects(store.retryJob(job!.event.id), /is running now/);
    await rejects(
      store.retryJob("nope"),
      (error: Error) => error instanceof RangeError && /'nope'/.test(error.message),
    );
  });

  suite("two connections enrolling at once never hold one job together and keep the order", async (store, place) => {
    for (let i = 0; i < 40; i++) await leech(store, `e${String(i).padStart(2, "0")}`, i % 2 ? "alpha" : "beta");
    await using other = await place.open();
    const order: string[] = [];
    let holding = 0;
    let overlap = 0;
    const worker = async (connection: PipelineStore, holder: string) => {
      let idle = 0;
      while (idle < 5) {
        const job = await connection.enroll(SRC, JOB, { sender: "p", holder, sequential: true });
        if (!job) {
          idle++;
          await sleep(5);
          continue;
        }
        idle = 0;
        holding++;
        if (holding > 1) overlap++;
        order.push(job.source.hash);
        await sleep(1);
        holding--;
        ok(await connection.finishJob(job.event.id, holder));
      }
    };
    await Promise.all([worker(store, "one"), worker(other, "two")]);
    strictEqual(overlap, 0);
    deepStrictEqual(order, Array.from({ length: 40 }, (_, i) => `e${String(i).padStart(2, "0")}`));
  });

  suite(
    "writeEntity() records entity.<type>.<change> events with the writer, in the same transaction",
    async (store) => {
      const by = { sender: "processor@a", senderType: "tracker" };
      const project = await store.writeEntity(
        { type: "project", project: "demo", name: "demo", trackerId: "ft-p" },
        by,
      );
      const folder = await store.writeEntity(
        { type: "folder", project: "demo", parentId: project.entity.id, name: "sh010", data: { folderType: "Shot" } },
        by,
      );
      const task = await store.writeEntity({
        type: "task",
        project: "demo",
        parentId: folder.entity.id,
        name: "lighting",
        status: "Not started",
        attributes: { fps: 24 },
        data: { taskType: "Lighting" },
      }, by);
      deepStrictEqual(task.events.map((event) => event.topic), ["entity.task.created"]);
      strictEqual(task.events[0]!.sender, "processor@a");
      strictEqual(task.events[0]!.senderType, "tracker");
      strictEqual(task.events[0]!.project, "demo");
      strictEqual((task.events[0]!.payload as { entityId: string }).entityId, task.entity.id);

      const same = await store.writeEntity({ ...task.entity }, by);
      deepStrictEqual(same.events, [], "a write that changes nothing records nothing");

      const changed = await store.writeEntity(
        { ...task.entity, status: "In progress", assignees: ["artist"], attributes: { fps: 25 } },
        { sender: "ferry-publish", senderType: "pipeline" },
      );
      deepStrictEqual(changed.events.map((event) => event.topic), [
        "entity.task.status_changed",
        "entity.task.assignees_changed",
        "entity.task.attrib_changed",
      ]);
      deepStrictEqual((changed.events[2]!.payload as { old: unknown; new: unknown }).new, { fps: 25 });
      strictEqual(changed.events[0]!.senderType, "pipeline");
      strictEqual((await store.getEntity(task.entity.id))?.status, "In progress");
      deepStrictEqual((await store.findEntities({ project: "demo", type: "task" })).map((e) => e.name), ["lighting"]);
      deepStrictEqual((await store.findEntities({ trackerId: "ft-p" })).map((e) => e.id), [project.entity.id]);

      const before = await store.listEvents({ limit: 1000 });
      await rejects(
        store.writeEntity({ type: "task", project: "demo", parentId: "missing", name: "comp" }, by),
        (error: Error) => error instanceof RangeError && /parent 'missing' is not in the store/.test(error.message),
      );
      await rejects(
        store.writeEntity({
          type: "version",
          project: "demo",
          parentId: folder.entity.id,
          name: "v001",
          data: {} as never,
        }, by),
        /data.version/,
      );
      strictEqual((await store.listEvents({ limit: 1000 })).length, before.length, "a refused write records no event");
      await rejects(store.deleteEntity(folder.entity.id, by), /entities are below it/);
      ok(await store.deleteEntity(task.entity.id, by));
      strictEqual(await store.getEntity(task.entity.id), undefined);
      deepStrictEqual((await store.listEvents({ topic: "entity.task.deleted" })).map((e) => e.sender), ["processor@a"]);
      strictEqual(await store.deleteEntity(task.entity.id, by), false);
    },
  );

  suite("comments and lists are entities: a comment goes with what it comments on", async (store) => {
    const by = { sender: "tool", senderType: "user" };
    const project = await store.writeEntity({ type: "project", project: "demo", name: "demo" }, by);
    const shot = await store.writeEntity({ type: "folder", project: "demo", name: "sh010" }, by);
    const comment = await store.writeEntity({
      type: "comment",
      project: "demo",
      parentId: shot.entity.id,
      name: "comment",
      data: { text: "more contrast", author: "ann" },
    }, by);
    deepStrictEqual(comment.events.map((event) => event.topic), ["entity.comment.created"]);
    await rejects(
      store.writeEntity(
        { type: "comment", project: "demo", parentId: shot.entity.id, name: "c", data: { text: " " } },
        by,
      ),
      /data.text: is empty/,
    );
    await rejects(
      store.writeEntity({ type: "comment", project: "demo", name: "c", data: { text: "orphan" } }, by),
      /needs a parentId/,
    );
    const edited = await store.writeEntity(
      { ...comment.entity, data: { ...comment.entity.data, text: "much more contrast" } } as EntityInput,
      by,
    );
    deepStrictEqual(edited.events.map((event) => event.topic), ["entity.comment.data_changed"]);

    const list = await store.writeEntity(
      { type: "list", project: "demo", name: "dailies", data: { items: [shot.entity.id] } },
      by,
    );
    deepStrictEqual(list.entity.data, { listType: "version", category: null, items: [shot.entity.id], open: true });
    strictEqual(list.entity.parentId, null);
    strictEqual(project.entity.type, "project");

    ok(await store.deleteEntity(shot.entity.id, by), "its comments do not block the delete");
    strictEqual(await store.getEntity(comment.entity.id), undefined);
    deepStrictEqual(
      (await store.listEvents({ topic: "entity.comment.deleted" })).map((e) =>
        (e.payload as { entityId: string }).entityId
      ),
      [comment.entity.id],
    );
  });

  suite("entity events are sources for enroll, and a service can ignore its own sender type", async (store) => {
    const project = await store.writeEntity({ type: "project", project: "p", name: "p" }, {
      sender: "proc",
      senderType: "tracker",
    });
    await store.writeEntity({ type: "folder", project: "p", parentId: project.entity.id, name: "f" }, {
      sender: "artist",
      senderType: "pipeline",
    });
    const job = await store.enroll(["entity.project.created", "entity.folder.created"], "tracker.sync", {
      sender: "transmitter",
      sequential: true,
      ignoreSenderTypes: ["tracker"],
    });
    strictEqual(job?.source.topic, "entity.folder.created");
  });

  suite("settings are kept per variant with per-project overrides and validated", async (store) => {
    const defaults = await store.getSettings("production");
    strictEqual(defaults.processor.maxRetries, 3);
    strictEqual(defaults.processor.parallelProjects, false);
    await store.setSettings("production", { processor: { maxRetries: 5 }, handlers: { noteSync: { enabled: false } } });
    await store.setSettings("staging", { processor: { maxRetries: 1 } });
    await store.setSettings("production", { handlers: { noteSync: { enabled: true, label: "x" } } }, {
      project: "demo",
    });
    strictEqual((await store.getSettings("production")).processor.maxRetries, 5);
    strictEqual((await store.getSettings("staging")).processor.maxRetries, 1);
    strictEqual((await store.getSettings("dev")).processor.maxRetries, 3);
    const demo = await store.getSettings("production", { project: "demo" });
    strictEqual(demo.processor.maxRetries, 5, "the studio document under the project override");
    deepStrictEqual(demo.handlers.noteSync, { enabled: true, label: "x" });
    strictEqual((await store.getSettings("production", { project: "other" })).handlers.noteSync?.enabled, false);
    await rejects(
      store.setSettings("production", { processor: { maxRetries: "many" } }),
      (error: Error) => error instanceof TypeError && /processor\.maxRetries "many"/.test(error.message),
    );
    await rejects(store.setSettings("nightly" as never, {}), /nightly/);
    strictEqual((await store.getSettings("production")).processor.maxRetries, 5, "a refused document is not stored");
    deepStrictEqual(await store.getSettingsDocument("production", { project: "demo" }), {
      handlers: { noteSync: { enabled: true, label: "x" } },
    });
  });

  suite(
    "writeUser() keeps users, found by username or email case-insensitively, each change recorded",
    async (store) => {
      const by = { sender: "sync", senderType: "tracker" };
      const { user: ana, changed } = await store.writeUser({
        username: "Ana",
        email: "Ana@Studio.test",
        firstName: "Ana",
        lastName: "Lima",
        trackerId: "t-ana",
      }, by);
      ok(changed);
      strictEqual(ana.active, true);
      await store.writeUser({ username: "bo", email: null }, by);
      deepStrictEqual((await store.findUsers({ username: "ANA" })).map((u) => u.id), [ana.id]);
      deepStrictEqual((await store.findUsers({ email: "ana@studio.TEST" })).map((u) => u.id), [ana.id]);
      deepStrictEqual((await store.findUsers({ trackerId: "t-ana" })).map((u) => u.username), ["Ana"]);
      deepStrictEqual((await store.listUsers()).map((u) => u.username), ["Ana", "bo"]);
      // Nothing changed: no write, no event.
      const again = await store.writeUser({ ...ana }, by);
      strictEqual(again.changed, false);
      strictEqual(again.user.updatedAt, ana.updatedAt);
      const inactive = await store.writeUser({ ...ana, active: false, lastName: "Lima-Ortiz" }, by);
      ok(inactive.changed);
      strictEqual((await store.getUser(ana.id))!.active, false);
      deepStrictEqual((await store.findUsers({ active: false })).map((u) => u.username), ["Ana"]);
      const events = await store.listEvents({ topic: "user.changed" });
      strictEqual(events.length, 1);
      deepStrictEqual((events[0]!.payload as { new: unknown }).new, { lastName: "Lima-Ortiz", active: false });
      strictEqual((await store.listEvents({ topic: "user.created" })).length, 2);
      await rejects(
        store.writeUser({ username: "ANA" }, by),
        (error: Error) => error instanceof RangeError && /'ANA'.*has that username/.test(error.message),
      );
      await rejects(store.writeUser({ username: " " }, by), (error: Error) => /username: is empty/.test(error.message));
      strictEqual((await store.listUsers()).length, 2, "refused writes store nothing");
    },
  );

  suite("handler archives are stored per variant", async (store) => {
    const bytes = new Uint8Array([80, 75, 3, 4, 1, 2, 3]);
    const added = await store.addArchive({
      name: "studio",
      variant: "production",
      filename: "studio.zip",
      manifest: { version: "1.0.0" },
    }, bytes);
    strictEqual(added.size, 7);
    await store.addArchive(
      { name: "studio", variant: "staging", filename: "s.tar.gz", manifest: { version: "1.0.0" } },
      new Uint8Array([1]),
    );
    deepStrictEqual((await store.listArchives("production")).map((a) => [a.name, a.filename]), [[
      "studio",
      "studio.zip",
    ]]);
    deepStrictEqual([...(await store.readArchive("studio", "production"))!], [...bytes]);
    ok(await store.removeArchive("studio", "production"));
    strictEqual(await store.readArchive("studio", "production"), undefined);
    strictEqual((await store.listArchives()).length, 1);
  });

  Deno.test({
    name: `openStore() (${kind}) migrates an older store on start and refuses one written by a newer ferry`,
    ignore,
    fn: async () => {
      await using place = await site();
      {
        await using old = await place.open({ migrateTo: 1 });
        strictEqual(await old.schemaVersion(), 1);
        await old.dispatch({ topic: SRC, hash: "kept" });
        await rejects(old.getSettings("production"), /settings/);
      }
      {
        await using current = await place.open();
        strictEqual(await current.schemaVersion(), SCHEMA_VERSION);
        strictEqual((await current.listEvents())[0]?.hash, "kept");
        strictEqual((await current.getSettings("dev")).enabled, true);
        await current.writeEntity({ type: "project", project: "x", name: "x" }, { sender: "t" });
      }
      // a newer ferry wrote it: pretend by raising the version
      await bumpVersion(place, SCHEMA_VERSION + 7);
      await rejects(place.open(), (error: Error) => {
        ok(error instanceof StoreVersionError, `${error}`);
        ok(
          error.message.includes(
            `newer ferry (schema version ${SCHEMA_VERSION + 7}; this ferry knows up to ${SCHEMA_VERSION})`,
          ),
          error.message,
        );
        return true;
      });
    },
  });
}

async function bumpVersion(place: StoreSite, version: number): Promise<void> {
  if (place.kind === "sqlite") {
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(place.location);
    db.prepare("UPDATE ferry_meta SET value = ? WHERE key = 'schema_version'").run(String(version));
    db.close();
    return;
  }
  const { default: postgres } = await import("postgres");
  const url = new URL(place.location);
  const schema = url.searchParams.get("schema")!;
  url.searchParams.delete("schema");
  const sql = postgres(url.href, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`UPDATE "${schema}".ferry_meta SET value = $1 WHERE key = 'schema_version'`, [String(version)]);
  } finally {
    await sql.end({ timeout: 1 });
  }
}
