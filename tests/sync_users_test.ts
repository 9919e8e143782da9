/**
 * Users in the tracker → pipeline sync: tracker users become pipeline users (matched by tracker
 * id, then username, then email), follow changes, and are kept inactive when removed; in a full
 * sync, from `ftrack.update` events, on the `ferry.sync.users` action and with
 * `deno task sync --users`; `syncUsers: false` leaves them alone; tasks are assigned by username
 * or email once users are known. Both store adapters.
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { Event } from "@ftrack/api";
import { fullSync } from "../src/sync/sync_from_tracker.ts";
import { SyncSettingsSchema } from "../src/sync/sync_settings.ts";
import { PipelineOps } from "../src/sync/pipeline_ops.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { sqliteSite } from "./_store.ts";
import { makeVersion, runSyncScript, settle, startServices, storeKindsTest, waitFor } from "./_sync.ts";

const settings = SyncSettingsSchema.parse({});

await storeKindsTest(
  "fullSync() brings the tracker's users into the pipeline and follows them",
  async ({ running, store, session }) => {
    await makeShot(session, "people");
    const ana = (await session.create("User", {
      username: "ana",
      email: "Ana@Studio.test",
      first_name: "Ana",
      last_name: "Lima",
      is_active: true,
    })).data;
    const ben = (await session.create("User", { username: "ben", email: "ben@studio.test", is_active: true })).data;
    const cy = (await session.create("User", { username: "cy", is_active: true })).data;
    const by = { sender: "setup" };
    // The pipeline knew Ben by email under another username, and has its own 'cy'.
    const known = (await store.writeUser({ username: "benjamin", email: "BEN@studio.test" }, by)).user;
    await store.writeUser({ username: "cy", trackerId: "elsewhere" }, by);

    const report = await fullSync({ session, store, project: "people", settings, sender: "sync" });
    deepStrictEqual(report.users.created.sort(), ["ana", running.apiUser].sort());
    deepStrictEqual(report.users.updated, ["ben"]);
    ok(
      report.skipped.some((s) =>
        s.kind === "user" && s.trackerId === cy.id && /'cy'.*has that username/.test(s.reason)
      ),
      JSON.stringify(report.skipped),
    );
    const pipelineAna = (await store.findUsers({ trackerId: ana.id }))[0]!;
    deepStrictEqual(
      [pipelineAna.username, pipelineAna.email, pipelineAna.firstName, pipelineAna.lastName, pipelineAna.active],
      ["ana", "Ana@Studio.test", "Ana", "Lima", true],
    );
    const pipelineBen = (await store.findUsers({ trackerId: ben.id }))[0]!;
    deepStrictEqual([pipelineBen.id, pipelineBen.username], [known.id, "ben"], "matched by email, renamed");

    // Changes, deactivation and removal follow; nothing else is touched.
    await session.update("User", [ana.id], { email: "ana.lima@studio.test" });
    await session.update("User", [ben.id], { is_active: false });
    await session.delete("User", [cy.id]);
    const changed = await fullSync({ session, store, project: "people", settings, sender: "sync" });
    deepStrictEqual(changed.users.updated.sort(), ["ana", "ben"]);
    deepStrictEqual(changed.users.removed, []);
    strictEqual((await store.findUsers({ email: "ANA.LIMA@studio.test" }))[0]?.id, pipelineAna.id);
    strictEqual((await store.getUser(known.id))!.active, false);
    await session.delete("User", [ana.id]);
    const removed = await fullSync({ session, store, project: "people", settings, sender: "sync" });
    deepStrictEqual(removed.users.removed, ["ana"]);
    const gone = (await store.getUser(pipelineAna.id))!;
    deepStrictEqual([gone.active, gone.data.trackerRemoved], [false, true]);
    const steady = await fullSync({ session, store, project: "people", settings, sender: "sync" });
    deepStrictEqual(steady.users, { created: [], updated: [], removed: [] });

    // Switched off: left alone.
    await session.create("User", { username: "dee", is_active: true });
    const off = await fullSync({
      session,
      store,
      project: "people",
      settings: SyncSettingsSchema.parse({ syncUsers: false }),
      sender: "sync",
    });
    deepStrictEqual(off.users.created, []);
    strictEqual((await store.findUsers({ username: "dee" })).length, 0);

    // Known users: a task is assigned by username or email, recorded by username.
    const ops = new PipelineOps(store, { sender: "tool", senderType: "user" });
    const assigned = await ops.assign("people", "/sq010/sh010/lighting", ["BEN@studio.test", running.apiUser]);
    deepStrictEqual(assigned.assignees, ["ben", running.apiUser]);
    await rejects(
      ops.assign("people", "/sq010/sh010/lighting", ["ghost@studio.test"]),
      /Unknown user 'ghost@studio.test'/,
    );
  },
);

await storeKindsTest(
  "sync-from-tracker handler follows users added and changed; the ferry.sync.users action syncs them all",
  async ({ running, store, session }) => {
    await using _services = await startServices(running, store);
    const eve = (await session.create("User", { username: "eve", email: "eve@studio.test", is_active: true })).data;
    await waitFor(async () => (await store.findUsers({ trackerId: eve.id })).length === 1, "the new user");
    await session.update("User", [eve.id], { first_name: "Eve", is_active: false });
    await waitFor(async () => (await store.findUsers({ trackerId: eve.id }))[0]!.active === false, "the change");
    strictEqual((await store.findUsers({ trackerId: eve.id }))[0]!.firstName, "Eve");
    const reports = await store.listEvents({ topic: "ferry.sync.finished", limit: 10 });
    ok(
      reports.some((r) => /users \(tracker update\).*users 1 created/.test(r.description)),
      JSON.stringify(reports.map((r) => r.description)),
    );

    // The action: every user (the API user was never in an event).
    const hub = await openSession(running, { eventHub: true });
    try {
      await hub.eventHub.publish(
        new Event("ftrack.action.launch", { actionIdentifier: "ferry.sync.users", selection: [] }),
      );
      await waitFor(
        async () => (await store.findUsers({ username: running.apiUser })).length === 1,
        "the action's sync of every user",
      );
      await waitFor(
        async () =>
          (await store.listEvents({ topic: "ferry.sync.finished", limit: 20 })).some((r) =>
            (r.payload as { reason: string }).reason === "users sync action"
          ),
        "the action's report",
      );
    } finally {
      hub.eventHub.disconnect();
    }
    // Switched off: a new user stays out.
    await store.setSettings("production", { handlers: { "sync-from-tracker": { syncUsers: false } } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fay = (await session.create("User", { username: "fay", is_active: true })).data;
    await settle(store);
    strictEqual((await store.findUsers({ trackerId: fay.id })).length, 0);
  },
);

Deno.test({
  name: "deno task sync prints the versions, links, lists and users it synced; --users syncs the users alone",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using running = await memoryTracker();
    await using place = await sqliteSite();
    const session = await openSession(running);
    await session.create("User", { username: "gus", email: "gus@studio.test", is_active: true });
    const run = (args: string[]) => runSyncScript(running, args);
    const users = await run(["--users", "--store", place.location]);
    const usersOut = new TextDecoder().decode(users.stdout);
    strictEqual(users.code, 0, new TextDecoder().decode(users.stderr));
    ok(usersOut.includes("users: 0 created, 0 updated, 0 removed, 0 skipped; users 2 created"), usersOut);
    ok(usersOut.includes("  user created gus"), usersOut);
    {
      await using store = await place.open();
      deepStrictEqual((await store.listUsers()).map((u) => u.username).sort(), [running.apiUser, "gus"].sort());
      strictEqual((await store.findEntities({ type: "folder" })).length, 0, "users alone");
    }
    strictEqual((await run(["--users", "demo", "--store", place.location])).code, 2, "one way at a time");

    const { project, shot, task } = await makeShot(session, "printed");
    const comp = (await session.create("Task", { name: "comp", parent_id: shot.id })).data;
    await session.create("TypedContextLink", { from_id: task.id, to_id: comp.id });
    const made = await makeVersion(session, { contextId: shot.id, taskId: task.id });
    const list = (await session.create("AssetVersionList", { name: "dailies", project_id: project.id })).data;
    await session.create("ListObject", { list_id: list.id, entity_id: made.versionId });
    await session.create("ListObject", { list_id: list.id, entity_id: comp.id });
    const full = await run(["printed", "--store", place.location]);
    const out = new TextDecoder().decode(full.stdout);
    strictEqual(full.code, 0, new TextDecoder().decode(full.stderr));
    ok(
      out.includes(
        "printed: 5 created, 0 updated, 0 removed, 1 skipped; products 1 created; versions 1 created; representations 2 created; links 1 created; lists 1 created",
      ),
      out,
    );
    ok(out.includes("  version created /sq010/sh010/beauty/v001"), out);
    ok(out.includes("  representation created /sq010/sh010/beauty/v001/exr"), out);
    ok(out.includes("  link created /sq010/sh010/lighting → /sq010/sh010/comp (dependency)"), out);
    ok(out.includes("  list created dailies"), out);
    ok(
      out.includes(`  not synced (list) list 'dailies': its item 'comp' is a task, not what a version list holds`),
      out,
    );
  },
});
