/**
 * Who may do what on the embedded tracker, and how it keeps API keys: through the official
 * `@ftrack/api` client, on the wire, and in the SQLite file itself.
 */
import { error as ftrackError, type Session } from "@ftrack/api";
import { ok, rejects, strictEqual } from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTracker } from "../services/tracker/server.ts";
import { Tracker } from "../services/tracker/tracker.ts";
import { memoryTracker, openSession } from "./_tracker.ts";

// deno-lint-ignore no-explicit-any
type E = any;

function resetKey(session: Session, userId: string): Promise<E[]> {
  return session.call(
    [{ action: "reset_remote", reset_type: "api_key", entity_type: "User", entity_key: userId }] as E,
  );
}

/** Whether a rejection is the client's permission error (ftrack's `PermissionError` object). */
function permissionDenied(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    ok(error instanceof ftrackError.ServerPermissionDeniedError, `expected a permission error, got ${error}`);
    ok(pattern.test((error as Error).message), (error as Error).message);
    return true;
  };
}

async function temporaryFolder(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "ferry-permissions-"));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

Deno.test("reset_remote: a user resets their own key; only administrators reset another user's", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const artist = running.tracker.addUser({ username: "artist" });
  const other = running.tracker.addUser({ username: "other" });
  const asArtist = await openSession(running, { apiUser: "artist", apiKey: artist.apiKey });
  const adminId = String(running.tracker.graph.lookup("User", "username", running.apiUser)![0]!.id);

  await rejects(resetKey(asArtist, adminId), permissionDenied(/only administrators may reset the API key/));
  await rejects(resetKey(asArtist, String(other.user.id)), permissionDenied(/'other'/));
  ok(running.tracker.authenticate(running.apiUser, running.apiKey), "the administrator's key still works");
  ok(running.tracker.authenticate("other", other.apiKey), "the other user's key still works");

  const [own] = await resetKey(asArtist, String(artist.user.id));
  const fresh = own.data.api_key as string;
  ok(fresh && fresh !== artist.apiKey);
  strictEqual(running.tracker.authenticate("artist", artist.apiKey), undefined, "the old key stops working");
  strictEqual(running.tracker.authenticate("artist", fresh)?.username, "artist");

  const [reset] = await resetKey(admin, String(other.user.id));
  strictEqual(running.tracker.authenticate("other", reset.data.api_key)?.username, "other");

  // The Python client's reset_remote("api_key") names no entity: the calling user's own key.
  const renewed = await openSession(running, { apiUser: "artist", apiKey: fresh });
  const [again]: E[] = await renewed.call([{ action: "reset_remote", reset_type: "api_key" }] as E);
  strictEqual(running.tracker.authenticate("artist", again.data.api_key)?.username, "artist");
  strictEqual(running.tracker.authenticate("artist", fresh), undefined);
});

Deno.test("update/create/delete of User: only administrators change other users or make users", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const artist = running.tracker.addUser({ username: "artist" });
  const other = running.tracker.addUser({ username: "other" });
  const asArtist = await openSession(running, { apiUser: "artist", apiKey: artist.apiKey });
  const adminId = String(running.tracker.graph.lookup("User", "username", running.apiUser)![0]!.id);

  await rejects(asArtist.update("User", [adminId], { is_active: false }), permissionDenied(/only administrators/));
  await rejects(asArtist.update("User", [String(other.user.id)], { username: "hijacked" }), permissionDenied(/other/));
  await rejects(asArtist.create("User", { username: "sockpuppet" }), permissionDenied(/create users/));
  await rejects(asArtist.delete("User", [String(other.user.id)]), permissionDenied(/delete/));
  ok(running.tracker.authenticate(running.apiUser, running.apiKey), "the administrator is still active");
  strictEqual((await admin.query('select id from User where username is "sockpuppet"')).data.length, 0);
  strictEqual((await admin.query('select id from User where username is "hijacked"')).data.length, 0);

  const self = await asArtist.update("User", [String(artist.user.id)], { first_name: "Ada" });
  strictEqual(self.data.first_name, "Ada", "users change themselves");
  await admin.update("User", [String(other.user.id)], { is_active: false });
  strictEqual(running.tracker.authenticate("other", other.apiKey), undefined, "an administrator deactivates users");
  const made = await admin.create("User", { username: "newcomer" });
  strictEqual(made.data.username, "newcomer");
  await admin.delete("User", [String(other.user.id)]);
  strictEqual(running.tracker.keys.hasStoredKey(String(other.user.id)), false, "a deleted user's keys go with it");
});

Deno.test("update of User: a username taken by another user is a DuplicateEntryError", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const artist = running.tracker.addUser({ username: "artist" });
  running.tracker.addUser({ username: "other" });
  await rejects(
    admin.update("User", [String(artist.user.id)], { username: "other" }),
    (error: Error) => /DuplicateEntryError/.test(error.message),
  );
  const asArtist = await openSession(running, { apiUser: "artist", apiKey: artist.apiKey });
  await rejects(
    asArtist.update("User", [String(artist.user.id)], { username: running.apiUser }),
    (error: Error) => /DuplicateEntryError/.test(error.message),
  );
  strictEqual(running.tracker.graph.lookup("User", "username", "other")!.length, 1);
  await rejects(
    asArtist.update("User", [String(artist.user.id)], { username: "" }),
    (error: Error) => /'User.username'.*empty/.test(error.message),
  );
  const renamed = await asArtist.update("User", [String(artist.user.id)], { username: "artist" });
  strictEqual(renamed.data.username, "artist", "keeping one's own name is no duplicate");
});

Deno.test("Tracker keeps API keys hashed: no key is readable in tracker.sqlite", async () => {
  await using folder = await temporaryFolder();
  const given = "given-key-for-ci-0123456789";
  const shown: string[] = [given];
  {
    await using running = await startTracker({ port: 0, data: folder.path, apiKey: given });
    shown.push(running.apiKey);
    const { apiKey } = running.tracker.addUser({ username: "artist" });
    shown.push(apiKey);
    const artist = await openSession(running, { apiUser: "artist", apiKey });
    const [reset] = await resetKey(artist, String(running.tracker.graph.lookup("User", "username", "artist")![0]!.id));
    shown.push(reset.data.api_key);
  }
  const bytes = await readFile(join(folder.path, "tracker.sqlite"));
  const wal = await readFile(join(folder.path, "tracker.sqlite-wal")).catch(() => new Uint8Array());
  const text = new TextDecoder("latin1").decode(bytes) + new TextDecoder("latin1").decode(wal);
  for (const key of shown) ok(!text.includes(key), `key ${key} must not be stored in plain text`);
});

Deno.test("Tracker.open: without a given key, the start-up key lasts this run only; a given key lasts", async () => {
  await using folder = await temporaryFolder();
  let runKey: string;
  {
    await using first = await startTracker({ port: 0, data: folder.path });
    runKey = first.apiKey;
    strictEqual(first.tracker.apiKeyLasts, "this run");
    ok(first.tracker.authenticate(first.apiUser, runKey));
    const lock = JSON.parse(await Deno.readTextFile(join(folder.path, "tracker.json")));
    strictEqual(lock.apiKey, runKey, "the lock file gives other commands this run's key");
    if (Deno.build.os !== "windows") {
      strictEqual((await Deno.stat(join(folder.path, "tracker.json"))).mode! & 0o777, 0o600, "for its owner only");
    }
  }
  {
    await using second = await startTracker({ port: 0, data: folder.path, apiKey: "lasting-key-0123" });
    strictEqual(second.tracker.authenticate(second.apiUser, runKey), undefined, "last run's key has ended");
    strictEqual(second.tracker.apiKeyLasts, "stored");
  }
  await using third = await startTracker({ port: 0, data: folder.path });
  ok(third.tracker.authenticate(third.apiUser, "lasting-key-0123"), "a given key is kept (hashed)");
  ok(third.apiKey !== "lasting-key-0123");
});

Deno.test("Tracker.open migrates a database with plain API keys: they keep working, the plain text goes", async () => {
  await using folder = await temporaryFolder();
  const plain = "plain-legacy-key-5a1f8d2e";
  let artistId: string;
  {
    const tracker = await Tracker.open({ data: folder.path });
    artistId = String(tracker.addUser({ username: "artist" }).user.id);
    await tracker.close();
  }
  {
    // What a tracker of before hashed keys left: its api_keys table, keys in plain text.
    const db = new DatabaseSync(join(folder.path, "tracker.sqlite"));
    db.exec("DROP TABLE api_key_hashes; CREATE TABLE api_keys (api_key TEXT PRIMARY KEY, user_id TEXT NOT NULL)");
    db.prepare("INSERT INTO api_keys (api_key, user_id) VALUES (?, ?)").run(plain, artistId);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();
    const before = new TextDecoder("latin1").decode(await readFile(join(folder.path, "tracker.sqlite")));
    ok(before.includes(plain), "the legacy file holds the plain key");
  }
  const tracker = await Tracker.open({ data: folder.path });
  try {
    strictEqual(tracker.authenticate("artist", plain)?.id, artistId, "the migrated key still authenticates");
    strictEqual(tracker.authenticate("artist", "wrong-key"), undefined);
    const bytes = await readFile(join(folder.path, "tracker.sqlite"));
    const wal = await readFile(join(folder.path, "tracker.sqlite-wal")).catch(() => new Uint8Array());
    const text = new TextDecoder("latin1").decode(bytes) + new TextDecoder("latin1").decode(wal);
    ok(!text.includes(plain), "no plain key is left in the file");
  } finally {
    await tracker.close();
  }
});

Deno.test("Metadata and custom attributes of another user: only administrators change them", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const artist = running.tracker.addUser({ username: "artist" });
  const other = running.tracker.addUser({ username: "other" });
  const asArtist = await openSession(running, { apiUser: "artist", apiKey: artist.apiKey });
  const otherId = String(other.user.id);
  await rejects(
    asArtist.create("Metadata", { parent_id: otherId, parent_type: "User", key: "badge", value: "x" }),
    permissionDenied(/'other'/),
  );
  await admin.create("Metadata", { parent_id: otherId, parent_type: "User", key: "badge", value: "ok" });
  await rejects(asArtist.update("Metadata", [otherId, "badge"], { value: "mine" }), permissionDenied(/'other'/));
  await rejects(asArtist.delete("Metadata", [otherId, "badge"]), permissionDenied(/'other'/));
  const own = await asArtist.create("Metadata", {
    parent_id: String(artist.user.id),
    parent_type: "User",
    key: "badge",
    value: "mine",
  });
  strictEqual(own.data.value, "mine", "users keep their own metadata");
  const badge = await admin.query(`select value from Metadata where parent_id is "${otherId}" and key is "badge"`);
  strictEqual((badge.data[0] as E).value, "ok");
});

Deno.test("Tracker.open: the API user deactivated through the API is active again after a restart", async () => {
  await using folder = await temporaryFolder();
  {
    await using first = await startTracker({ port: 0, data: folder.path });
    const session = await openSession(first);
    const id = String(first.tracker.graph.lookup("User", "username", first.apiUser)![0]!.id);
    await session.update("User", [id], { is_active: false });
    strictEqual(first.tracker.authenticate(first.apiUser, first.apiKey), undefined);
  }
  await using second = await startTracker({ port: 0, data: folder.path });
  ok(second.tracker.authenticate(second.apiUser, second.apiKey), "not locked out");
});
