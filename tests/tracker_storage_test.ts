/**
 * The tracker's stored component data (issue 8, items 2, 4, 5, 6, 19): written once, removed with
 * its location record by those allowed to, one file per component id, private files, CORS for
 * configured origins only, no partial uploads left behind.
 */
import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Session } from "@ftrack/api";
import { openSession } from "./_tracker.ts";
import { type RunningTracker, startTracker } from "../services/tracker/server.ts";
import { corsOrigins } from "../services/tracker/cors_origins.ts";
import { UPLOAD_TTL_MS } from "../services/tracker/file_store.ts";
import { LOCATION_IDS } from "../services/tracker/schema/definitions.ts";

const SERVER = LOCATION_IDS["ftrack.server"];

async function temporaryFolder(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "ferry-storage-"));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** Asks for an upload URL through the official client and PUTs the bytes; returns the PUT status. */
async function upload(session: Session, componentId: string, bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const [target] = await session.call<{ url: string; headers: Record<string, string> }>([
    { action: "get_upload_metadata", component_id: componentId, file_name: "a.bin", file_size: bytes.length } as never,
  ]);
  const response = await fetch(target!.url, { method: "PUT", body: bytes, headers: target!.headers });
  await response.body?.cancel();
  return response.status;
}

async function download(running: RunningTracker, id: string, credentials?: string): Promise<Response> {
  const auth = credentials ?? `username=${running.apiUser}&apiKey=${running.apiKey}`;
  return await fetch(`${running.url}/component/get?id=${encodeURIComponent(id)}&${auth}`);
}

/** A second, non-administrator user and its official-client session. */
async function artist(running: RunningTracker, username = "artist") {
  const { apiKey } = running.tracker.addUser({ username });
  const session = await openSession(running, { apiUser: username, apiKey });
  return { session, credentials: `username=${username}&apiKey=${apiKey}` };
}

Deno.test("FileStore.grant refuses a component whose data is stored and recorded; removal is for administrators and takes the ComponentLocation with it", async () => {
  await using running = await startTracker({ port: 0, data: ":memory:" });
  const admin = await openSession(running);
  const user = await artist(running);
  const first = new TextEncoder().encode("the published frame");
  const component = (await admin.create("FileComponent", { name: "beauty", file_type: ".bin", size: first.length }))
    .data;
  strictEqual(await upload(admin, component.id, first), 200);
  await admin.create("ComponentLocation", {
    component_id: component.id,
    location_id: SERVER,
    resource_identifier: component.id,
  });

  // Written once: nobody gets an upload URL for it, the administrator included.
  for (const session of [user.session, admin]) {
    await rejects(upload(session, component.id, new TextEncoder().encode("replaced")), /already stored/);
  }
  // A user may not remove it; the data and its record stay.
  const refused = await fetch(`${running.url}/component/remove?id=${component.id}&${user.credentials}`);
  strictEqual(refused.status, 403);
  strictEqual(((await refused.json()) as { exception: string }).exception, "PermissionError");
  deepStrictEqual(new Uint8Array(await (await download(running, component.id)).arrayBuffer()), first);

  // The administrator removes data and record together; then a new upload is possible.
  const credentials = `username=${running.apiUser}&apiKey=${running.apiKey}`;
  const removed = await fetch(`${running.url}/component/remove?id=${component.id}&${credentials}`);
  strictEqual(removed.status, 200);
  await removed.body?.cancel();
  const records = await admin.query(`select id from ComponentLocation where component_id is "${component.id}"`);
  strictEqual(records.data.length, 0, "no location record points at removed data");
  const gone = await download(running, component.id);
  strictEqual(gone.status, 404);
  await gone.body?.cancel();
  strictEqual(await upload(admin, component.id, new TextEncoder().encode("second take")), 200);
});

Deno.test("FileStore.grant lets the uploader (or an administrator) replace data no location records yet, not another user", async () => {
  await using running = await startTracker({ port: 0, data: ":memory:" });
  const admin = await openSession(running);
  const one = await artist(running, "one");
  const two = await artist(running, "two");
  const id = randomUUID(); // not committed yet, as the Python client asks
  strictEqual(await upload(one.session, id, new TextEncoder().encode("killed half-way")), 200);
  // A resumed publish of the same user sends the file again.
  strictEqual(await upload(one.session, id, new TextEncoder().encode("resumed")), 200);
  await rejects(upload(two.session, id, new TextEncoder().encode("someone else")), /another user stored/);
  const notTheirs = await fetch(`${running.url}/component/remove?id=${id}&${two.credentials}`);
  strictEqual(notTheirs.status, 403);
  await notTheirs.body?.cancel();
  deepStrictEqual(await (await download(running, id)).text(), "resumed");
  strictEqual(await upload(admin, id, new TextEncoder().encode("administrator")), 200);
  // Their own unrecorded data, a user may remove.
  const own = randomUUID();
  strictEqual(await upload(two.session, own, new TextEncoder().encode("mine")), 200);
  const removed = await fetch(`${running.url}/component/remove?id=${own}&${two.credentials}`);
  strictEqual(removed.status, 200);
  await removed.body?.cancel();
});

Deno.test("FileStore.sweep removes data no location records once an upload URL's life has passed", async () => {
  await using running = await startTracker({ port: 0, data: ":memory:" });
  const admin = await openSession(running);
  const orphan = randomUUID();
  strictEqual(await upload(admin, orphan, new TextEncoder().encode("never committed")), 200);
  const kept = (await admin.create("FileComponent", { name: "kept", file_type: ".bin", size: 4 })).data;
  strictEqual(await upload(admin, kept.id, new TextEncoder().encode("kept")), 200);
  await admin.create("ComponentLocation", { component_id: kept.id, location_id: SERVER, resource_identifier: kept.id });
  deepStrictEqual(await running.tracker.files.sweep(), [], "young data is left to its uploader");
  deepStrictEqual(await running.tracker.files.sweep(Date.now() + UPLOAD_TTL_MS + 1000), [orphan]);
  strictEqual(running.tracker.files.has(orphan), false);
  strictEqual(running.tracker.files.has(kept.id), true);
});

Deno.test("FileStore.path keeps component ids that differ only in punctuation apart (collide.1, collide_1)", async () => {
  await using folder = await temporaryFolder();
  await using running = await startTracker({ port: 0, data: folder.path });
  const admin = await openSession(running);
  const ids = ["collide.1", "collide_1", "collide/1", "collide 1", "../collide"];
  for (const id of ids) strictEqual(await upload(admin, id, new TextEncoder().encode(`data of ${id}`)), 200);
  for (const id of ids) strictEqual(await (await download(running, id)).text(), `data of ${id}`);
  strictEqual(new Set(ids.map((id) => running.tracker.files.path(id))).size, ids.length);
  for (const id of ids) ok(running.tracker.files.path(id).startsWith(join(folder.path, "files")));
});

Deno.test("FileStore.open moves data stored under the old punctuation-folding names; a shared old file goes to its owner by SHA-1", async () => {
  await using folder = await temporaryFolder();
  const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
  {
    await using running = await startTracker({ port: 0, data: folder.path });
    const admin = await openSession(running);
    for (const id of ["old-a", "collide.1", "collide_1"]) {
      strictEqual(await upload(admin, id, new TextEncoder().encode(`data of ${id}`)), 200);
    }
  }
  // Put the store back the way the previous layout left it: folded names, collide_1 written last.
  const files = join(folder.path, "files");
  const hashed = (id: string) => {
    const hex = createHash("sha256").update(id).digest("hex");
    return join(files, hex.slice(0, 2), hex);
  };
  await mkdir(join(files, "ol"), { recursive: true });
  await mkdir(join(files, "co"), { recursive: true });
  await rename(hashed("old-a"), join(files, "ol", "old-a"));
  await rm(hashed("collide.1"));
  await rename(hashed("collide_1"), join(files, "co", "collide_1"));
  await writeFile(join(files, "co", "collide_1.abcd.part"), "left by a killed tracker");
  const db = new DatabaseSync(join(folder.path, "tracker.sqlite"));
  db.exec("DELETE FROM file_layout");
  db.close();

  await using reopened = await startTracker({ port: 0, data: folder.path });
  strictEqual(await (await download(reopened, "old-a")).text(), "data of old-a");
  strictEqual(await (await download(reopened, "collide_1")).text(), "data of collide_1");
  strictEqual(reopened.tracker.files.info("collide_1")?.sha1, sha1("data of collide_1"));
  strictEqual(reopened.tracker.files.has("collide.1"), false, "its data was overwritten by the old layout");
  const stale = await stat(join(files, "co", "collide_1.abcd.part")).catch(() => undefined);
  strictEqual(stale, undefined, "old partial uploads are removed");
});

Deno.test("openDataFolder makes the data folder 0700 and its files 0600, tightening an existing 0755 folder", async () => {
  await using folder = await temporaryFolder();
  const data = join(folder.path, "tracker");
  const mode = async (path: string) => (await stat(path)).mode & 0o777;
  {
    await using running = await startTracker({ port: 0, data });
    const admin = await openSession(running);
    strictEqual(await upload(admin, "c1", new TextEncoder().encode("private")), 200);
    strictEqual(await mode(data), 0o700);
    for (const name of await readdir(data)) {
      const path = join(data, name);
      if ((await stat(path)).isFile()) strictEqual(await mode(path), 0o600, `${name} is private`);
    }
    strictEqual(await mode(join(data, "tracker.json")), 0o600);
    strictEqual(await mode(running.tracker.files.path("c1")), 0o600);
    strictEqual(await mode(dirname(running.tracker.files.path("c1"))), 0o700);
  }
  // An existing folder made by an older ferry, readable by everyone, is tightened on open.
  await chmod(data, 0o755);
  await chmod(join(data, "tracker.sqlite"), 0o644);
  await using _reopened = await startTracker({ port: 0, data });
  strictEqual(await mode(data), 0o700);
  strictEqual(await mode(join(data, "tracker.sqlite")), 0o600);
});

Deno.test("FileStore.open removes partial uploads a killed tracker left", async () => {
  await using folder = await temporaryFolder();
  {
    await using _running = await startTracker({ port: 0, data: folder.path });
  }
  const partial = join(folder.path, "files", ".partial", "0123456789abcdef.part");
  await writeFile(partial, new Uint8Array(1024));
  await using _reopened = await startTracker({ port: 0, data: folder.path });
  strictEqual(await stat(partial).catch(() => undefined), undefined);
});

Deno.test("startTracker answers CORS only for configured origins, never for 'null' or others", async (t) => {
  const origin = "http://localhost:5173";
  await t.step("no origin configured: no CORS headers at all", async () => {
    await using running = await startTracker({ port: 0, data: ":memory:" });
    for (const from of ["http://evil.example", "null", origin]) {
      const preflight = await fetch(`${running.url}/api`, {
        method: "OPTIONS",
        headers: { origin: from, "access-control-request-method": "POST" },
      });
      await preflight.body?.cancel();
      strictEqual(preflight.headers.get("access-control-allow-origin"), null, from);
      strictEqual(preflight.headers.get("access-control-allow-credentials"), null, from);
    }
  });
  await t.step("a configured origin is allowed with credentials; others and 'null' are not", async () => {
    await using running = await startTracker({ port: 0, data: ":memory:", corsOrigins: [origin] });
    const answer = (from: string) =>
      fetch(`${running.url}/api`, {
        method: "POST",
        headers: { origin: from, "ftrack-user": running.apiUser, "ftrack-api-key": running.apiKey },
        body: JSON.stringify([{ action: "query_server_information" }]),
      });
    const allowed = await answer(origin);
    await allowed.body?.cancel();
    strictEqual(allowed.headers.get("access-control-allow-origin"), origin);
    strictEqual(allowed.headers.get("access-control-allow-credentials"), "true");
    for (const from of ["http://evil.example", "null", "http://localhost:5174"]) {
      const refused = await answer(from);
      await refused.body?.cancel();
      strictEqual(refused.headers.get("access-control-allow-origin"), null, from);
      strictEqual(refused.headers.get("access-control-allow-credentials"), null, from);
    }
    const preflight = await fetch(`${running.url}/api`, { method: "OPTIONS", headers: { origin } });
    await preflight.body?.cancel();
    strictEqual(preflight.headers.get("access-control-allow-origin"), origin);
  });
  await t.step("corsOrigins refuses 'null', '*' and non-origins by name", () => {
    for (const bad of ["null", "*", "file:///x", "http://a.example/path", "not a url"]) {
      throws(() => corsOrigins([bad]), new RegExp(`'${bad.replace(/[.*/]/g, "\\$&")}'`));
    }
  });
});

Deno.test("FileStore.receive abandons an upload that stops sending and removes its partial file", async () => {
  await using folder = await temporaryFolder();
  await using running = await startTracker({ port: 0, data: folder.path });
  running.tracker.files.receiveIdleMs = 200;
  const admin = await openSession(running);
  const [target] = await admin.call<{ url: string }>([
    { action: "get_upload_metadata", component_id: "stalled", file_name: "a.bin", file_size: 2048 } as never,
  ]);
  const partials = join(folder.path, "files", ".partial");
  // Sends half and then hangs, like a client whose machine froze.
  let requestBody!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start: (stream) => {
      requestBody = stream;
      stream.enqueue(new Uint8Array(1024));
    },
  });
  const sending = fetch(target!.url, { method: "PUT", body, duplex: "half" } as RequestInit)
    .catch(() => undefined);
  const until = async (condition: () => Promise<boolean>) => {
    for (let tries = 0; tries < 400 && !(await condition()); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return await condition();
  };
  ok(await until(async () => (await readdir(partials)).length === 1), "the upload started");
  ok(await until(async () => (await readdir(partials)).length === 0), "its partial file is removed");
  strictEqual(running.tracker.files.has("stalled"), false);
  requestBody.error(new Error("the test is over"));
  await (await sending)?.body?.cancel().catch(() => {});
});

Deno.test("GET /component/get answers 404 when a component's file is missing on disk", async () => {
  await using folder = await temporaryFolder();
  await using running = await startTracker({ port: 0, data: folder.path });
  const admin = await openSession(running);
  strictEqual(await upload(admin, "vanished", new TextEncoder().encode("gone")), 200);
  await rm(running.tracker.files.path("vanished"));
  const response = await download(running, "vanished");
  strictEqual(response.status, 404);
  ok((await response.text()).includes("missing"));
});
