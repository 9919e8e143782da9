/**
 * A bounded, seeded fuzz test of the tracker's `POST /api`: queries drawn from the query grammar
 * and the schemas, then mutated; operations of every action with wrong types, missing keys, huge
 * numbers, unicode and deep nesting; and broken bodies. Every request must be answered with a
 * list of results or an ftrack error object (never a 500, a stack trace or an internal error
 * passed through as "The batch failed"), and the tracker must keep serving.
 *
 * Reproduce a failure with the seed it prints: `FERRY_FUZZ_SEED=<seed> deno test -A tests/tracker_fuzz_test.ts`.
 * `FERRY_FUZZ_MS` sets the time spent generating requests (default 5000).
 */
import type { Session } from "@ftrack/api";
import { ok, strictEqual } from "node:assert/strict";
import { ENTITY_TYPES } from "../services/tracker/schema/definitions.ts";
import type { EntityType } from "../services/tracker/schema/model.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";

/** A small deterministic generator (mulberry32), so that a seed replays the same requests. */
class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const TYPES = [...ENTITY_TYPES.keys()];
const JS_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"];
const STRANGE = [
  "",
  " ",
  "é",
  "ß",
  "Σ",
  "日本語",
  "😀",
  "\u0000",
  "\ud800",
  "\u202e",
  "%",
  "_",
  "\\",
  "'",
  '"',
  "{x}",
  "..",
  "a/b",
  "\n",
  "x".repeat(300),
];
const NUMBERS = [0, -0, 1, -1, 1.5, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, 5e-324, 4294967296];
/** Actions weighted as clients send them: mostly queries and writes. */
const ACTIONS = [
  ...Array<string>(8).fill("query"),
  ...Array<string>(3).fill("create"),
  ...Array<string>(2).fill("update"),
  "delete",
  "query_schemas",
  "query_server_information",
  "get_upload_metadata",
  "complete_multipart_upload",
  "encode_media",
  "reset_remote",
  "send_user_invite",
];
const UNKNOWN_ACTIONS = ["search", "permissions", "delayed_job", "", "QUERY", "__proto__", "constructor"];

interface Context {
  random: Random;
  ids: string[];
}

function attributeNames(type: EntityType): string[] {
  return Object.keys(type.attributes);
}

/** A path that mostly exists: a walk through references and collections, sometimes a wrong name. */
function path(context: Context, type: EntityType): string {
  const { random } = context;
  const parts: string[] = [];
  let current: EntityType | undefined = type;
  const length = 1 + random.int(3);
  for (let i = 0; i < length; i++) {
    if (current === undefined || random.chance(0.05)) {
      parts.push(random.pick([...JS_NAMES, "nope", "name", "id", "Name"]));
      break;
    }
    const name: string = random.pick(attributeNames(current));
    parts.push(name);
    const attribute: EntityType["attributes"][string] = current.attributes[name]!;
    current = "target" in attribute && attribute.target && attribute.kind !== "scalar"
      ? ENTITY_TYPES.get(attribute.target)
      : undefined;
    if (current === undefined) break;
  }
  return parts.join(".");
}

function literal(context: Context): string {
  const { random } = context;
  switch (random.int(10)) {
    case 0:
      return random.pick(["none", "None", "null", "undefined", "true", "True", "false", "False"]);
    case 1:
      return String(random.pick(NUMBERS));
    case 2:
      return random.pick(context.ids);
    case 3:
      return `"${random.pick(context.ids)}"`;
    case 4:
      return `"${random.pick(["2024-01-01", "2024-01-01T00:00:00+00:00", "2020-02-30", "garbage", "9999-99-99"])}"`;
    case 5:
      return `'${random.pick(STRANGE).replaceAll("'", "\\'").replaceAll("\\", "\\\\")}'`;
    case 6:
      return `"${random.pick(["%", "%a%a%a%a%a%a%a%a%b", "sh0_0", "%0%", "\\%", "%_%_%_%_%"])}"`;
    case 7:
      return random.pick(["sh010", "sq010", "demo", "lighting", "NOT_STARTED", "1e999", "-5", "0x10"]);
    default:
      return `"${random.pick(["sh010", "sq010", "demo", "comp", "ftrack.server", "beauty"])}"`;
  }
}

const OPERATORS = [
  "is",
  "is_not",
  "=",
  "!=",
  ">",
  "<",
  ">=",
  "<=",
  "after",
  "before",
  "like",
  "not_like",
  "greater_than",
  "less_than",
];

function condition(context: Context, type: EntityType, depth: number): string {
  const { random } = context;
  const choice = depth > 3 ? random.int(4) : random.int(9);
  switch (choice) {
    case 0:
    case 1:
    case 2:
      return `${path(context, type)} ${random.pick(OPERATORS)} ${literal(context)}`;
    case 3: {
      const values = Array.from({ length: random.int(4) }, () => literal(context));
      return `${path(context, type)} ${random.pick(["in", "not_in"])} (${values.join(random.pick([", ", ","]))})`;
    }
    case 4:
      return `${condition(context, type, depth + 1)} ${random.pick(["and", "or"])} ${
        condition(context, type, depth + 1)
      }`;
    case 5:
      return `not ${condition(context, type, depth + 1)}`;
    case 6:
      return `(${condition(context, type, depth + 1)})`;
    case 7: {
      const relations = attributeNames(type).filter((name) => type.attributes[name]!.kind !== "scalar");
      const name = relations.length > 0 ? random.pick(relations) : "parent";
      const attribute = type.attributes[name];
      const target = attribute && "target" in attribute && attribute.target
        ? ENTITY_TYPES.get(attribute.target)
        : undefined;
      const inner = random.chance(0.2) || target === undefined ? "" : condition(context, target, depth + 1);
      return `${name} ${random.pick(["has", "any"])} (${inner})`;
    }
    default: {
      const other = ENTITY_TYPES.get(random.pick(TYPES))!;
      return `${path(context, type)} in (${query(context, other, depth + 1)})`;
    }
  }
}

/** A query from the grammar, over real types and attribute paths. */
function query(context: Context, type: EntityType, depth = 0): string {
  const { random } = context;
  let text = "";
  if (depth > 0 || random.chance(0.7)) {
    const paths = Array.from({ length: 1 + random.int(3) }, () => path(context, type));
    text += `select ${paths.join(", ")} from `;
  }
  text += type.id;
  if (random.chance(0.8)) text += ` where ${condition(context, type, depth)}`;
  if (random.chance(0.3)) text += ` order by ${path(context, type)} ${random.pick(["asc", "desc", ""])}`;
  if (random.chance(0.3)) text += ` offset ${random.pick([0, 1, 3, 2 ** 53, 99999999999999999999])}`;
  if (random.chance(0.4)) text += ` limit ${random.pick([0, 1, 2, 500, 2 ** 31, 1e21])}`;
  return text;
}

const INSERTS = ["(", ")", ",", "'", '"', "\\", "%", "=", "!", "<", ">", " ", "and", "or", "not", "\u0000", "😀"];

/** A query with a few random edits: characters in, slices out, slices doubled, cut short. */
function mutate(context: Context, text: string): string {
  const { random } = context;
  let result = text;
  for (let edits = 1 + random.int(3); edits > 0; edits--) {
    const at = random.int(result.length + 1);
    switch (random.int(4)) {
      case 0:
        result = result.slice(0, at) + random.pick(INSERTS) + result.slice(at);
        break;
      case 1:
        result = result.slice(0, at) + result.slice(at + 1 + random.int(8));
        break;
      case 2:
        result = result.slice(0, at) + result.slice(at, at + 12) + result.slice(at);
        break;
      default:
        result = result.slice(0, at);
    }
  }
  return result;
}

/** Any JSON value, sometimes deeply nested. */
function value(context: Context, depth = 0): unknown {
  const { random } = context;
  switch (random.int(depth > 2 ? 6 : 9)) {
    case 0:
      return random.pick(STRANGE);
    case 1:
      return random.pick(NUMBERS);
    case 2:
      return random.pick([true, false, null]);
    case 3:
      return random.pick(context.ids);
    case 4:
      return { __type__: random.pick(["datetime", "date", "nope"]), value: random.pick(["2024-01-01", "x", 5]) };
    case 5:
      return random.pick(TYPES);
    case 6:
      return Array.from({ length: random.int(4) }, () => value(context, depth + 1));
    case 7: {
      const object: Record<string, unknown> = {};
      for (let i = random.int(4); i > 0; i--) {
        object[random.pick([...JS_NAMES, "a", "name"])] = value(context, depth + 1);
      }
      return object;
    }
    default: {
      let nested: unknown = random.pick(STRANGE);
      for (let i = random.int(2000); i > 0; i--) nested = random.chance(0.5) ? [nested] : { a: nested };
      return nested;
    }
  }
}

function entityData(context: Context, type: EntityType | undefined): Record<string, unknown> {
  const { random } = context;
  const data: Record<string, unknown> = {};
  const names = type ? attributeNames(type) : ["name"];
  for (let i = random.int(5); i > 0; i--) {
    const name = random.chance(0.15) ? random.pick([...JS_NAMES, "nope", "__entity_type__"]) : random.pick(names);
    data[name] = random.chance(0.5) ? value(context) : random.pick(["sh999", "fuzz", context.ids[0]!, 7]);
  }
  if (random.chance(0.2)) data.__entity_type__ = type?.id ?? random.pick(TYPES);
  return data;
}

/** One operation: an action with the keys it takes, of the right type or not, some missing or extra. */
function operation(context: Context): unknown {
  const { random } = context;
  if (random.chance(0.05)) return value(context);
  const action = random.chance(0.05) ? random.pick(UNKNOWN_ACTIONS) : random.pick(ACTIONS);
  const typeName = random.chance(0.85) ? random.pick(TYPES) : random.pick([...JS_NAMES, "Nope", "", "shot"]);
  const type = ENTITY_TYPES.get(typeName);
  const op: Record<string, unknown> = { action: random.chance(0.05) ? value(context) : action };
  const maybe = (key: string, make: () => unknown) => {
    if (random.chance(0.85)) op[key] = random.chance(0.85) ? make() : value(context);
  };
  switch (action) {
    case "query":
    case "search":
      maybe("expression", () => {
        const text = query(context, type ?? ENTITY_TYPES.get("Shot")!);
        return random.chance(0.5) ? mutate(context, text) : text;
      });
      break;
    case "create":
      maybe("entity_type", () => typeName);
      maybe("entity_data", () => entityData(context, type));
      if (random.chance(0.3)) op.entity_key = random.chance(0.5) ? [random.pick(context.ids)] : value(context);
      break;
    case "update":
    case "delete":
      maybe("entity_type", () => typeName);
      maybe("entity_key", () => random.chance(0.6) ? random.pick(context.ids) : [random.pick(context.ids)]);
      if (action === "update") maybe("entity_data", () => entityData(context, type));
      break;
    case "get_upload_metadata":
    case "encode_media":
    case "complete_multipart_upload":
      maybe("component_id", () => random.pick(context.ids));
      maybe("file_name", () => random.pick(STRANGE));
      maybe("file_size", () => random.pick(NUMBERS));
      maybe("checksum", () => random.pick(STRANGE));
      maybe("version_id", () => random.pick(context.ids));
      break;
    case "reset_remote":
      maybe("reset_type", () => random.pick(["api_key", "password", ""]));
      maybe("entity_type", () => random.pick(["User", typeName]));
      maybe("entity_key", () => random.pick(context.ids));
      break;
  }
  if (random.chance(0.1)) op[random.pick(JS_NAMES)] = value(context);
  return op;
}

/** A request body: mostly lists of operations, sometimes broken or hostile JSON. */
function body(context: Context): string {
  const { random } = context;
  const roll = random.int(20);
  if (roll === 0) {
    const whole = JSON.stringify([operation(context), operation(context)]);
    return whole.slice(0, random.int(whole.length));
  }
  if (roll === 1) {
    return random.pick([
      "",
      "null",
      "{}",
      "[]",
      "[1]",
      "[[]]",
      "\u0000\u0001",
      "[1e999]",
      `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
      `[{"action": "query", "expression": "Shot where ${"(".repeat(5_000)}name is x${")".repeat(5_000)}"}]`,
      `[{"action": "query", "expression": "Shot where name like '${"%a".repeat(5_000)}%b'"}]`,
      `[{"action": "query", "expression": "Shot where name is '${"x".repeat(1 << 20)}'"}]`,
      `[{"action": "query", "expression": "Shot where id in (${"x, ".repeat(50_000)}y)"}]`,
      `{"action": "query", "expression": "Shot"}`,
      `[{"action": "query", "expression": "Shot", "action": "delete"}]`,
    ]);
  }
  const operations = random.chance(0.7) ? 1 : 2 + random.int(3);
  return JSON.stringify(Array.from({ length: operations }, () => operation(context)));
}

/**
 * A shot with a task, an asset with two versions, a component, metadata and a note, made through
 * the official client, so generated paths reach every kind of relation; returns their ids.
 */
async function fuzzFixture(session: Session) {
  const shot = await makeShot(session);
  const assetType = (await session.query("select id from AssetType")).data[0]!;
  const asset = (await session.create("Asset", { name: "beauty", context_id: shot.shot.id, type_id: assetType.id }))
    .data;
  const versions = [];
  for (const comment of ["first", "second"]) {
    versions.push(
      (await session.create("AssetVersion", { asset_id: asset.id, task_id: shot.task.id, comment })).data,
    );
  }
  const component = (await session.create("FileComponent", {
    name: "main",
    file_type: ".exr",
    size: 10,
    version_id: versions[1]!.id,
  })).data;
  await session.create("Metadata", { parent_id: shot.shot.id, key: "source", value: "plate_v003" });
  const note =
    (await session.create("Note", { content: "looks good", parent_id: versions[1]!.id, parent_type: "AssetVersion" }))
      .data;
  // The component is reached through paths, not by id: encode_media on it would start ffmpeg jobs.
  ok(component.id);
  const ids = [shot.project, shot.sequence, shot.shot, shot.task, asset, ...versions, note].map((entity) =>
    String(entity.id)
  );
  return { ids };
}

const FUZZ_MS = Number(Deno.env.get("FERRY_FUZZ_MS") ?? 4000);

/** The seed of this run: `FERRY_FUZZ_SEED`, else a fresh one (printed with every failure). */
function fuzzSeed(): number {
  return Number(Deno.env.get("FERRY_FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 32));
}

/** Checks one error object; `replay` says how to reproduce it. */
function checkErrorObject(json: unknown, replay: string): string {
  const error = json as { exception?: unknown; content?: unknown; error_code?: unknown };
  ok(
    typeof error.exception === "string" && typeof error.content === "string" && error.error_code === null,
    `not an error object for ${replay}: ${JSON.stringify(json).slice(0, 500)}`,
  );
  const content = error.content as string;
  ok(!/[{}]/.test(content), `braces in '${content}' for ${replay}`);
  ok(!/\n\s+at |file:\/\/|ext:deno_|ext:core/.test(content), `a stack trace in '${content}' for ${replay}`);
  ok(!content.startsWith("The batch failed"), `an internal error '${content.slice(0, 300)}' for ${replay}`);
  ok(content.length < 2_000, `a ${content.length}-character message for ${replay}`);
  return error.exception as string;
}

/** How a failing request is replayed. */
function replayOf(seed: number, index: number, text: string): string {
  const shown = text.length > 300 ? `${text.slice(0, 300)}… (${text.length} characters)` : text;
  return `seed ${seed}, request ${index} (FERRY_FUZZ_SEED=${seed}): ${shown}`;
}

Deno.test("POST /api (fuzz): every request gets results or an ftrack error object, and the tracker keeps serving", async () => {
  const seed = fuzzSeed();
  await using running = await memoryTracker();
  const session = await openSession(running);
  const { ids } = await fuzzFixture(session);
  for (const row of running.tracker.graph.rowsOf("Location")) ids.push(String(row.id));
  // A second, non-administrator user sends some of the requests (and may be changed by the others).
  const artist = running.tracker.addUser({ username: "fuzz.artist" });
  ids.push(String(artist.user.id), "00000000-0000-0000-0000-000000000000", "not-a-uuid");
  const context: Context = { random: new Random(seed), ids };
  const asAdministrator = { "ftrack-user": running.apiUser, "ftrack-api-key": running.apiKey };
  const asArtist = { "ftrack-user": "fuzz.artist", "ftrack-api-key": artist.apiKey };

  const deadline = Date.now() + FUZZ_MS;
  let requests = 0;
  const answers = new Map<string, number>();
  const count = (kind: string) => answers.set(kind, (answers.get(kind) ?? 0) + 1);
  while (Date.now() < deadline) {
    const text = body(context);
    requests++;
    const replay = replayOf(seed, requests, text);
    // Strict clients get errors with a 4xx status; the others mostly with 200 (both clients read the body).
    const strict = context.random.chance(0.3);
    const response = await fetch(`${running.url}/api`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "ftrack-strict-api": String(strict),
        ...(context.random.chance(0.3) ? asArtist : asAdministrator),
      },
      body: text,
      // A hang detector, not a timing assertion: a request that blocks the tracker never ends.
      signal: AbortSignal.timeout(60_000),
    });
    const raw = await response.text();
    ok(response.status !== 500, `500 for ${replay}: ${raw.slice(0, 500)}`);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new Error(`not JSON (${response.status}) for ${replay}: ${raw.slice(0, 500)}`);
    }
    if (Array.isArray(json)) {
      strictEqual(response.status, 200, `a list with status ${response.status} for ${replay}`);
      count("results");
      continue;
    }
    const exception = checkErrorObject(json, replay);
    count(exception);
    // A body that is not JSON is refused with 400 either way; a failed batch only in strict mode.
    const clientError = response.status >= 400 && response.status < 500;
    ok(
      exception === "FTAuthenticationError" ? response.status === 401 : strict ? clientError : clientError ||
        response.status === 200,
      `status ${response.status} for ${exception} (strict: ${strict}), ${replay}`,
    );
  }
  console.log(`fuzz: ${requests} requests, seed ${seed}:`, Object.fromEntries(answers));
  // Most requests are meant to fail; enough must get through validation to exercise the engine.
  ok((answers.get("results") ?? 0) >= requests / 20, `too few requests got results with seed ${seed}`);

  const still = await session.query("select name from Location where name is 'ftrack.server'");
  strictEqual(still.data.length, 1, `the tracker still answers after seed ${seed}`);
  const schema = (await session.query("select id from ProjectSchema")).data[0]!;
  const created = await session.create("Project", {
    name: "after_fuzz",
    full_name: "after fuzz",
    project_schema_id: schema.id,
  });
  strictEqual(created.data.name, "after_fuzz", `the tracker still writes after seed ${seed}`);
});

Deno.test("Tracker.call() (fuzz): generated and mutated queries answer with results or a query error", async () => {
  const seed = fuzzSeed();
  await using running = await memoryTracker();
  const session = await openSession(running);
  const { ids } = await fuzzFixture(session);
  const context: Context = { random: new Random(seed), ids };
  const { tracker } = running;
  const user = tracker.graph.lookup("User", "username", tracker.apiUser)![0]!;
  const answers = new Map<string, number>();
  // In process, without HTTP: many more queries in the same time, for the parser and the engine.
  const deadline = Date.now() + FUZZ_MS / 2;
  let queries = 0;
  while (Date.now() < deadline) {
    const type = ENTITY_TYPES.get(context.random.pick(TYPES))!;
    const generated = query(context, type);
    const expression = context.random.chance(0.5) ? mutate(context, generated) : generated;
    queries++;
    const result = tracker.call([{ action: "query", expression }], { user, baseUrl: running.url });
    const kind = Array.isArray(result) ? "results" : checkErrorObject(result, replayOf(seed, queries, expression));
    answers.set(kind, (answers.get(kind) ?? 0) + 1);
  }
  console.log(`fuzz: ${queries} queries, seed ${seed}:`, Object.fromEntries(answers));
  ok((answers.get("results") ?? 0) >= queries / 20, `too few queries got results with seed ${seed}`);
});
