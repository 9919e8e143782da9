/**
 * ferry's server actions in ftrack's Actions menu, with the official client acting as the ftrack
 * web UI: a discovery answered (through leecher → store → processor) with the actions the user
 * may launch; a launch answered once the sync is done, with a tracker Job showing the report.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Event, type Session } from "@ftrack/api";
import { hubSession, makeShot, memoryTracker, openSession } from "./_tracker.ts";
import { connectedLeecher, startServices, trackerAndStore, waitFor } from "./_sync.ts";
import { LEECH_TOPIC, PROC_TOPIC } from "../src/store/mod.ts";
import { createLogger } from "../src/cli/service_log.ts";
import { discoverHandlers } from "../services/processor/discover_handlers.ts";
import { EAGER_TOPIC, startProcessor } from "../services/processor/processor.ts";
import { defineHandler } from "../services/processor/define_handler.ts";
import { discoverActions } from "../services/processor/handlers/discover_actions.ts";
import { BUILTIN_HANDLERS } from "../services/processor/main.ts";
import {
  securityRolesOf,
  serverActionsSettings,
  userSecurityRoles,
} from "../services/processor/handlers/_server_actions.ts";

interface Reply {
  topic: string;
  inReplyToEvent?: string;
  data: {
    items?: Array<{ label: string; variant: string; description: string; actionIdentifier: string }>;
    success?: boolean;
    message?: string;
  };
}

/** Publishes like ftrack's web UI and waits for the first reply. */
async function ask(hub: Session, topic: string, data: Record<string, unknown>, timeout = 20): Promise<Reply> {
  return await hub.eventHub.publishAndWaitForReply(new Event(topic, data), { timeout }) as Reply;
}

Deno.test({
  name: "discover-actions answers ftrack.action.discover with ferry's actions by selection and role",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    const shot = await makeShot(session, "alpha");
    await makeShot(session, "beta");
    const artist = running.tracker.addUser({ username: "artist" });
    // An administrator of the tracker (not the services' API user): its role is read from the tracker, no setting.
    const supervisor = running.tracker.addUser({ username: "supervisor" }, { administrator: true });
    await using _services = await startServices(running, store);
    // The web UI's users (the services' own credentials share one socket in this process).
    using admin = await hubSession(running, "supervisor", supervisor.apiKey);
    using artistHub = await hubSession(running, "artist", artist.apiKey);
    const reply = await ask(admin, "ftrack.action.discover", {
      selection: [{ entityId: shot.project.id, entityType: "show" }],
    });
    strictEqual(reply.topic, "ftrack.meta.reply");
    deepStrictEqual(reply.data.items!.map((item) => [item.label, item.variant, item.actionIdentifier]), [
      ["ferry", "– Sync to pipeline", "ferry.sync.project"],
      ["ferry", "– Sync users to pipeline", "ferry.sync.users"],
    ]);
    ok(reply.data.items![0]!.description.includes("'alpha'"), reply.data.items![0]!.description);

    // A task of the project offers the (whole-project) sync too; an artist gets no users action.
    const fromTask = await ask(artistHub, "ftrack.action.discover", {
      selection: [{ entityId: shot.task.id, entityType: "task" }],
    });
    deepStrictEqual(fromTask.data.items!.map((item) => item.actionIdentifier), ["ferry.sync.project"]);

    // Two projects at once, or a selection of nothing: nothing to offer the artist, so no reply.
    const beta = (await session.query('select id from Project where name is "beta"')).data[0]!;
    const unanswered: string[] = [];
    for (
      const selection of [
        [{ entityId: shot.project.id, entityType: "show" }, { entityId: beta.id, entityType: "show" }],
        [],
      ]
    ) {
      const id = await artistHub.eventHub.publish(new Event("ftrack.action.discover", { selection }), {
        onReply: () => unanswered.push("replied"),
      });
      unanswered.push(id);
    }
    // Both stored and their jobs finished (the handler ran and chose not to answer).
    const finished = async (hash: string) => {
      const source = (await store.listEvents({ topic: LEECH_TOPIC, newestFirst: true, limit: 50 }))
        .find((event) => event.hash === hash);
      if (!source) return false;
      return (await store.listEvents({ topic: PROC_TOPIC, dependsOn: source.id }))[0]?.status === "finished";
    };
    await waitFor(
      async () => (await finished(unanswered[0]!)) && (await finished(unanswered[1]!)),
      "the unanswerable discoveries to be handled",
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    ok(!unanswered.includes("replied"), "no reply without an action to offer");

    // Sync turned off for the project: not offered there.
    await store.setSettings("production", { handlers: { "sync-from-tracker": { enabled: false } } }, {
      project: "alpha",
    });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the processor's settings cache (20 ms here)
    const off = await ask(admin, "ftrack.action.discover", {
      selection: [{ entityId: shot.project.id, entityType: "show" }],
    });
    deepStrictEqual(off.data.items!.map((item) => item.actionIdentifier), ["ferry.sync.users"]);

    // A role changed on the tracker counts at the next discovery: the artist made an administrator.
    const fromBeta = { selection: [{ entityId: beta.id, entityType: "show" }] };
    running.tracker.setRole("artist", "administrator");
    deepStrictEqual(
      (await ask(artistHub, "ftrack.action.discover", fromBeta)).data.items!.map((item) => item.actionIdentifier),
      [
        "ferry.sync.project",
        "ferry.sync.users",
      ],
    );
    running.tracker.setRole("artist", "user");
    deepStrictEqual(
      (await ask(artistHub, "ftrack.action.discover", fromBeta)).data.items!.map((item) => item.actionIdentifier),
      [
        "ferry.sync.project",
      ],
    );
    // The settings' userRoles still add a role the tracker does not give.
    await store.setSettings("production", {
      handlers: { "server-actions": { userRoles: { artist: ["Administrator"] } } },
    });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the processor's settings cache (20 ms here)
    deepStrictEqual(
      (await ask(artistHub, "ftrack.action.discover", fromBeta)).data.items!.map((item) => item.actionIdentifier),
      [
        "ferry.sync.project",
        "ferry.sync.users",
      ],
    );
  },
});

Deno.test({
  name:
    "sync-action and sync-users-action reply to ftrack.action.launch when done, refuse roles not allowed, and keep a tracker Job",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    const shot = await makeShot(session, "gamma");
    const artist = running.tracker.addUser({ username: "artist" });
    const supervisor = running.tracker.addUser({ username: "supervisor" }, { administrator: true });
    await using _services = await startServices(running, store);
    using admin = await hubSession(running, "supervisor", supervisor.apiKey);
    using artistHub = await hubSession(running, "artist", artist.apiKey);
    strictEqual((await store.findEntities({ trackerId: shot.task.id })).length, 0);
    const launched = await ask(artistHub, "ftrack.action.launch", {
      actionIdentifier: "ferry.sync.project",
      selection: [{ entityId: shot.project.id, entityType: "show" }],
    }, 60);
    strictEqual(launched.data.success, true, launched.data.message);
    ok(/^Sync to pipeline 'gamma': \d+ created/.test(launched.data.message!), launched.data.message);
    // Stored in the project's lane (with processor.parallelProjects, discoveries need not wait behind it).
    const leeched = await store.listEvents({ topic: LEECH_TOPIC, limit: 100 });
    strictEqual(
      leeched.find((event) => (event.payload as { topic?: string }).topic === "ftrack.action.launch")?.project,
      "gamma",
    );
    // Replied once the sync is done: the pipeline has the project's task now.
    ok((await store.findEntities({ trackerId: shot.task.id }))[0], "the task is in the pipeline");
    const jobs = (await session.query(
      `select status, data from Job where user_id is "${(await userId(session, "artist"))}"`,
    )).data;
    strictEqual(jobs.length, 1);
    strictEqual(jobs[0]!.status, "done");
    strictEqual(JSON.parse(jobs[0]!.data).description, launched.data.message);

    // The users action: refused to an artist (even launched without the menu), run for an administrator.
    const refused = await ask(artistHub, "ftrack.action.launch", {
      actionIdentifier: "ferry.sync.users",
      selection: [],
    });
    strictEqual(refused.data.success, false);
    ok(refused.data.message!.includes("'artist' may not launch it"), refused.data.message);
    const usersSyncs = async () =>
      (await store.listEvents({ topic: "ferry.sync.finished", limit: 50 }))
        .filter((event) => (event.payload as { reason?: string }).reason === "users sync action").length;
    strictEqual(await usersSyncs(), 0, "no users sync for the artist");
    // A user the full sync did not see yet: the users action brings it in.
    running.tracker.addUser({ username: "newcomer" });
    const users = await ask(admin, "ftrack.action.launch", { actionIdentifier: "ferry.sync.users", selection: [] });
    strictEqual(users.data.success, true, users.data.message);
    ok(/^Sync users to pipeline: /.test(users.data.message!), users.data.message);
    strictEqual(await usersSyncs(), 1);
    ok((await store.listUsers()).some((user) => user.username === "newcomer"));

    // A sync that cannot run: replied with success false and the reason.
    // A selection in no project the service sees: refused with the reason, as the menu would not offer it.
    const broken = await ask(admin, "ftrack.action.launch", {
      actionIdentifier: "ferry.sync.project",
      selection: [{ entityId: "no-such-id", entityType: "task" }],
    });
    strictEqual(broken.data.success, false);
    strictEqual(
      broken.data.message,
      "Sync to pipeline: the selection does not lie in one project the service can see",
    );
  },
});

Deno.test({
  name:
    "discover-actions and sync-action apply the selection's project overrides of handlers.server-actions alike: hidden and refused where off or not allowed",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    const alpha = await makeShot(session, "alpha");
    const beta = await makeShot(session, "beta");
    const artist = running.tracker.addUser({ username: "artist" });
    const supervisor = running.tracker.addUser({ username: "supervisor" }, { administrator: true });
    // Studio: the sync for everyone. alpha: the action off. beta: administrators only.
    await store.setSettings("production", { handlers: { "server-actions": { sync: { enabled: false } } } }, {
      project: "alpha",
    });
    await store.setSettings("production", { handlers: { "server-actions": { sync: { roles: ["Administrator"] } } } }, {
      project: "beta",
    });
    await using _services = await startServices(running, store);
    using admin = await hubSession(running, "supervisor", supervisor.apiKey);
    using artistHub = await hubSession(running, "artist", artist.apiKey);
    const offered = async (hub: Session, selection: unknown[]) =>
      (await ask(hub, "ftrack.action.discover", { selection })).data.items!.map((item) => item.actionIdentifier);
    const show = (shot: { project: { id?: unknown } }) => [{ entityId: String(shot.project.id), entityType: "show" }];
    const task = (shot: { task: { id?: unknown } }) => [{ entityId: String(shot.task.id), entityType: "task" }];

    // alpha hides "Sync to pipeline" from everyone, from the project and from its tasks; beta shows it.
    deepStrictEqual(await offered(admin, show(alpha)), ["ferry.sync.users"]);
    deepStrictEqual(await offered(admin, task(alpha)), ["ferry.sync.users"]);
    deepStrictEqual(await offered(admin, show(beta)), ["ferry.sync.project", "ferry.sync.users"]);
    deepStrictEqual(await offered(admin, task(beta)), ["ferry.sync.project", "ferry.sync.users"]);
    // beta's roles: the artist does not see it there (nothing to offer: no reply), the studio's default elsewhere.
    const delta = await makeShot(session, "delta");
    deepStrictEqual(await offered(artistHub, task(delta)), ["ferry.sync.project"]);
    const artistOnBeta = await artistHub.eventHub.publish(
      new Event("ftrack.action.discover", { selection: task(beta) }),
      {
        onReply: () => {
          throw new Error("the artist was offered an action on beta");
        },
      },
    );
    await waitFor(async () => {
      const source = (await store.listEvents({ topic: LEECH_TOPIC, newestFirst: true, limit: 50 }))
        .find((event) => event.hash === artistOnBeta);
      return source !== undefined &&
        (await store.listEvents({ topic: PROC_TOPIC, dependsOn: source.id }))[0]?.status === "finished";
    }, "the artist's discovery on beta to be handled");

    // The launch asks the same: refused where the menu hides it, even launched without the menu.
    const launch = (hub: Session, selection: unknown[]) =>
      ask(hub, "ftrack.action.launch", { actionIdentifier: "ferry.sync.project", selection }, 60);
    for (const selection of [show(alpha), task(alpha)]) {
      const refused = await launch(admin, selection);
      strictEqual(refused.data.success, false);
      strictEqual(
        refused.data.message,
        "Sync to pipeline: handlers.server-actions.sync is off for project 'alpha'",
      );
    }
    const artistRefused = await launch(artistHub, task(beta));
    strictEqual(artistRefused.data.success, false);
    strictEqual(
      artistRefused.data.message,
      "Sync to pipeline: 'artist' may not launch it on project 'beta' (roles allowed: Administrator)",
    );
    strictEqual((await store.findEntities({ trackerId: alpha.task.id })).length, 0, "alpha not synced");
    strictEqual((await store.findEntities({ trackerId: beta.task.id })).length, 0, "beta not synced for the artist");
    // Allowed where offered: the administrator on beta (from a task: the project is the task's).
    const ran = await launch(admin, task(beta));
    strictEqual(ran.data.success, true, ran.data.message);
    ok(ran.data.message!.startsWith("Sync to pipeline 'beta': "), ran.data.message);
    ok((await store.findEntities({ trackerId: beta.task.id }))[0], "beta's task is in the pipeline");

    // A role given on beta's settings only (userRoles): the artist sees and launches it there, still not on alpha.
    await store.setSettings("production", {
      handlers: { "server-actions": { sync: { roles: ["Administrator"] }, userRoles: { artist: ["Administrator"] } } },
    }, { project: "beta" });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the processor's settings cache (20 ms here)
    deepStrictEqual(await offered(artistHub, show(beta)), ["ferry.sync.project"]);
    strictEqual((await launch(artistHub, show(beta))).data.success, true);
    const stillOff = await launch(artistHub, show(alpha));
    strictEqual(stillOff.data.success, false, stillOff.data.message);
    // Turned back on for alpha: offered and launched again.
    await store.setSettings("production", {}, { project: "alpha" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    deepStrictEqual(await offered(artistHub, task(alpha)), ["ferry.sync.project"]);
    strictEqual((await launch(artistHub, task(alpha))).data.success, true);
    ok((await store.findEntities({ trackerId: alpha.task.id }))[0], "alpha's task is in the pipeline");
  },
});

Deno.test({
  name: "discover-actions leaves discoveries older than discoverMaxAgeSeconds unanswered (a processor catching up)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    const shot = await makeShot(session, "delta");
    const { apiKey } = running.tracker.addUser({ username: "artist" });
    await store.setSettings("production", { handlers: { "server-actions": { discoverMaxAgeSeconds: 1 } } });
    await using leecher = await connectedLeecher(running, store);
    using ui = await hubSession(running, "artist", apiKey);
    const selection = [{ entityId: shot.project.id, entityType: "show" }];
    const replies: string[] = [];
    const onReply = (reply: { inReplyToEvent?: string }) => void replies.push(String(reply.inReplyToEvent));
    const old = await ui.eventHub.publish(new Event("ftrack.action.discover", { selection }), { onReply });
    await waitFor(
      async () => (await store.listEvents({ topic: LEECH_TOPIC, limit: 50 })).some((e) => e.hash === old),
      "the stored discovery",
    );
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    // The processor comes back: the old discovery is passed over, a new one answered.
    const { handlers } = await discoverHandlers([BUILTIN_HANDLERS]);
    await using _processor = await startProcessor({
      store,
      session: await openSession(running),
      handlers,
      log: createLogger({ name: "processor", level: "error" }),
      settingsRefreshMs: 20,
    });
    const fresh = await ui.eventHub.publish(new Event("ftrack.action.discover", { selection }), { onReply });
    await waitFor(() => replies.includes(fresh), "the reply to the fresh discovery");
    deepStrictEqual(replies, [fresh], "no reply to the discovery older than 1 s");
    await leecher.drain();
  },
});

async function userId(session: Session, username: string): Promise<string> {
  return String((await session.query(`select id from User where username is "${username}"`)).data[0]!.id);
}

Deno.test({
  name: "startProcessor() answers a discovery ahead of its turn while a long job runs, once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store, session } = fixture;
    const shot = await makeShot(session, "epsilon");
    const { apiKey } = running.tracker.addUser({ username: "artist" });
    await using _leecher = await connectedLeecher(running, store);
    let slow: "waiting" | "running" | "done" = "waiting";
    const release = Promise.withResolvers<void>();
    const long = defineHandler({
      name: "long-job",
      subscription: "topic=ferry.long",
      async handle() {
        slow = "running";
        await release.promise;
        slow = "done";
      },
    });
    await using _processor = await startProcessor({
      store,
      session: await openSession(running),
      handlers: [long, discoverActions],
      log: createLogger({ name: "processor", level: "error" }),
      settingsRefreshMs: 20,
    });
    using ui = await hubSession(running, "artist", apiKey);
    await ui.eventHub.publish(new Event("ferry.long", {}));
    await waitFor(() => slow === "running", "the long job");
    const replies: Reply[] = [];
    const asked = await ui.eventHub.publish(
      new Event("ftrack.action.discover", { selection: [{ entityId: shot.project.id, entityType: "show" }] }),
      { onReply: (reply) => void replies.push(reply as Reply) },
    );
    await waitFor(() => replies.length === 1, "the reply while the long job runs", 10_000);
    strictEqual(slow, "running", "answered before the long job ended");
    strictEqual(replies[0]!.inReplyToEvent, asked);
    deepStrictEqual(replies[0]!.data.items!.map((item) => item.actionIdentifier), ["ferry.sync.project"]);
    release.resolve();
    // In its turn, the discovery's job finds it handled: no second reply.
    const stored = await store.countEvents({ topic: LEECH_TOPIC });
    await waitFor(
      async () => await store.countEvents({ topic: PROC_TOPIC, status: "finished" }) >= stored,
      "the queue",
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    strictEqual(replies.length, 1);
    strictEqual(await store.countEvents({ topic: EAGER_TOPIC }), 1, "one claim");
  },
});

Deno.test("securityRolesOf() reads the embedded tracker's roles as on an ftrack site, and follows their changes", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const settings = serverActionsSettings({ userRoles: { viewer: ["Supervisor"] } });
  running.tracker.addUser({ username: "boss" }, { role: "administrator" });
  running.tracker.addUser({ username: "artist" });
  running.tracker.addUser({ username: "viewer" }, { role: "read_only" });
  deepStrictEqual([...await securityRolesOf(session, "boss", settings)], ["administrator"]);
  deepStrictEqual([...await securityRolesOf(session, "artist", settings)], ["user"]);
  deepStrictEqual([...await securityRolesOf(session, "viewer", settings)].sort(), ["read only", "supervisor"]);
  // Private-project access is the same role on those projects: nothing more there.
  const schema = (await session.query("select id from ProjectSchema")).data[0]!;
  const secret = (await session.create("Project", {
    name: "secret",
    full_name: "secret",
    project_schema_id: schema.id,
    is_private: true,
  })).data;
  running.tracker.setProjectAccess("secret", "artist", true);
  const roles = await userSecurityRoles(session, "artist", settings);
  deepStrictEqual([[...roles.all], [...roles.byProject]], [["user"], [[secret.id, new Set(["user"])]]]);
  running.tracker.setRole("artist", "administrator");
  deepStrictEqual([...await securityRolesOf(session, "artist", settings, { projectId: secret.id })], ["administrator"]);
});
