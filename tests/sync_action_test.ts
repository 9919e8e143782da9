/**
 * A full sync asked for on the event hub: the `ferry.sync.project` action (ftrack's
 * `ftrack.action.launch` with a project selected) and a `ferry.sync.requested` event naming the
 * project; both record a report. Works for a project without auto-sync.
 */
import { ok, strictEqual } from "node:assert/strict";
import { Event } from "@ftrack/api";
import { makeShot, openSession } from "./_tracker.ts";
import { startServices, trackerAndStore, waitFor } from "./_sync.ts";

Deno.test({
  name: "sync-action and sync-requested handlers run a full sync of the named project and record its report",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    const one = await makeShot(session, "one");
    const two = await makeShot(session, "two");
    await using _services = await startServices(running, store);
    const hub = await openSession(running, { eventHub: true });
    try {
      await hub.eventHub.publish(
        new Event("ftrack.action.launch", {
          actionIdentifier: "ferry.sync.project",
          selection: [{ entityId: one.project.id, entityType: "show" }],
        }),
      );
      await hub.eventHub.publish(new Event("ferry.sync.requested", { project: "two" }));
      const reports = async () => await store.listEvents({ topic: "ferry.sync.finished", limit: 10 });
      await waitFor(async () => (await reports()).length === 2, "two reports");
      const byProject = new Map((await reports()).map((event) => [event.project, event.payload as { reason: string }]));
      strictEqual(byProject.get("one")!.reason, "sync action");
      strictEqual(byProject.get("two")!.reason, "sync requested");
      ok((await store.findEntities({ trackerId: one.task.id }))[0]);
      ok((await store.findEntities({ trackerId: two.task.id }))[0]);
    } finally {
      hub.eventHub.disconnect();
    }
  },
});
