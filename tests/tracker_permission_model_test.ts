/**
 * The permission model of the embedded tracker (issue 14): security roles (administrator, normal
 * user, read-only API user) and private projects with project-level access, checked on every
 * read (queries, searches, events, downloads) and every write. Through the official client.
 */
import { error as ftrackError, Event, type Session } from "@ftrack/api";
import loglevel from "npm:loglevel@1";
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { memoryTracker, openSession } from "./_tracker.ts";
import { startTracker } from "../services/tracker/server.ts";

// Refusals are what these tests expect: the client's logging of each would only hide real failures.
loglevel.getLogger("ftrack_api").setLevel("silent");

// deno-lint-ignore no-explicit-any
type E = any;
type Running = Awaited<ReturnType<typeof memoryTracker>>;

function permissionDenied(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    ok(error instanceof ftrackError.ServerPermissionDeniedError, `expected a permission error, got ${error}`);
    ok(pattern.test((error as Error).message), (error as Error).message);
    return true;
  };
}

async function userSession(running: Running, username: string, role?: "user" | "read_only") {
  const { user, apiKey } = running.tracker.addUser({ username }, { role });
  return { user, apiKey, session: await openSession(running, { apiUser: username, apiKey }) };
}

/** A project (private or not) with a shot, an asset and a version, made by the administrator. */
async function production(admin: Session, name: string, isPrivate: boolean) {
  const schema = (await admin.query("select id from ProjectSchema")).data[0]!;
  const project = (await admin.create("Project", {
    name,
    full_name: name,
    project_schema_id: schema.id,
    is_private: isPrivate,
  })).data;
  const shot = (await admin.create("Shot", { name: `${name}_sh010`, parent_id: project.id })).data;
  const type = (await admin.query('select id from AssetType where short is "plate"')).data[0]!;
  const asset = (await admin.create("Asset", { name: "plate", context_id: shot.id, type_id: type.id })).data;
  const version = (await admin.create("AssetVersion", { asset_id: asset.id })).data;
  return { project, shot, asset, version };
}

Deno.test("read-only API user: reads what they see, every write refused with ftrack's PermissionError", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const open = await production(admin, "open", false);
  const { session: viewer, user } = await userSession(running, "viewer", "read_only");
  strictEqual(running.tracker.keys.role(String(user.id)), "read_only");

  const shots = await viewer.query(`select name from Shot where id is "${open.shot.id}"`);
  strictEqual(shots.data[0]!.name, "open_sh010");
  await rejects(viewer.create("Shot", { name: "sh020", parent_id: open.project.id }), permissionDenied(/read-only/));
  await rejects(viewer.update("Shot", [open.shot.id], { name: "renamed" }), permissionDenied(/'update'.*read-only/));
  await rejects(viewer.delete("AssetVersion", [open.version.id]), permissionDenied(/'delete'/));
  await rejects(
    viewer.call([{
      action: "get_upload_metadata",
      component_id: crypto.randomUUID(),
      file_name: "a.exr",
      file_size: 1,
    }]),
    permissionDenied(/'get_upload_metadata'/),
  );
  await rejects(
    viewer.call([{ action: "encode_media", component_id: crypto.randomUUID(), version_id: null, keep_original: true }]),
    permissionDenied(/'encode_media'/),
  );
  // Nothing changed: the rename was refused, the version is there.
  strictEqual((await admin.query(`select name from Shot where id is "${open.shot.id}"`)).data[0]!.name, "open_sh010");
  strictEqual((await admin.query(`select id from AssetVersion where id is "${open.version.id}"`)).data.length, 1);
  // A normal user writes.
  const { session: artist } = await userSession(running, "artist");
  await artist.update("Shot", [open.shot.id], { name: "open_sh011" });
});

Deno.test("private project: invisible in queries and searches to users without access, visible once granted", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const open = await production(admin, "open", false);
  const secret = await production(admin, "secret", true);
  const { session: artist } = await userSession(running, "artist");

  const names = async (session: Session, expression: string) =>
    (await session.query(expression)).data.map((row: E) => row.name ?? row.id).sort();
  deepStrictEqual(await names(artist, "select name from Project"), ["open"]);
  deepStrictEqual(await names(artist, "select name from Shot"), ["open_sh010"]);
  strictEqual((await artist.query("select id from AssetVersion")).data.length, 1);
  strictEqual((await artist.query(`select id from AssetVersion where id is "${secret.version.id}"`)).data.length, 0);
  strictEqual((await artist.query(`select id from Asset where context_id is "${secret.shot.id}"`)).data.length, 0);
  // Nested collections and subqueries leave the private project out too.
  const plates = await artist.query('select assets.context_id from AssetType where short is "plate"');
  deepStrictEqual(plates.data[0]!.assets.map((asset: E) => asset.context_id), [open.shot.id]);
  const status = await artist.query("select tasks.name from Status");
  ok(status.data.every((row: E) => row.tasks.every((task: E) => task.name !== "secret_sh010")));
  strictEqual(
    (await artist.query('select id from Shot where id in (select id from Shot where name like "secret%")')).data.length,
    0,
  );
  const searched = await artist.search({ expression: "select name from Shot", entityType: "Shot", terms: ["sh010"] });
  deepStrictEqual(searched.data.map((row: E) => row.name), ["open_sh010"]);
  // Paging counts only what the user sees.
  const page = await artist.query("select name from Project limit 1");
  deepStrictEqual([page.data.length, page.metadata.next.offset], [1, null]);

  // Writes into it are refused as well.
  await rejects(
    artist.create("Shot", { name: "sneak", parent_id: secret.project.id }),
    permissionDenied(/private project/),
  );
  await rejects(artist.update("Shot", [secret.shot.id], { name: "x" }), permissionDenied(/private project/));
  await rejects(artist.update("Shot", [open.shot.id], { parent_id: secret.project.id }), permissionDenied(/private/));

  // Administrators see everything; access granted per project.
  deepStrictEqual(await names(admin, "select name from Project"), ["open", "secret"]);
  running.tracker.setProjectAccess(String(secret.project.id), "artist", true);
  deepStrictEqual(await names(artist, "select name from Shot"), ["open_sh010", "secret_sh010"]);
  await artist.update("Shot", [secret.shot.id], { name: "secret_sh011" });
  running.tracker.setProjectAccess(String(secret.project.id), "artist", false);
  deepStrictEqual(await names(artist, "select name from Project"), ["open"]);

  // A user who makes a private project keeps access to it; others do not see it.
  const schema = (await artist.query("select id from ProjectSchema")).data[0]!;
  await artist.create("Project", { name: "mine", full_name: "mine", project_schema_id: schema.id, is_private: true });
  deepStrictEqual(await names(artist, "select name from Project"), ["mine", "open"]);
  const { session: other } = await userSession(running, "other");
  deepStrictEqual(await names(other, "select name from Project"), ["open"]);
});

Deno.test("private project: its links, lists and list items are invisible to users without access", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const open = await production(admin, "open", false);
  const secret = await production(admin, "secret", true);
  const { session: artist } = await userSession(running, "artist");
  for (const made of [open, secret]) {
    const other = (await admin.create("Shot", { name: `${made.project.name}_sh020`, parent_id: made.project.id })).data;
    await admin.create("TypedContextLink", { from_id: made.shot.id, to_id: other.id });
    const list = (await admin.create("TypedContextList", { name: "to comp", project_id: made.project.id })).data;
    await admin.create("ListObject", { list_id: list.id, entity_id: made.shot.id });
  }
  const count = async (session: Session, type: string) => (await session.query(`select id from ${type}`)).data.length;
  for (const type of ["TypedContextLink", "TypedContextList", "ListObject"]) {
    strictEqual(await count(admin, type), 2, `${type}: the administrator sees both projects'`);
    strictEqual(await count(artist, type), 1, `${type}: the artist sees only the open project's`);
  }
});

Deno.test("private project: its ftrack.update events reach only users with access", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const open = await production(admin, "open", false);
  const secret = await production(admin, "secret", true);
  const { apiKey } = running.tracker.addUser({ username: "artist" });
  const artist = await openSession(running, { apiUser: "artist", apiKey, eventHub: true });
  const heard: E[] = [];
  const waiting = new Map<string, () => void>();
  const openEvent = (name: string) => new Promise<void>((resolve) => waiting.set(name, resolve));
  await artist.eventHub.subscribe("topic=ftrack.update", (event: E) => {
    heard.push(...event.data.entities);
    for (const entity of event.data.entities) {
      const name = entity.changes?.name?.new;
      if (entity.entityId === open.shot.id && waiting.has(name)) waiting.get(name)!();
    }
  });
  // Subscriptions go in order on one socket: once a probe of our own comes back, the first one holds too.
  let probed = false;
  await artist.eventHub.subscribe("topic=ferry.probe", () => void (probed = true));
  for (let i = 0; i < 500 && !probed; i++) {
    if (artist.eventHub.isConnected()) artist.eventHub.publish(new Event("ferry.probe", {})).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  ok(probed, "the event hub did not answer");
  // The private change first, then the public one: had the first been sent, it would have come first.
  const first = openEvent("open_sh011");
  await admin.update("Shot", [secret.shot.id], { name: "secret_sh011" });
  await admin.update("Shot", [open.shot.id], { name: "open_sh011" });
  await first;
  ok(heard.some((entity) => entity.entityId === open.shot.id));
  ok(!heard.some((entity) => entity.entityId === secret.shot.id), JSON.stringify(heard));
  // Deleting the private project is not news to the artist either.
  const second = openEvent("open_sh012");
  await admin.delete("Project", [secret.project.id]);
  await admin.update("Shot", [open.shot.id], { name: "open_sh012" });
  await second;
  const secretIds = [secret.project.id, secret.shot.id, secret.asset.id, secret.version.id];
  ok(!heard.some((entity) => secretIds.includes(entity.entityId)), JSON.stringify(heard));
  // Before the tracker stops: a connected client would try to reconnect to it.
  artist.eventHub.disconnect();
});

Deno.test("private project: its component data is not served to users without access", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const secret = await production(admin, "secret", true);
  const { apiKey } = running.tracker.addUser({ username: "artist" });
  const component = (await admin.create("FileComponent", { name: "plate", version_id: secret.version.id })).data;
  await running.tracker.files.write(component.id, new TextEncoder().encode("frames"));
  await admin.create("ComponentLocation", {
    component_id: component.id,
    location_id: "3a372bde-05bc-11e4-8908-20c9d081909b",
    resource_identifier: component.id,
  });
  const get = (user: string, key: string) =>
    fetch(`${running.url}/component/get?id=${component.id}&username=${user}&apiKey=${key}`);
  const denied = await get("artist", apiKey);
  strictEqual(denied.status, 404);
  await denied.body?.cancel();
  const served = await get(running.apiUser, running.apiKey);
  strictEqual(await served.text(), "frames");
  // Once given access to the project, the artist is served.
  running.tracker.setProjectAccess(String(secret.project.id), "artist", true);
  strictEqual(await (await get("artist", apiKey)).text(), "frames");
});

const MAIN = new URL("../services/tracker/main.ts", import.meta.url).pathname;

/** Runs `deno task tracker` with `args` to its end. */
async function trackerCommand(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), { args: ["run", "--allow-all", MAIN, ...args] }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("deno task tracker user add --role, user role and project access, through a running tracker and on its data folder", async () => {
  const data = await Deno.makeTempDir({ prefix: "ferry-roles-" });
  try {
    // No tracker runs: the data folder is changed directly.
    const farm = await trackerCommand(["user", "add", "farm", "--role", "read-only", "--data", data]);
    strictEqual(farm.code, 0, farm.stderr);
    const farmKey = /api key: (\S+)/.exec(farm.stdout)![1]!;
    const bad = await trackerCommand(["user", "role", "farm", "superuser", "--data", data]);
    strictEqual(bad.code, 2, bad.stderr);
    ok(bad.stderr.includes("'superuser'"), bad.stderr);

    const running = await startTracker({ port: 0, data });
    try {
      const admin = await openSession(running);
      const secret = await production(admin, "secret", true);
      const asFarm = await openSession(running, { apiUser: "farm", apiKey: farmKey });
      strictEqual((await asFarm.query("select id from Project")).data.length, 0);
      await rejects(asFarm.create("Scope", { name: "x" }), permissionDenied(/read-only/));
      // Through the running tracker (its lock file): effective at once.
      const access = await trackerCommand(["project", "access", "secret", "farm", "--data", data]);
      strictEqual(access.code, 0, access.stderr);
      deepStrictEqual((await asFarm.query("select name from Project")).data.map((row: E) => row.name), ["secret"]);
      const role = await trackerCommand(["user", "role", "farm", "user", "--data", data]);
      strictEqual(role.code, 0, role.stderr);
      await asFarm.update("Shot", [secret.shot.id], { name: "farm_sh010" });
      const revoke = await trackerCommand(["project", "access", "secret", "farm", "--revoke", "--data", data]);
      strictEqual(revoke.code, 0, revoke.stderr);
      strictEqual((await asFarm.query("select id from Project")).data.length, 0);
      const viewer = await trackerCommand(["user", "add", "viewer", "--role", "read-only", "--data", data]);
      strictEqual(viewer.code, 0, viewer.stderr);
      const viewerKey = /api key: (\S+)/.exec(viewer.stdout)![1]!;
      const asViewer = await openSession(running, { apiUser: "viewer", apiKey: viewerKey });
      await rejects(asViewer.create("Scope", { name: "x" }), permissionDenied(/read-only/));
      const unknown = await trackerCommand(["project", "access", "nowhere", "viewer", "--data", data]);
      strictEqual(unknown.code, 1, unknown.stderr);
      ok(unknown.stderr.includes("'nowhere'"), unknown.stderr);
    } finally {
      await running.close();
    }
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("private project: no uploads to or encoding of its components by users without access", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const secret = await production(admin, "secret", true);
  const component = (await admin.create("FileComponent", { name: "plate", version_id: secret.version.id })).data;
  const { session: artist } = await userSession(running, "artist");
  await rejects(
    artist.call([{ action: "get_upload_metadata", component_id: component.id, file_name: "a.exr", file_size: 1 }]),
    permissionDenied(/upload data for FileComponent .* private project/),
  );
  await rejects(
    artist.call([{ action: "encode_media", component_id: component.id, version_id: null, keep_original: true }]),
    permissionDenied(/encode FileComponent/),
  );
});
