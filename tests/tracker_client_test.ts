/**
 * The embedded tracker driven by the official `@ftrack/api` client, as any studio script would.
 */
import { Event, Session } from "@ftrack/api";
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { LOCATION_IDS, OBJECT_TYPE_IDS } from "../services/tracker/schema/definitions.ts";
import { installXhrPolyfill } from "./_xhr_polyfill.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";

installXhrPolyfill();

// Entities come back as loose JSON from the client; tests read them as such.
// deno-lint-ignore no-explicit-any
type E = any;

/** A query whose rows are read as loose JSON. */
async function q(session: Session, expression: string): Promise<{ data: E[]; metadata: E }> {
  return await session.query(expression) as E;
}

Deno.test("Session starts against the tracker: server information, schemas, built-in locations", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  strictEqual(session.serverInformation?.version, "4.13.0");
  ok(session.serverInformation?.schema_hash);
  const schemas = session.schemas ?? [];
  const byId = new Map(schemas.map((schema) => [schema.id, schema]));
  for (
    const id of [
      "Location",
      "Project",
      "Shot",
      "Task",
      "AssetVersion",
      "FileComponent",
      "SequenceComponent",
      "Note",
      "Metadata",
    ]
  ) {
    ok(byId.has(id), `schema ${id}`);
  }
  ok(!("members" in byId.get("FileComponent")!.properties!), "FileComponent has no members");
  ok("members" in byId.get("SequenceComponent")!.properties!, "SequenceComponent has members");
  deepStrictEqual(byId.get("Shot")!.alias_for, { id: "Task", classifiers: { object_typeid: OBJECT_TYPE_IDS.Shot } });
  const locations = await q(session, "select id, name from Location order by name");
  deepStrictEqual(
    Object.fromEntries(locations.data.map((location: E) => [location.name, location.id])),
    LOCATION_IDS,
  );
  const server = await q(session, 'Location where name is "ftrack.server"');
  strictEqual(server.data[0].id, LOCATION_IDS["ftrack.server"]);
});

Deno.test("CRUD on publishing entities follows ftrack's server-side rules", async (t) => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const { project, shot, task } = await makeShot(session);

  await t.step("contexts get context_type, project, object type, default status and type", async () => {
    strictEqual(project.context_type, "show");
    strictEqual(task.context_type, "task");
    strictEqual(task.project_id, project.id);
    strictEqual(task.object_type_id, OBJECT_TYPE_IDS.Task);
    const loaded = await q(
      session,
      `select status.name, type.name, priority.name, link from Task where id is ${task.id}`,
    );
    strictEqual(loaded.data[0].status.name, "Not started");
    strictEqual(loaded.data[0].type.name, "Generic");
    strictEqual(loaded.data[0].priority.name, "None");
    deepStrictEqual(loaded.data[0].link.map((item: E) => item.name), ["demo", "sq010", "sh010", "lighting"]);
  });

  const assetType = (await q(session, 'AssetType where short is "render"')).data[0];
  const asset = (await session.create("Asset", { name: "beauty", context_id: shot.id, type_id: assetType.id })).data;

  await t.step("versions are numbered per asset, published, with the version workflow's first status", async () => {
    const first =
      (await session.create("AssetVersion", { asset_id: asset.id, task_id: task.id, comment: "first light" })).data;
    const second = (await session.create("AssetVersion", { asset_id: asset.id })).data;
    strictEqual(first.version, 1);
    strictEqual(second.version, 2);
    strictEqual(first.is_published, true);
    const status = await q(session, `select status.name, user.username from AssetVersion where id is ${first.id}`);
    strictEqual(status.data[0].status.name, "Pending Review");
    strictEqual(status.data[0].user.username, running.apiUser);
    const other = (await session.create("Asset", { name: "plate", context_id: shot.id, type_id: assetType.id })).data;
    strictEqual((await session.create("AssetVersion", { asset_id: other.id })).data.version, 1);
    const latest = await q(session, `select latest_version.version from Asset where id is ${asset.id}`);
    strictEqual(latest.data[0].latest_version.version, 2);
  });

  await t.step("a sequence component's members are linked by updating its collection", async () => {
    const version = (await q(session, `AssetVersion where asset_id is ${asset.id} and version is 1`)).data[0];
    const sequence = (await session.create("SequenceComponent", {
      name: "main",
      version_id: version.id,
      padding: 4,
      file_type: ".exr",
    })).data;
    strictEqual(sequence.system_type, "sequence");
    const members = [];
    for (const frame of [1001, 1002, 1003]) {
      members.push((await session.create("FileComponent", { name: String(frame), file_type: ".exr", size: 10 })).data);
    }
    await session.update("SequenceComponent", [sequence.id], {
      members: members.map((member) => ({ __entity_type__: "FileComponent", id: member.id })),
    });
    const loaded = await q(
      session,
      `select members.name, members.container_id from SequenceComponent where id is ${sequence.id}`,
    );
    deepStrictEqual(loaded.data[0].members.map((member: E) => member.name), ["1001", "1002", "1003"]);
    ok(loaded.data[0].members.every((member: E) => member.container_id === sequence.id));
    const components = await q(session, `select name from Component where version_id is ${version.id}`);
    deepStrictEqual(components.data.map((c: E) => c.__entity_type__), ["SequenceComponent"]);
  });

  await t.step("notes attach through the notes collection and get author and date", async () => {
    const version = (await q(session, `AssetVersion where asset_id is ${asset.id} and version is 1`)).data[0];
    const note = (await session.create("Note", {
      content: "looks good",
      user_id: session.serverInformation!.user_information!.id,
    })).data;
    await session.update("AssetVersion", [version.id], { notes: [{ __entity_type__: "Note", id: note.id }] });
    const loaded = await q(
      session,
      `select content, parent_id, parent_type, author.username, date from Note where id is ${note.id}`,
    );
    strictEqual(loaded.data[0].parent_id, version.id);
    strictEqual(loaded.data[0].parent_type, "AssetVersion");
    strictEqual(loaded.data[0].author.username, running.apiUser);
    ok(loaded.data[0].date);
  });

  await t.step("metadata rows are keyed by parent and key", async () => {
    await session.create("Metadata", { parent_id: shot.id, parent_type: "Shot", key: "source", value: "plate_v003" });
    const loaded = await q(session, `select metadata from Shot where id is ${shot.id}`);
    deepStrictEqual(
      loaded.data[0].metadata.map((m: E) => [m.key, m.value]),
      [["source", "plate_v003"]],
    );
    await rejects(
      session.create("Metadata", { parent_id: shot.id, parent_type: "Shot", key: "source", value: "x" }),
      /DuplicateEntryError/,
    );
  });

  await t.step("custom attributes are dense on read and upserted on write", async () => {
    const before = await q(session, `select custom_attributes from Shot where id is ${shot.id}`);
    const values = before.data[0].custom_attributes as Array<{ key: string; value: unknown; configuration_id: string }>;
    const frameStart = values.find((value) => value.key === "frameStart")!;
    strictEqual(frameStart.value, 1001);
    await session.update("ContextCustomAttributeValue", [frameStart.configuration_id, shot.id], { value: 990 });
    const after = await q(session, `select custom_attributes from Shot where id is ${shot.id}`);
    strictEqual(after.data[0].custom_attributes.find((value: E) => value.key === "frameStart").value, 990);
    // hierarchical: the task below inherits the shot's value
    const onTask = await q(session, `select custom_attributes from Task where id is ${task.id}`);
    strictEqual(onTask.data[0].custom_attributes.find((value: E) => value.key === "frameStart").value, 990);
  });

  await t.step("update changes values; immutable keys are refused", async () => {
    const updated = await session.update("Task", [task.id], { description: "key light pass" });
    strictEqual(updated.data.description, "key light pass");
    await rejects(session.update("Task", [task.id], { object_type_id: OBJECT_TYPE_IDS.Shot }), /cannot change/);
  });

  await t.step("delete cascades to what an entity owns; a used location cannot be deleted", async () => {
    const version = (await q(session, `AssetVersion where asset_id is ${asset.id} and version is 1`)).data[0];
    const component = (await session.create("FileComponent", { name: "main", version_id: version.id })).data;
    await session.create("ComponentLocation", {
      component_id: component.id,
      location_id: LOCATION_IDS["ftrack.unmanaged"],
      resource_identifier: "/x",
    });
    await rejects(session.delete("Location", [LOCATION_IDS["ftrack.unmanaged"]]), /components are still in it/);
    await session.delete("Shot", [shot.id]);
    for (const type of ["Task", "Asset", "AssetVersion", "Component", "ComponentLocation", "Note"]) {
      strictEqual((await q(session, `select id from ${type}`)).data.length, 0, `${type} left behind`);
    }
  });
});

Deno.test("queries page exactly and project what is asked", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const { sequence } = await makeShot(session);
  for (let i = 2; i <= 12; i++) {
    await session.create("Shot", { name: `sh${String(i * 10).padStart(3, "0")}`, parent_id: sequence.id });
  }
  const all = await q(session, "select name from Shot order by name");
  strictEqual(all.data.length, 12);
  strictEqual(all.metadata.next.offset, null);
  const names: string[] = [];
  let offset: number | null = 0;
  let calls = 0;
  while (offset !== null) {
    const page = await q(session, `select name from Shot order by name offset ${offset} limit 5`);
    names.push(...page.data.map((shot: E) => shot.name));
    offset = page.metadata.next.offset;
    calls++;
  }
  strictEqual(calls, Math.ceil(12 / 5));
  deepStrictEqual(names, all.data.map((shot: E) => shot.name));
  const last = await q(session, "select name from Shot order by name offset 10 limit 2");
  strictEqual(last.metadata.next.offset, null);
  const projected = await q(session, "select name, parent.name, project.full_name from Shot limit 1");
  const shot = projected.data[0];
  deepStrictEqual(Object.keys(shot).sort(), [
    "__entity_type__",
    "context_type",
    "id",
    "name",
    "object_type_id",
    "parent",
    "project",
    "project_id",
  ]);
  strictEqual(shot.parent.name, "sq010");
  strictEqual(shot.project.full_name, "demo");
});

Deno.test("createComponent uploads to ftrack.server; the data downloads intact and can be removed", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
  const file = new File([bytes], "beauty.1001.exr");
  const response = await session.createComponent(file);
  const component = response[0]!.data;
  strictEqual(component.name, "beauty.1001");
  strictEqual(component.file_type, ".exr");
  strictEqual(component.size, bytes.length);
  const locations = await q(
    session,
    `select location_id, resource_identifier from ComponentLocation where component_id is ${component.id}`,
  );
  strictEqual(locations.data[0].location_id, LOCATION_IDS["ftrack.server"]);
  const url = session.getComponentUrl(component.id)!;
  const download = await fetch(url);
  strictEqual(download.status, 200);
  const received = new Uint8Array(await download.arrayBuffer());
  strictEqual(createHash("sha1").update(received).digest("hex"), createHash("sha1").update(bytes).digest("hex"));
  const remove = await fetch(url.replace("/component/get", "/component/remove"));
  strictEqual(remove.status, 200);
  await remove.body?.cancel();
  const gone = await fetch(url);
  strictEqual(gone.status, 404);
  await gone.body?.cancel();
});

Deno.test({
  name: "event hub: subscribe, publish and reply between two sessions; ftrack.update after a commit",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using running = await memoryTracker();
    const { user, apiKey } = running.tracker.addUser({ username: "artist" });
    const first = await openSession(running, { eventHub: true });
    const second = await openSession(running, { eventHub: true, apiUser: String(user.username), apiKey });
    try {
      await waitFor(() => running.tracker.hub.connectionCount === 2);
      const received: E[] = [];
      // The JavaScript client only subscribes as `topic=value`; the full grammar is tested on raw sockets.
      second.eventHub.subscribe("topic=ferry.test", (event: E) => {
        received.push(event);
        return event.data.kind === "ping" ? { pong: event.data.n } : null;
      });
      const updates: E[] = [];
      first.eventHub.subscribe("topic=ftrack.update", (event: E) => {
        updates.push(event);
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const reply = await new Promise<{ data: unknown }>((resolve, reject) => {
        first.eventHub.publish(new Event("ferry.test", { kind: "ping", n: 7 }), { onReply: resolve, timeout: 10 })
          .catch(reject);
      });
      deepStrictEqual(reply.data, { pong: 7 });
      strictEqual(received.length, 1);
      strictEqual((received[0]!.source.user as { username: string }).username, running.apiUser);
      first.eventHub.publish(new Event("ferry.test", { kind: "other" }));

      const schema = (await q(first, "select id from ProjectSchema")).data[0];
      const project =
        (await first.create("Project", { name: "evt", full_name: "evt", project_schema_id: schema.id })).data;
      const shot = (await first.create("Shot", { name: "sh010", parent_id: project.id })).data;
      await first.update("Shot", [shot.id], {
        status_id: (await q(first, 'Status where name is "In progress"')).data[0].id,
      });
      await waitFor(() => updates.length >= 3);
      const change = updates[2]!.data.entities[0]!;
      strictEqual(change.action, "update");
      strictEqual(change.entityType, "task");
      strictEqual(change.entity_type, "Shot");
      strictEqual(change.entityId, shot.id);
      deepStrictEqual(change.keys, ["statusid"]);
      ok(change.changes.statusid.new);
      deepStrictEqual((change.parents as Array<{ entityId: string }>).map((parent) => parent.entityId), [
        shot.id,
        project.id,
      ]);
      strictEqual(received.length, 2, "the second test event arrived too");
      strictEqual(updates.every((update: E) => update.topic === "ftrack.update"), true);
    } finally {
      first.eventHub.disconnect();
      second.eventHub.disconnect();
    }
  },
});

Deno.test("wrong credentials, unknown actions, bad queries and half-failing batches", async (t) => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  await t.step("wrong credentials are refused", async () => {
    const stranger = new Session(running.url, running.apiUser, "not-the-key", { autoConnectEventHub: false });
    await rejects(stranger.initializing, (error: Error) => /not valid/.test(error.message));
  });
  await t.step("an unknown action names itself the way the clients expect", async () => {
    await rejects(session.call([{ action: "fly" } as never]), /Invalid action u'fly'/);
  });
  await t.step("a malformed query is a clear error", async () => {
    await rejects(q(session, "select name from Shot where"), /Cannot parse query/);
    await rejects(q(session, "select name from Spaceship"), /'Spaceship' does not exist/);
  });
  await t.step("a batch failing half-way leaves nothing behind", async () => {
    const before = (await q(session, "select id from Project")).data.length;
    const schema = (await q(session, "select id from ProjectSchema")).data[0];
    await rejects(session.call([
      {
        action: "create",
        entity_type: "Project",
        entity_data: { __entity_type__: "Project", name: "half", project_schema_id: schema.id },
      },
      {
        action: "create",
        entity_type: "Shot",
        entity_data: { __entity_type__: "Shot", name: "orphan", parent_id: "no-such-parent" },
      },
    ] as never));
    strictEqual((await q(session, "select id from Project")).data.length, before);
    strictEqual((await q(session, 'select id from Project where name is "half"')).data.length, 0);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("Timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
