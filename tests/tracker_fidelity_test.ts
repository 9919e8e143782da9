/**
 * The last differences between the embedded tracker and an ftrack site (issue 14), each through the
 * official `@ftrack/api` client, or on the wire for what the Python client sends differently.
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { projectSchema, type Session } from "@ftrack/api";
import loglevel from "npm:loglevel@1";
import { memoryTracker, openSession } from "./_tracker.ts";
import { startTracker } from "../services/tracker/server.ts";
import { pythonJsonDumps } from "../services/tracker/schema/python_json.ts";

// Refusals are what some tests expect: the client's logging of each would only hide real failures.
loglevel.getLogger("ftrack_api").setLevel("silent");

// deno-lint-ignore no-explicit-any
type E = any;
type Running = Awaited<ReturnType<typeof memoryTracker>>;

/** One raw `POST /api` call (the Python client's way: every header, strict API off). */
async function wire(running: Running, operations: unknown[]): Promise<{ text: string; json: E }> {
  const response = await fetch(`${running.url}/api`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "ftrack-user": running.apiUser,
      "ftrack-api-key": running.apiKey,
      "ftrack-strict-api": "false",
    },
    body: JSON.stringify(operations),
  });
  const text = await response.text();
  return { text, json: JSON.parse(text) };
}

/** Runs Python 3 on a script with `input` on stdin; returns its stdout. */
function python(script: string, input: string): string {
  const run = spawnSync("python3", ["-c", script], { input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  strictEqual(run.status, 0, `python3 failed: ${run.stderr}`);
  return run.stdout.trim();
}

const PYTHON_SCHEMA_HASH = "import hashlib, json, sys\n" +
  "schemas = json.loads(sys.stdin.read())\n" +
  "print(hashlib.md5(json.dumps(schemas, sort_keys=True).encode('utf-8')).hexdigest())";

async function project(session: Session, name = "fidelity") {
  const schema = (await session.query("select id from ProjectSchema")).data[0]!;
  return (await session.create("Project", { name, full_name: name, project_schema_id: schema.id })).data;
}

Deno.test("query_server_information: schema_hash is what the Python client computes from query_schemas", async () => {
  await using running = await memoryTracker();
  const { json } = await wire(running, [{ action: "query_server_information" }]);
  const { text } = await wire(running, [{ action: "query_schemas" }]);
  // The Python client caches the schemas it read (json.dump, json.load) and hashes json.dumps(sort_keys=True).
  const schemas = JSON.stringify(JSON.parse(text)[0]);
  strictEqual(json[0].schema_hash, python(PYTHON_SCHEMA_HASH, schemas));
});

Deno.test("pythonJsonDumps() writes Python's json.dumps(sort_keys=True) byte for byte", () => {
  const value = {
    "z": [
      0,
      -0,
      1,
      -1,
      0.5,
      0.1,
      1e-7,
      1.5e-5,
      0.0001,
      123456.789,
      1e21,
      2.5e22,
      -3.25e-9,
      1e15 + 0.5,
      9007199254740993,
    ],
    "é": 'naïve ✓ \u0001 \u007f \n\t"\\/ 😀 \u2028',
    "a": { "b": null, "A": true, "_": false, "ä": [], "😀": {}, "\uffff": 1 },
  };
  const text = JSON.stringify(value);
  const expected = python("import json, sys\nprint(json.dumps(json.loads(sys.stdin.read()), sort_keys=True))", text);
  strictEqual(pythonJsonDumps(value), expected);
  strictEqual(
    createHash("md5").update(pythonJsonDumps(value)).digest("hex"),
    python(PYTHON_SCHEMA_HASH.replace("schemas", "value").replaceAll("schemas", "value"), text),
  );
});

Deno.test("query_schemas: defaults follow ftrack's (no User.is_active default; the server sets it on create)", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const schemas: E[] = (await wire(running, [{ action: "query_schemas" }])).json[0];
  const property = (id: string, name: string) => schemas.find((schema) => schema.id === id)!.properties[name];
  strictEqual(property("User", "is_active").default, undefined);
  strictEqual(property("Status", "is_active").default, undefined);
  strictEqual(property("Project", "status").default, undefined);
  strictEqual(property("TypedContext", "priority_id").default, undefined);
  strictEqual(property("Shot", "priority_id").default, "9661b320-3a0c-11e2-81c1-0800200c9a66");
  strictEqual(property("User", "resource_type").default, "user");
  // Without the default, a create that leaves is_active out still makes an active user.
  const user = (await session.create("User", { username: "no-default" })).data;
  strictEqual(user.is_active, true);
  const made = await project(session);
  strictEqual(
    (await session.query(`select status, root from Project where id is "${made.id}"`)).data[0]!.status,
    "active",
  );
});

Deno.test("create/query: datetimes keep their microseconds, as sent", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const made = await project(session);
  const shot = (await wire(running, [{
    action: "create",
    entity_type: "Shot",
    entity_data: {
      __entity_type__: "Shot",
      name: "sh010",
      parent_id: made.id,
      start_date: { __type__: "datetime", value: "2024-03-01T10:20:30.123456+01:00" },
      end_date: { __type__: "datetime", value: "2024-03-02T08:00:00" },
    },
  }])).json[0].data;
  deepStrictEqual(shot.start_date, { __type__: "datetime", value: "2024-03-01T09:20:30.123456" });
  deepStrictEqual(shot.end_date, { __type__: "datetime", value: "2024-03-02T08:00:00" });
  // The JavaScript client reads the fraction (to its milliseconds).
  const read = (await session.query(`select start_date from Shot where id is "${shot.id}"`)).data[0]!;
  strictEqual(new Date(read.start_date.toISOString()).toISOString(), "2024-03-01T09:20:30.123Z");
  const { json } = await wire(running, [{
    action: "query",
    expression: `select start_date from Shot where start_date is "2024-03-01T09:20:30.123456"`,
  }]);
  deepStrictEqual(json[0].data.map((row: E) => row.start_date.value), ["2024-03-01T09:20:30.123456"]);
  const later = await wire(running, [{
    action: "query",
    expression: `select id from Shot where start_date > "2024-03-01T09:20:30.123455"`,
  }]);
  strictEqual(later.json[0].data.length, 1);
});

Deno.test("create Asset: the type is optional, and untyped assets of one name may share a context", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const made = await project(session);
  const first = (await session.create("Asset", { name: "plate", context_id: made.id })).data;
  const second = (await session.create("Asset", { name: "plate", context_id: made.id })).data;
  ok(first.id !== second.id);
  const type = (await session.query('select id from AssetType where short is "plate"')).data[0]!;
  await session.create("Asset", { name: "plate", context_id: made.id, type_id: type.id });
  await rejects(
    session.create("Asset", { name: "plate", context_id: made.id, type_id: type.id }),
    /DuplicateEntryError/,
  );
  strictEqual((await session.query(`select id from Asset where context_id is "${made.id}"`)).data.length, 3);
});

Deno.test("create Component: a plain Component is a concrete type", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const component = (await session.create("Component", { name: "plain", file_type: ".bin", size: 3 })).data;
  strictEqual(component.__entity_type__, "Component");
  strictEqual(component.system_type, "file");
  const found = await session.query(`select name, system_type from Component where id is "${component.id}"`);
  strictEqual(found.data[0]!.__entity_type__, "Component");
  strictEqual(found.data[0]!.name, "plain");
  await session.create("ComponentLocation", {
    component_id: component.id,
    location_id: "cb268ecc-8809-11e3-a7e2-20c9d081909b",
    resource_identifier: "/mnt/plain.bin",
  });
});

Deno.test("ProjectSchema._schemas: type_id is the ObjectType id, so getStatuses works for object types", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const schema = (await session.query("select id from ProjectSchema")).data[0]!;
  const statuses: E[] = await projectSchema.getStatuses(session, schema.id, "Shot");
  deepStrictEqual(statuses.map((status) => status.name), [
    "Not started",
    "In progress",
    "On hold",
    "Completed",
    "Omitted",
  ]);
  // The Python client's get_statuses / get_types read _schemas[].type_id, then SchemaStatus / SchemaType by schema id.
  const shot = "bad911de-3bd6-47b9-8b46-3476e237cb36";
  const { json } = await wire(running, [{
    action: "query",
    expression: `select _schemas.type_id, _schemas.object_type_id from ProjectSchema where id is "${schema.id}"`,
  }]);
  const shotSchema = json[0].data[0]!._schemas.find((entry: E) => entry.type_id === shot);
  strictEqual(shotSchema.object_type_id, shot);
  const types = await session.query(`select task_type.name from SchemaType where schema_id is ${shotSchema.id}`);
  deepStrictEqual(types.data.map((row: E) => row.task_type.name), ["Generic"]);
  // A schema made for an object type with type_id alone gets object_type_id too (one value on ftrack).
  const assetBuild = "4be63b64-5010-42fb-bf1f-428af9d638f0";
  const made = (await session.create("Schema", { project_schema_id: schema.id, type_id: assetBuild })).data;
  strictEqual(made.object_type_id, assetBuild);
  await rejects(session.update("Schema", [made.id], { object_type_id: shot, type_id: assetBuild }), /same ObjectType/);
});

Deno.test("update: the answer lists the collections it set, as entity references", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const made = await project(session);
  const scope = (await session.create("Scope", { name: "fx" })).data;
  const { json } = await wire(running, [
    {
      action: "create",
      entity_type: "Metadata",
      entity_data: { __entity_type__: "Metadata", parent_id: made.id, parent_type: "Project", key: "k", value: "v" },
    },
    {
      action: "update",
      entity_type: "Project",
      entity_key: [made.id],
      entity_data: {
        __entity_type__: "Project",
        metadata: [{ __entity_type__: "Metadata", parent_id: made.id, key: "k" }],
        scopes: [{ __entity_type__: "Scope", id: scope.id }],
      },
    },
  ]);
  const answer = json[1];
  strictEqual(answer.action, "update");
  deepStrictEqual(answer.data.metadata, [{ __entity_type__: "Metadata", parent_id: made.id, key: "k" }]);
  deepStrictEqual(answer.data.scopes, [{ __entity_type__: "Scope", id: scope.id }]);
  strictEqual(answer.data.id, made.id);
});

Deno.test("update Task scopes: scopes are added, queried back and removed", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const made = await project(session);
  const task = (await session.create("Task", { name: "comp", parent_id: made.id })).data;
  const fx = (await session.create("Scope", { name: "fx" })).data;
  const lighting = (await session.create("Scope", { name: "lighting" })).data;
  const reference = (scope: E) => ({ __entity_type__: "Scope", id: scope.id });
  await session.update("Task", [task.id], { scopes: [reference(fx), reference(lighting)] });
  const found = await session.query('select scopes.name from Task where scopes.name is "fx"');
  deepStrictEqual(found.data.map((row: E) => row.id), [task.id]);
  deepStrictEqual(found.data[0]!.scopes.map((scope: E) => scope.name).sort(), ["fx", "lighting"]);
  await session.update("Task", [task.id], { scopes: [reference(lighting)] });
  strictEqual((await session.query('select id from Task where scopes.name is "fx"')).data.length, 0);
  const left = await session.query(`select scopes.name from Task where id is "${task.id}"`);
  deepStrictEqual(left.data[0]!.scopes.map((scope: E) => scope.name), ["lighting"]);
});

Deno.test("encode_media: the Job's data lists the planned outputs as soon as the job exists", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const component = (await session.create("FileComponent", { name: "movie", file_type: ".mov", size: 0 })).data;
  const [answer]: E[] = await session.call([
    { action: "encode_media", component_id: component.id, version_id: null, keep_original: true } as E,
  ]);
  // Read before the job may have finished: the outputs are already named.
  const job = (await session.query(`select status, data from Job where id is "${answer.job_id}"`)).data[0]!;
  const data = JSON.parse(job.data);
  deepStrictEqual(data.output.map((output: E) => output.format), ["video/mp4", "image/jpeg"]);
  ok(data.output.every((output: E) => typeof output.component_id === "string" && output.component_id.length > 0));
  strictEqual(data.source_component_id, component.id);
  strictEqual(data.keep_original, true);
  await running.tracker.settle();
});

Deno.test("Note: the author is a recipient, the category comes from the label link, replies are listed on the parent", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const made = await project(session);
  const task = (await session.create("Task", { name: "comp", parent_id: made.id })).data;
  const me = (await session.query(`select id from User where username is "${running.apiUser}"`)).data[0]!;
  const artist = running.tracker.addUser({ username: "artist" }).user;
  const label = (await session.query('select id from NoteLabel where name is "Client feedback"')).data[0]!;
  const noteId = crypto.randomUUID();
  const replyId = crypto.randomUUID();
  const ref = (type: string, id: string) => ({ __entity_type__: type, id });
  // What the Python client sends for task.create_note(…, recipients=[artist], labels=[label]) and note.create_reply(…).
  const { json } = await wire(running, [
    {
      action: "create",
      entity_type: "Note",
      entity_key: [noteId],
      entity_data: { __entity_type__: "Note", id: noteId, content: "Softer key", author: ref("User", String(me.id)) },
    },
    {
      action: "update",
      entity_type: "Task",
      entity_key: [task.id],
      entity_data: { __entity_type__: "Task", notes: [ref("Note", noteId)] },
    },
    {
      action: "create",
      entity_type: "Recipient",
      entity_key: [noteId, artist.id],
      entity_data: { __entity_type__: "Recipient", note_id: noteId, resource_id: artist.id },
    },
    {
      action: "create",
      entity_type: "NoteLabelLink",
      entity_key: [noteId, label.id],
      entity_data: { __entity_type__: "NoteLabelLink", note_id: noteId, label_id: label.id },
    },
    {
      action: "create",
      entity_type: "Note",
      entity_key: [replyId],
      entity_data: { __entity_type__: "Note", id: replyId, content: "Done", author: ref("User", String(artist.id)) },
    },
    {
      action: "update",
      entity_type: "Note",
      entity_key: [noteId],
      entity_data: { __entity_type__: "Note", replies: [ref("Note", replyId)] },
    },
  ]);
  ok(Array.isArray(json), JSON.stringify(json));
  deepStrictEqual(json[5].data.replies, [ref("Note", replyId)]);
  const note = (await session.query(
    `select recipients.resource_id, category.name, replies.content, replies.in_reply_to_id, parent_id from Note where id is "${noteId}"`,
  )).data[0]!;
  deepStrictEqual(note.recipients.map((recipient: E) => recipient.resource_id).sort(), [artist.id, me.id].sort());
  strictEqual(note.category.name, "Client feedback");
  deepStrictEqual(note.replies.map((reply: E) => reply.content), ["Done"]);
  strictEqual(note.replies[0].in_reply_to_id, noteId);
  strictEqual(note.parent_id, task.id);
  const reply = (await session.query(`select recipients.resource_id from Note where id is "${replyId}"`)).data[0]!;
  deepStrictEqual(reply.recipients.map((recipient: E) => recipient.resource_id), [artist.id]);
  const thread = await session.query(`select id from Note where in_reply_to_id is "${noteId}"`);
  deepStrictEqual(thread.data.map((row: E) => row.id), [replyId]);
});

Deno.test("get_widget_url: the web view's page for a known widget, else an error naming the widget", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const made = await project(session);
  const shot = (await session.create("Shot", { name: "sh010", parent_id: made.id })).data;
  const widget = (name: string, extra: Record<string, unknown> = {}) =>
    wire(running, [{ action: "get_widget_url", name, theme: "dark", ...extra }]);

  const before = await widget("info", { entity_type: "Shot", entity_key: [shot.id] });
  strictEqual(before.json.exception, "ServerError");
  ok(/widget 'info'.*--web-url/.test(before.json.content), before.json.content);

  running.tracker.webUrl = "http://127.0.0.1:8072/?token=secret";
  const info = await widget("info", { entity_type: "Shot", entity_key: [shot.id] });
  strictEqual(info.json[0].widget_url, `http://127.0.0.1:8072/browse/${shot.id}?token=secret&theme=dark`);
  const browser = await widget("tasks_browser");
  strictEqual(browser.json[0].widget_url, "http://127.0.0.1:8072/?token=secret&theme=dark");
  const unknown = await widget("timesheet");
  ok(/widget 'timesheet'.*'info' and 'tasks_browser'/.test(unknown.json.content), unknown.json.content);
  const missing = await widget("info", { entity_type: "Shot", entity_key: ["nope"] });
  ok(/Shot 'nope' does not exist/.test(missing.json.content), missing.json.content);
});

Deno.test("Session.search: rows of the query holding every term, under a context and of object types", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const made = await project(session, "searchable");
  const sequence = (await session.create("Sequence", { name: "sq010", parent_id: made.id })).data;
  const shots = [];
  for (const name of ["sh010", "sh020", "sh030"]) {
    shots.push((await session.create("Shot", { name, parent_id: sequence.id })).data);
  }
  const task = (await session.create("Task", { name: "comp sh020", parent_id: shots[1]!.id })).data;
  const asset = (await session.create("Asset", { name: "plate", context_id: shots[1]!.id })).data;
  const version = (await session.create("AssetVersion", { asset_id: asset.id, comment: "Softer key" })).data;

  const found = await session.search({ expression: "select name from Shot", entityType: "Shot", terms: ["SH02"] });
  strictEqual(found.action, "search");
  deepStrictEqual(found.data.map((row: E) => row.name), ["sh020"]);
  strictEqual(found.metadata.next.offset, null);
  // A term found on the path: the versions under sh020, whose comment holds the other term.
  const versions = await session.search({
    expression: "select id, comment from AssetVersion",
    entityType: "AssetVersion",
    terms: ["sh020", "softer"],
  });
  deepStrictEqual(versions.data.map((row: E) => row.id), [version.id]);
  const under = await session.search({
    expression: "select name from TypedContext",
    entityType: "TypedContext",
    terms: ["sh020"],
    contextId: shots[1]!.id,
    objectTypeIds: ["11c137c0-ee7e-4f9c-91c5-8c77cec22b2c"],
  });
  deepStrictEqual(under.data.map((row: E) => row.id), [task.id]);
  const paged = await session.search({ expression: "select name from Shot limit 2", entityType: "Shot", terms: [] });
  deepStrictEqual([paged.data.length, paged.metadata.next.offset], [2, 2]);
  await rejects(session.search({ expression: "select name from Shot", entityType: "Task", terms: [] }), /of 'Shot'/);
});

/** A component with stored data (a PNG made by ffmpeg, 64×48) recorded in ftrack.server. */
async function storedImage(running: Running, session: Session) {
  const made = spawnSync("ffmpeg", [
    "-v",
    "error",
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=64x48",
    "-frames:v",
    "1",
    "-f",
    "image2",
    "-c:v",
    "png",
    "pipe:1",
  ]);
  strictEqual(made.status, 0, String(made.stderr));
  const bytes = new Uint8Array(made.stdout);
  const component = (await session.create("FileComponent", { name: "thumb", file_type: ".png", size: bytes.length }))
    .data;
  await running.tracker.files.write(component.id, bytes);
  await session.create("ComponentLocation", {
    component_id: component.id,
    location_id: "3a372bde-05bc-11e4-8908-20c9d081909b",
    resource_identifier: component.id,
  });
  return { component, bytes };
}

/** Width and height of a PNG (its IHDR chunk). */
function pngSize(bytes: Uint8Array): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  strictEqual(new TextDecoder().decode(bytes.slice(12, 16)), "IHDR");
  return [view.getUint32(16), view.getUint32(20)];
}

Deno.test("/component/thumbnail?size=N: the image scaled to N pixels wide", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const { component, bytes } = await storedImage(running, session);
  const auth = `username=${running.apiUser}&apiKey=${running.apiKey}`;
  const full = await fetch(`${running.url}/component/thumbnail?id=${component.id}&${auth}`);
  deepStrictEqual(new Uint8Array(await full.arrayBuffer()), bytes);
  for (const size of [10, 32]) {
    const scaled = await fetch(`${running.url}/component/thumbnail?id=${component.id}&size=${size}&${auth}`);
    strictEqual(scaled.headers.get("content-type"), "image/png");
    deepStrictEqual(pngSize(new Uint8Array(await scaled.arrayBuffer())), [size, Math.round(size * 48 / 64)]);
  }
  const bad = await fetch(`${running.url}/component/thumbnail?id=${component.id}&size=0&${auth}`);
  strictEqual(bad.status, 400);
  ok((await bad.text()).includes("size '0'"));
});

Deno.test("ComponentLocation.url and thumbnail_url: signed URLs a client opens without credentials", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const { component, bytes } = await storedImage(running, session);
  const location = (await session.query(
    `select url from ComponentLocation where component_id is "${component.id}"`,
  )).data[0]!;
  const url = location.url.url as string;
  ok(url.startsWith(`${running.url}/component/get?id=${component.id}&`), url);
  ok(!url.includes(running.apiKey), "no API key in the URL");
  deepStrictEqual(new Uint8Array(await (await fetch(url)).arrayBuffer()), bytes);
  // Another component's id, or a changed signature, is refused.
  const tampered = new URL(url);
  tampered.searchParams.set("signature", "A" + tampered.searchParams.get("signature")!.slice(1));
  strictEqual((await fetch(tampered)).status, 401);
  await (await fetch(tampered)).body?.cancel();
  const made = await project(session);
  await session.update("Project", [made.id], { thumbnail_id: component.id });
  const thumbnail = (await session.query(`select thumbnail_url from Project where id is "${made.id}"`)).data[0]!;
  const small = await fetch(`${thumbnail.thumbnail_url.url}&size=16`);
  deepStrictEqual(pngSize(new Uint8Array(await small.arrayBuffer())), [16, 12]);
});

Deno.test("Tracker.open: datetimes stored with milliseconds by an older ferry compare with new ones", async () => {
  const data = await Deno.makeTempDir({ prefix: "ferry-fidelity-" });
  try {
    {
      await using running = await startTracker({ port: 0, data });
      const session = await openSession(running);
      const made = await project(session);
      const shot = (await session.create("Shot", { name: "sh010", parent_id: made.id })).data;
      // What an older ferry stored: milliseconds only.
      running.tracker.store.transaction(() => {
        running.tracker.store.update("Context", String(shot.id), { start_date: "2024-03-01T09:20:30.120" });
      });
      running.tracker.store.setSetting("datetime_fraction", "3");
    }
    await using reopened = await startTracker({ port: 0, data });
    const { json } = await wire(reopened, [{
      action: "query",
      expression: 'select start_date from Shot where start_date is "2024-03-01T09:20:30.12"',
    }]);
    deepStrictEqual(json[0].data.map((row: E) => row.start_date.value), ["2024-03-01T09:20:30.120000"]);
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("deno task tracker --web-url: a URL is needed, named in the one-line error; --help tells of it", async () => {
  const main = new URL("../services/tracker/main.ts", import.meta.url).pathname;
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), { args: ["run", "--allow-all", main, ...args] }).output();
  const bad = await run(["--port", "0", "--data", ":memory:", "--web-url", "ftp://somewhere"]);
  strictEqual(bad.code, 2);
  const stderr = new TextDecoder().decode(bad.stderr);
  ok(/web-url.*http\(s\) address/.test(stderr), stderr);
  const help = new TextDecoder().decode((await run(["--help"])).stdout);
  ok(help.includes("--web-url <url>") && help.includes("get_widget_url"), help);
  ok(help.includes("project access <project> <username>") && help.includes("read-only"), help);
});
