/**
 * The leecher stores action events with the project of their selection (shots, tasks, versions:
 * read from the tracker), so the processor applies that project's settings; a selection across
 * projects, or a lookup that fails, stores the event without one, never dropping it.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Event, type Session } from "@ftrack/api";
import { hubSession, makeShot } from "./_tracker.ts";
import { connectedLeecher, makeVersion, startServices, trackerAndStore, waitFor } from "./_sync.ts";
import { LEECH_TOPIC, type PipelineStore } from "../src/store/mod.ts";
import { createLogger } from "../src/cli/service_log.ts";
import { startLeecher } from "../services/leecher/leecher.ts";

/** The stored `tracker.leech` event of the hub event `id`, once the leecher has stored it. */
async function stored(store: PipelineStore, id: string) {
  let found: Awaited<ReturnType<PipelineStore["listEvents"]>>[number] | undefined;
  await waitFor(async () => {
    found = (await store.listEvents({ topic: LEECH_TOPIC, newestFirst: true, limit: 100 }))
      .find((event) => event.hash === id);
    return found !== undefined;
  }, `event ${id} to be stored`);
  return found!;
}

const publish = (session: Session, topic: string, selection: unknown[]) =>
  session.eventHub.publish(new Event(topic, { selection, actionIdentifier: "ferry.sync.project" }));

Deno.test({
  name: "startLeecher() stores an action on a task or version with its project, one across projects without one",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    const alpha = await makeShot(session, "alpha");
    const beta = await makeShot(session, "beta");
    await using _leecher = await connectedLeecher(running, store);
    using hub = await hubSession(running, running.apiUser, running.apiKey);
    const task = (shot: { task: { id?: unknown } }) => ({ entityType: "task", entityId: String(shot.task.id) });
    const shotOf = (shot: { shot: { id?: unknown } }) => ({ entityType: "task", entityId: String(shot.shot.id) });

    const launch = await publish(hub, "ftrack.action.launch", [task(alpha)]);
    strictEqual((await stored(store, launch)).project, "alpha");
    const discover = await publish(hub, "ftrack.action.discover", [task(beta), shotOf(beta)]);
    strictEqual((await stored(store, discover)).project, "beta");
    const onShow = await publish(hub, "ftrack.action.discover", [{ entityType: "show", entityId: alpha.project.id }]);
    strictEqual((await stored(store, onShow)).project, "alpha");
    const { versionId } = await makeVersion(session, { contextId: String(beta.shot.id), taskId: String(beta.task.id) });
    const onVersion = await publish(hub, "ftrack.action.launch", [{ entityType: "assetversion", entityId: versionId }]);
    strictEqual((await stored(store, onVersion)).project, "beta");
    const across = await publish(hub, "ftrack.action.discover", [task(alpha), task(beta)]);
    strictEqual((await stored(store, across)).project, null);
    const unknown = await publish(hub, "ftrack.action.launch", [{ entityType: "task", entityId: "no-such-task" }]);
    strictEqual((await stored(store, unknown)).project, null);
  },
});

Deno.test({
  name:
    "startLeecher() stores updates of lists, list items, links, components, locations and metadata with their project",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    const alpha = await makeShot(session, "alpha");
    const beta = await makeShot(session, "beta");
    await using leecher = await connectedLeecher(running, store);
    const category = (await session.query("select id from ListCategory")).data[0]!;
    const dailies = (await session.create("AssetVersionList", {
      name: "dailies",
      project_id: alpha.project.id,
      category_id: category.id,
    })).data;
    const made = await makeVersion(session, { contextId: String(alpha.shot.id), taskId: String(alpha.task.id) });
    await session.create("ListObject", { list_id: dailies.id, entity_id: made.versionId });
    await session.create("TypedContextLink", { from_id: alpha.task.id, to_id: alpha.shot.id });
    // A link across projects tells none.
    await session.create("TypedContextLink", { from_id: alpha.task.id, to_id: beta.shot.id });
    const kinds = [
      "AssetVersionList",
      "ListObject",
      "TypedContextLink",
      "FileComponent",
      "ComponentLocation",
      "Metadata",
    ];
    type Stored = Awaited<ReturnType<PipelineStore["listEvents"]>>;
    let events: Stored = [];
    const typeOf = (event: Stored[number]) =>
      String(
        (event.payload as { data?: { entities?: Array<{ entity_type?: string }> } }).data?.entities?.[0]?.entity_type,
      );
    await waitFor(async () => {
      await leecher.drain();
      events = (await store.listEvents({ topic: LEECH_TOPIC, limit: 1000 })).filter((event) =>
        kinds.includes(typeOf(event))
      );
      return events.filter((event) => typeOf(event) === "TypedContextLink").length === 2 &&
        events.some((event) => typeOf(event) === "ListObject");
    }, "the list, link and component events");
    for (const kind of kinds) ok(events.some((event) => typeOf(event) === kind), `a ${kind} event was leeched`);
    const links = events.filter((event) => typeOf(event) === "TypedContextLink").map((event) => event.project);
    deepStrictEqual(links.sort(), ["alpha", null].sort());
    for (const event of events.filter((event) => typeOf(event) !== "TypedContextLink")) {
      strictEqual(event.project, "alpha", `${typeOf(event)} ${JSON.stringify(event.payload)}`);
    }
  },
});

Deno.test({
  name: "startLeecher() stores an action event without a project when the tracker lookup fails",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    const alpha = await makeShot(session, "alpha");
    let lookups = 0;
    let connects = 0;
    await using leecher = await startLeecher({
      store,
      credentials: { server: running.url, apiUser: running.apiUser, apiKey: running.apiKey },
      log: createLogger({ name: "leecher", level: "error" }),
      onConnect: (n) => (connects = n),
      // The tracker's answer lost on the way: the real lookup's query rejects.
      projectOfSelection: () => {
        lookups++;
        return Promise.reject(new Error("the tracker answered 503"));
      },
    });
    await waitFor(() => connects >= 1, "the leecher");
    using hub = await hubSession(running, running.apiUser, running.apiKey);
    const selection = [{ entityType: "task", entityId: String(alpha.task.id) }];
    const first = await publish(hub, "ftrack.action.launch", selection);
    const event = await stored(store, first);
    strictEqual(event.project, null);
    strictEqual((event.payload as { topic?: string }).topic, "ftrack.action.launch");
    // A failure is not remembered: the next event asks again.
    const second = await publish(hub, "ftrack.action.launch", selection);
    strictEqual((await stored(store, second)).project, null);
    strictEqual(lookups, 2);
    strictEqual(leecher.stats.failures, 0);
  },
});

Deno.test({
  name: "startLeecher() lets a project's server-actions override apply to a discovery on its task",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    const alpha = await makeShot(session, "alpha");
    const beta = await makeShot(session, "beta");
    const supervisor = running.tracker.addUser({ username: "supervisor" }, { administrator: true });
    // The studio: server actions off; alpha turns them (and its sync action) on.
    await store.setSettings("production", {
      handlers: { "server-actions": { enabled: false, sync: { enabled: false } } },
    });
    await store.setSettings("production", {
      handlers: { "server-actions": { enabled: true, sync: { enabled: true } } },
    }, { project: "alpha" });
    await using _services = await startServices(running, store);
    using admin = await hubSession(running, "supervisor", supervisor.apiKey);
    const reply = await admin.eventHub.publishAndWaitForReply(
      new Event("ftrack.action.discover", { selection: [{ entityType: "task", entityId: String(alpha.task.id) }] }),
      { timeout: 20 },
    ) as { data: { items?: Array<{ actionIdentifier: string }> } };
    // The users' sync is site-wide: the studio has server actions off, so it is not offered on alpha either.
    deepStrictEqual(reply.data.items!.map((item) => item.actionIdentifier), ["ferry.sync.project"]);
    // beta keeps the studio's settings: its discovery is handled, and nothing is offered.
    const onBeta = await admin.eventHub.publish(
      new Event("ftrack.action.discover", { selection: [{ entityType: "task", entityId: String(beta.task.id) }] }),
      {
        onReply: () => {
          throw new Error("beta offered an action with server actions off");
        },
      },
    );
    strictEqual((await stored(store, onBeta)).project, "beta");
  },
});
