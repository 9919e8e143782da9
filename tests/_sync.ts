/**
 * Sync tests' helpers: the leecher and processor (ferry's own handlers) running on an embedded
 * tracker and a store; waiting for the queue to settle; setting custom attribute values.
 */
import type { Session } from "@ftrack/api";
import { createLogger } from "../src/cli/service_log.ts";
import { LEECH_TOPIC, type PipelineStore, PROC_TOPIC } from "../src/store/mod.ts";
import { type RunningLeecher, startLeecher } from "../services/leecher/leecher.ts";
import { discoverHandlers } from "../services/processor/discover_handlers.ts";
import { startProcessor } from "../services/processor/processor.ts";
import { BUILTIN_HANDLERS } from "../services/processor/main.ts";
import type { RunningTracker } from "../services/tracker/server.ts";
import { memoryTracker, openSession } from "./_tracker.ts";
import { sqliteSite, storeKinds, type StoreSite } from "./_store.ts";

/** An embedded tracker, a store site with a store open on it, and an official-client session on the tracker. */
export interface TrackerAndStore extends AsyncDisposable {
  running: RunningTracker;
  place: StoreSite;
  store: PipelineStore;
  session: Session;
}

/**
 * A tracker in memory, a store opened on a fresh `site` (SQLite unless told) and a session on the
 * tracker; disposing closes the store, removes the site, then stops the tracker (as `await using`
 * of each would), and a set-up that fails half-way undoes what it made.
 */
export async function trackerAndStore(site: () => Promise<StoreSite> = sqliteSite): Promise<TrackerAndStore> {
  await using made = new AsyncDisposableStack();
  const running = made.use(await memoryTracker());
  const place = made.use(await site());
  const store = made.use(await place.open());
  const session = await openSession(running);
  const owned = made.move();
  return { running, place, store, session, [Symbol.asyncDispose]: () => owned.disposeAsync() };
}

/**
 * Registers `fn` as a test on each store adapter (`storeKinds()`: PostgreSQL ignored when its server
 * is unreachable), named `name (kind)`, each run on its own `trackerAndStore` (sanitizers off: the
 * tracker and the clients keep timers and sockets of their own).
 */
export async function storeKindsTest(name: string, fn: (fixture: TrackerAndStore) => Promise<void>): Promise<void> {
  for (const { kind, site, ignore } of await storeKinds()) {
    Deno.test({
      name: `${name} (${kind})`,
      ignore,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => {
        await using fixture = await trackerAndStore(site);
        await fn(fixture);
      },
    });
  }
}

/** Runs `scripts/sync.ts` with `args` against `running` (its credentials in the environment), output piped. */
export function runSyncScript(
  running: { url: string; apiUser: string; apiKey: string },
  args: string[],
): Promise<Deno.CommandOutput> {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../scripts/sync.ts", import.meta.url).pathname, ...args],
    env: { FTRACK_SERVER: running.url, FTRACK_API_USER: running.apiUser, FTRACK_API_KEY: running.apiKey },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

/** Polls until `condition` holds, failing with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Sets a custom attribute's own value on a tracker entity. */
export async function setValue(session: Session, key: string, entityId: string, value: unknown): Promise<void> {
  const configuration = (await session.query(`select id from CustomAttributeConfiguration where key is "${key}"`))
    .data[0]!;
  await session.update("ContextCustomAttributeValue", [configuration.id, entityId], { value });
}

/**
 * Turns auto-sync on for the tracker project `projectId` (its `ferry_auto_sync`) and waits for the
 * full sync the running services start: until an entity of tracker id `seen` is in `store`, or
 * until `seen()` holds; `what` names it on a time-out.
 */
export async function autoSyncOn(
  { session, store }: { session: Session; store: PipelineStore },
  projectId: string,
  seen: string | (() => Promise<boolean>),
  what = "the full sync",
): Promise<void> {
  await setValue(session, "ferry_auto_sync", projectId, true);
  await waitFor(
    typeof seen === "string" ? async () => (await store.findEntities({ trackerId: seen })).length > 0 : seen,
    what,
  );
}

/** A leecher storing `running`'s events in `store`, once its event hub has connected (closed if it never does). */
export async function connectedLeecher(
  running: { url: string; apiUser: string; apiKey: string },
  store: PipelineStore,
): Promise<RunningLeecher> {
  let connects = 0;
  const leecher = await startLeecher({
    store,
    credentials: { server: running.url, apiUser: running.apiUser, apiKey: running.apiKey },
    log: createLogger({ name: "leecher", level: "error" }),
    onConnect: (n) => (connects = n),
  });
  try {
    await waitFor(() => connects >= 1, "the leecher");
  } catch (error) {
    await leecher.close();
    throw error;
  }
  return leecher;
}

/** Leecher and processor with ferry's own handlers, stopped when disposed. */
export async function startServices(
  running: { url: string; apiUser: string; apiKey: string },
  store: PipelineStore,
  options: { variant?: "production" | "staging" | "dev" } = {},
): Promise<AsyncDisposable & { session: Session }> {
  const leecher = await connectedLeecher(running, store);
  const { handlers } = await discoverHandlers([BUILTIN_HANDLERS]);
  const session = await openSession(running);
  const processor = await startProcessor({
    store,
    session,
    handlers,
    variant: options.variant ?? "production",
    log: createLogger({ name: "processor", level: "error" }),
    settingsRefreshMs: 20,
  });
  return {
    session,
    [Symbol.asyncDispose]: async () => {
      await processor.stop();
      await leecher.close();
    },
  };
}

/**
 * Waits until every stored tracker event has a finished job and no new one arrives between two
 * looks (the event count settles: nothing echoes). Returns the number of tracker events.
 */
export async function settle(store: PipelineStore, what = "the events to settle"): Promise<number> {
  let last = -1;
  let stable = 0;
  let count = 0;
  await waitFor(async () => {
    count = await store.countEvents({ topic: LEECH_TOPIC });
    const done = await store.countEvents({ topic: PROC_TOPIC, status: "finished" });
    if (count === done && count === last) stable++;
    else stable = 0;
    last = count;
    if (stable < 3) await new Promise((resolve) => setTimeout(resolve, 150));
    return stable >= 3;
  }, what);
  return count;
}

/** A disk location of the tracker for test files (made once per tracker). */
export async function diskLocation(session: Session): Promise<string> {
  const found = (await session.query('select id from Location where name is "studio.disk"')).data[0];
  if (found) return String(found.id);
  return String((await session.create("Location", { name: "studio.disk" })).data.id);
}

/**
 * An asset version made through the official client as a publish leaves it: the asset (made when
 * missing) under `contextId`, the version on `taskId`, a file component and a two-frame sequence
 * with members, each file placed at the disk location with ferry's fingerprint and size metadata.
 */
export async function makeVersion(
  session: Session,
  options: { contextId: string; taskId?: string; asset?: string; version?: number; comment?: string },
): Promise<{ assetId: string; versionId: string; fileId: string; sequenceId: string; memberIds: string[] }> {
  const name = options.asset ?? "beauty";
  const type = (await session.query('select id from AssetType where short is "render"')).data[0]!;
  const asset = (await session.query(
    `select id from Asset where name is "${name}" and context_id is "${options.contextId}"`,
  )).data[0] ?? (await session.create("Asset", { name, context_id: options.contextId, type_id: type.id })).data;
  const version = (await session.create("AssetVersion", {
    asset_id: asset.id,
    version: options.version ?? 1,
    task_id: options.taskId ?? null,
    comment: options.comment ?? "first look",
  })).data;
  const location = await diskLocation(session);
  const root = `/proj/${name}/v${String(options.version ?? 1).padStart(3, "0")}`;
  const place = async (id: string, path: string, bytes: number, hex: string) => {
    await session.create("ComponentLocation", { component_id: id, location_id: location, resource_identifier: path });
    await session.create("Metadata", {
      parent_id: id,
      parent_type: "FileComponent",
      key: "ferry_fingerprint",
      value: `sha1:${hex}`,
    });
    await session.create("Metadata", {
      parent_id: id,
      parent_type: "FileComponent",
      key: "ferry_size",
      value: String(bytes),
    });
  };
  const file =
    (await session.create("FileComponent", { name: "main", file_type: ".abc", size: 10, version_id: version.id }))
      .data;
  await place(file.id, `${root}/main.abc`, 10, "a".repeat(40));
  const sequence = (await session.create("SequenceComponent", {
    name: "exr",
    file_type: ".exr",
    version_id: version.id,
    padding: 4,
  })).data;
  const memberIds: string[] = [];
  for (const frame of [1001, 1002]) {
    const member = (await session.create("FileComponent", {
      name: String(frame),
      file_type: ".exr",
      size: 20,
      container_id: sequence.id,
    })).data;
    await place(member.id, `${root}/exr/beauty.${frame}.exr`, 20, String(frame).repeat(10));
    memberIds.push(member.id);
  }
  return { assetId: asset.id, versionId: version.id, fileId: file.id, sequenceId: sequence.id, memberIds };
}
