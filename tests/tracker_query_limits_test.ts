/**
 * The tracker under hostile queries and requests: `like` patterns that backtrack exponentially in
 * a regular expression, huge literals and bodies, and results past the engine's call-stack limits
 * (issue 8, items 7, 8 and 11). Through the official `@ftrack/api` client or on the wire.
 */
import type { Session } from "@ftrack/api";
import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { compileLike } from "../services/tracker/query/match_like.ts";
import { MAX_NESTED_ENTITIES } from "../services/tracker/encode_entity.ts";
import {
  MAX_PATH_LENGTH,
  MAX_QUERY_DEPTH,
  MAX_QUERY_LENGTH,
  parseQuery,
} from "../services/tracker/query/parse_query.ts";
import { MAX_QUERY_STEPS, runQuery } from "../services/tracker/query/run_query.ts";
import { TrackerError } from "../services/tracker/schema/catalog.ts";
import { DEFAULT_MAX_REQUEST_SIZE, startTracker } from "../services/tracker/server.ts";
import type { Row } from "../services/tracker/store/entity_store.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";

// Entities come back as loose JSON from the client; tests read them as such.
// deno-lint-ignore no-explicit-any
type E = any;

async function names(session: Session, expression: string): Promise<string[]> {
  return ((await session.query(expression)).data as E[]).map((row) => String(row.name));
}

Deno.test("compileLike() matches % and _ without case, and \\ makes them literal", () => {
  const cases: Array<[pattern: string, value: string, expected: boolean]> = [
    ["sh%", "sh010", true],
    ["sh%", "xsh010", false],
    ["%010", "sh010", true],
    ["%01%", "sh010", true],
    ["%", "", true],
    ["", "", true],
    ["", "a", false],
    ["SH0_0", "sh010", true],
    ["sh0_0", "sh0100", false],
    ["%a%b%", "xaxxbx", true],
    ["%a%b%", "xbxxax", false],
    ["a%a", "a", false],
    ["a%a", "aa", true],
    ["%abab%", "aabaabab", true],
    ["sh0\\_0", "sh0_0", true],
    ["sh0\\_0", "sh010", false],
    ["100\\%", "100%", true],
    ["100\\%", "1000", false],
    ["a\\\\b", "a\\b", true],
    ["ÉCLAIR%", "éclair_v001", true],
    ["%Σ", "ΟΔΟΣ", true],
    ["line%", "line one\nline two", true],
  ];
  for (const [pattern, value, expected] of cases) {
    strictEqual(compileLike(pattern)(value), expected, `'${value}' like '${pattern}'`);
  }
});

Deno.test("compileLike() costs steps linear in the value on patterns that backtrack exponentially as a RegExp", () => {
  const issue = "%a%a%a%a%a%a%a%a%a%a%b";
  for (const length of [40, 100_000]) {
    const steps = { count: 0 };
    strictEqual(compileLike(issue, { steps })("a".repeat(length)), false);
    ok(steps.count <= 2 * (length + issue.length), `${steps.count} steps for ${length} characters`);
  }
  // The last part is checked against the end first; a matching value walks each part once.
  const matching = `${"%a".repeat(50)}%`;
  const steps = { count: 0 };
  strictEqual(compileLike(matching, { steps })(`${"xa".repeat(50_000)}`), true);
  ok(steps.count <= 2 * (100_000 + matching.length), `${steps.count} steps for a matching value`);
  // A long literal part over a value of near misses: KMP, not a restart at every position.
  const part = `%${"a".repeat(999)}b%`;
  const kmp = { count: 0 };
  strictEqual(compileLike(part, { steps: kmp })("a".repeat(200_000)), false);
  ok(kmp.count <= 3 * 200_000, `${kmp.count} steps for a near-miss part`);
});

Deno.test("query like / not_like: a pathological pattern over a long name answers through the client", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const { sequence } = await makeShot(session);
  const long = "a".repeat(100);
  await session.create("Shot", { name: long, parent_id: sequence.id });
  const pathological = `${"%a".repeat(14)}%b`;
  deepStrictEqual(await names(session, `select name from Shot where name like "${pathological}"`), []);
  deepStrictEqual(await names(session, `select name from Shot where name not_like "${pathological}"`), [
    "sh010",
    long,
  ]);
  deepStrictEqual(await names(session, `select name from Shot where name like "${"%A".repeat(14)}%"`), [long]);
});

Deno.test("parseQuery() reads a multi-megabyte string literal with escapes whole", () => {
  const chunk = 'frame "1001" \\ end ';
  const value = chunk.repeat(Math.floor(3 * 1024 * 1024 / chunk.length));
  const escaped = value.replaceAll("\\", "\\\\").replaceAll('"', '\\"');
  const query = parseQuery(`Shot where description is "${escaped}" limit 1`);
  const where = query.where as Extract<NonNullable<typeof query.where>, { kind: "compare" }>;
  strictEqual(where.value.text.length, value.length);
  ok(where.value.text === value, "the literal reads back unchanged");
  strictEqual(query.limit, 1);
});

Deno.test("parseQuery() refuses queries over MAX_QUERY_LENGTH or nested over MAX_QUERY_DEPTH, with a short message", () => {
  const tooLong = `Shot where name is "${"x".repeat(MAX_QUERY_LENGTH)}"`;
  throws(() => parseQuery(tooLong), (error: unknown) => {
    ok(error instanceof TrackerError && error.exception === "ParseError");
    ok(error.message.includes(`limit of ${MAX_QUERY_LENGTH} characters`), error.message);
    ok(error.message.length < 400, `a ${error.message.length}-character message`);
    return true;
  });
  const depth = MAX_QUERY_DEPTH + 1;
  for (
    const deep of [
      `Shot where ${"(".repeat(depth)}name is x${")".repeat(depth)}`,
      `Shot where ${"not ".repeat(depth)}name is x`,
      `Shot where ${"parent has (".repeat(depth)}name is x${")".repeat(depth)}`,
      `Shot where ${"id in (select id from Shot where ".repeat(depth)}name is x${")".repeat(depth)}`,
    ]
  ) {
    throws(() => parseQuery(deep), (error: unknown) => {
      ok(error instanceof TrackerError && error.exception === "ParseError");
      ok(error.message.includes(`nested more than ${MAX_QUERY_DEPTH} levels`), error.message);
      return true;
    });
  }
  // One level less still parses.
  const ok99 = `Shot where ${"(".repeat(MAX_QUERY_DEPTH - 1)}name is x${")".repeat(MAX_QUERY_DEPTH - 1)}`;
  strictEqual(parseQuery(ok99).type, "Shot");
});

Deno.test("startTracker() answers API bodies over maxRequestSize with 413 and an error object; uploads are not limited", async (t) => {
  const maxRequestSize = 64 * 1024;
  await using running = await startTracker({ port: 0, data: ":memory:", maxRequestSize });
  const headers = {
    "content-type": "application/json",
    "ftrack-user": running.apiUser,
    "ftrack-api-key": running.apiKey,
  };
  const queryBody = (size: number) => {
    const head = '[{"action": "query", "expression": "select name from Shot where name is \\"';
    const tail = '\\""}]';
    return head + "x".repeat(size - head.length - tail.length) + tail;
  };
  const refused = async (response: Response) => {
    strictEqual(response.status, 413);
    const json = await response.json();
    strictEqual(json.exception, "ValidationError");
    strictEqual(json.error_code, null);
    ok(String(json.content).includes(`limit of ${maxRequestSize} bytes`), json.content);
    ok(String(json.content).includes("--max-request-size"), json.content);
  };

  await t.step("a body with a content-length over the limit", async () => {
    await refused(await fetch(`${running.url}/api`, { method: "POST", headers, body: queryBody(maxRequestSize + 1) }));
  });
  await t.step("a streamed body (no content-length) that grows over the limit", async () => {
    const bytes = new TextEncoder().encode(queryBody(4 * maxRequestSize));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 16 * 1024) controller.enqueue(bytes.slice(at, at + 16 * 1024));
        controller.close();
      },
    });
    await refused(await fetch(`${running.url}/api`, { method: "POST", headers, body }));
  });
  await t.step("a body at the limit is answered", async () => {
    const response = await fetch(`${running.url}/api`, { method: "POST", headers, body: queryBody(maxRequestSize) });
    strictEqual(response.status, 200);
    deepStrictEqual((await response.json())[0].data, []);
  });
  await t.step("an upload to a signed URL many times the limit is stored", async () => {
    const session = await openSession(running);
    const bytes = new Uint8Array(16 * maxRequestSize).fill(7);
    const component = (await session.create("FileComponent", { name: "plate", file_type: ".exr", size: bytes.length }))
      .data;
    const [grant] = await session.call([{
      action: "get_upload_metadata",
      component_id: component.id,
      file_name: "plate.exr",
      file_size: bytes.length,
    }]) as E[];
    const put = await fetch(grant.url, { method: "PUT", body: bytes, headers: grant.headers });
    strictEqual(put.status, 200, await put.clone().text());
    await put.body?.cancel();
    strictEqual(running.tracker.files.info(String(component.id))?.size, bytes.length);
  });
});

Deno.test("startTracker() refuses a maxRequestSize that is not a whole number of bytes above 0", async () => {
  for (const maxRequestSize of [0, -1, 1.5, Number.NaN]) {
    await rejects(startTracker({ port: 0, data: ":memory:", maxRequestSize }), RangeError);
  }
  strictEqual(DEFAULT_MAX_REQUEST_SIZE, 32 * 1024 * 1024);
});

Deno.test("query: more than 130,000 matching rows answer with and without limit 1, and limit 1 stops the scan", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const { sequence, shot } = await makeShot(session);
  const { store, graph } = running.tracker;
  // One batch straight into the store: copies of the shot the client made, 130,000 siblings.
  const template = graph.byKey("Shot", String(shot.id))!;
  const count = 130_000;
  store.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = randomUUID();
      const { __seq: _seq, ...data } = template;
      store.insert("Context", id, { ...data, id, name: `sh${String(i).padStart(6, "0")}` } as Omit<Row, "__seq">);
    }
  });
  const ids = async (expression: string) => ((await session.query(expression)).data as E[]).map((row) => row.id);
  // Whole results on the wire: the official client's decoding of 130,000 entities is not under test.
  const wire = async (expression: string) => {
    const response = await fetch(`${running.url}/api`, {
      method: "POST",
      headers: { "content-type": "application/json", "ftrack-user": running.apiUser, "ftrack-api-key": running.apiKey },
      body: JSON.stringify([{ action: "query", expression }]),
    });
    const json = await response.json();
    ok(Array.isArray(json), `'${expression}' failed: ${JSON.stringify(json)}`);
    return json[0] as { data: E[]; metadata: { next: { offset: number | null } } };
  };

  strictEqual((await ids(`select id from Shot where parent_id is ${sequence.id} limit 1`)).length, 1);
  strictEqual((await ids(`select id from Shot where parent.id is "${sequence.id}" limit 1`)).length, 1);
  strictEqual((await ids(`select id from Shot where project_id is "${shot.project_id}" limit 1`)).length, 1);
  deepStrictEqual(await names(session, `select name from Sequence where children any (name is "sh129999")`), [
    "sq010",
  ]);
  deepStrictEqual(await names(session, `select name from Shot where name like "sh1299%" order by name desc limit 2`), [
    "sh129999",
    "sh129998",
  ]);
  const all = await wire(`select id from Shot where parent_id is ${sequence.id}`);
  strictEqual(all.data.length, count + 1);
  strictEqual(all.metadata.next.offset, null);
  const paged = await wire(`select id from Shot where parent.id is ${sequence.id} offset 5 limit 100000`);
  strictEqual(paged.data.length, 100_000);
  strictEqual(paged.metadata.next.offset, 100_005);
  strictEqual((await wire(`select id from Shot where parent.parent.id is ${shot.project_id}`)).data.length, count + 1);

  // Without order by, a page stops one match past its end: the match that says a next page exists.
  const text = `Shot where name like "sh%" offset 2 limit 1`;
  const page = runQuery(graph, parseQuery(text), text);
  strictEqual(page.rows.length, 1);
  strictEqual(page.next, 3);
  strictEqual(page.scanned, 4);
});

Deno.test("query: paths back and forth through collections cost each step's size; selections nesting too much are refused", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const { sequence } = await makeShot(session);
  const shots = 99;
  await session.call(Array.from({ length: shots }, (_, i) => ({
    action: "create",
    entity_type: "Shot",
    entity_data: { name: `shot${i}`, parent_id: sequence.id },
  })));
  // 100 shots: six round trips through `children` would be 100^6 paths; each step holds 100 shots.
  const there = "children.parent.".repeat(6);
  deepStrictEqual(await names(session, `select name from Sequence where ${there}children.name is "nope"`), []);
  deepStrictEqual(await names(session, `select name from Sequence where ${there}children.name is "shot98"`), [
    "sq010",
  ]);
  deepStrictEqual(await names(session, `select name from Shot where parent.${there}name is "sq010" limit 2`), [
    "sh010",
    "shot0",
  ]);
  // Nested in the answer, the paths really multiply: refused once past MAX_NESTED_ENTITIES.
  await rejects(
    session.query(`select ${"children.parent.".repeat(3)}children.name from Sequence where id is "${sequence.id}"`),
    (error: Error) => {
      ok(error.message.includes(`more than ${MAX_NESTED_ENTITIES} entities`), error.message);
      return true;
    },
  );
  const nested = await session.query(`select children.parent.children.name from Sequence where id is "${sequence.id}"`);
  strictEqual((nested.data[0] as E).children.length, shots + 1);
  // A path longer than MAX_PATH_LENGTH is a parse error naming the limit.
  await rejects(session.query(`select ${"parent.".repeat(MAX_PATH_LENGTH)}name from Shot`), (error: Error) => {
    ok(error.message.includes(`at most ${MAX_PATH_LENGTH} attributes`), error.message);
    return true;
  });
});

Deno.test("deno task tracker --max-request-size sets the limit; a bad size is a usage error naming it", async () => {
  const deno = Deno.execPath();
  const main = new URL("../services/tracker/main.ts", import.meta.url).pathname;
  const bad = await new Deno.Command(deno, {
    args: ["run", "-A", main, "--port", "0", "--data", ":memory:", "--max-request-size", "lots"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  strictEqual(bad.code, 2);
  const message = new TextDecoder().decode(bad.stderr);
  ok(message.includes("max-request-size") && message.includes("64MiB"), message);

  const child = new Deno.Command(deno, {
    args: ["run", "-A", main, "--port", "0", "--data", ":memory:", "--max-request-size", "64KiB"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  await using _stop = {
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  while (!printed.includes("FTRACK_API_KEY=")) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`the tracker stopped before printing its URL: ${printed}`);
    printed += value;
  }
  lines.releaseLock();
  const setting = (name: string) => new RegExp(`${name}=(\\S+)`).exec(printed)![1]!;
  const post = (size: number) =>
    fetch(`${setting("FTRACK_SERVER")}/api`, {
      method: "POST",
      headers: { "ftrack-user": setting("FTRACK_API_USER"), "ftrack-api-key": setting("FTRACK_API_KEY") },
      body: `[{"action": "query", "expression": "Shot where name is '${"x".repeat(size - 60)}'"}]`,
    });
  const over = await post(65 * 1024);
  strictEqual(over.status, 413);
  ok((await over.json()).content.includes(`limit of ${64 * 1024} bytes`));
  const under = await post(63 * 1024);
  strictEqual(under.status, 200);
  deepStrictEqual((await under.json())[0].data, []);
  await child.stdout.cancel().catch(() => {});
});

Deno.test("runQuery() refuses a query past its step budget with a ValidationError, and the tracker answers the next one", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const { sequence } = await makeShot(session);
  await session.call(Array.from({ length: 999 }, (_, i) => ({
    action: "create",
    entity_type: "Shot",
    entity_data: { name: `shot${i}`, parent_id: sequence.id },
  })));
  // 1,000 shots, each looking at 1,000 siblings, each looking at 1,000: 10^9 steps before the budget.
  const cubic = `select name from Shot where parent.children any (parent.children any (name is "nope"))`;
  await rejects(session.query(cubic), (error: Error) => {
    ok(error.message.includes(`more than ${MAX_QUERY_STEPS} steps`), error.message);
    return true;
  });
  deepStrictEqual(await names(session, `select name from Shot where name is "shot998"`), ["shot998"]);
  // The budget counts rows tested and everything paths reach; a small one shows where it stops.
  const text = `Shot where parent.name is "sq010"`;
  const { graph } = running.tracker;
  strictEqual(runQuery(graph, parseQuery(text), text, { maxSteps: 5_000 }).rows.length, 1000);
  throws(() => runQuery(graph, parseQuery(text), text, { maxSteps: 4_000 }), (error: unknown) => {
    ok(error instanceof TrackerError && error.exception === "ValidationError");
    ok(error.message.includes("more than 4000 steps"), error.message);
    return true;
  });
});

Deno.test("runQuery() with order by and a limit returns the same pages as a full sort, ties in creation order", async () => {
  await using running = await memoryTracker();
  const session = await openSession(running);
  const { shot } = await makeShot(session);
  const { store, graph } = running.tracker;
  const template = graph.byKey("Shot", String(shot.id))!;
  store.transaction(() => {
    for (let i = 0; i < 500; i++) {
      const id = randomUUID();
      const { __seq: _seq, ...data } = template;
      const row = { ...data, id, name: `shot${i}`, description: `d${(i * 7919) % 13}` } as Omit<Row, "__seq">;
      store.insert("Context", id, row);
    }
  });
  const ids = (text: string) => runQuery(graph, parseQuery(text), text).rows.map((row) => row.id);
  for (const order of ["description", "description desc", "description desc, name", "name desc"]) {
    const all = ids(`Shot order by ${order}`);
    strictEqual(all.length, 501);
    for (const [offset, limit] of [[0, 0], [0, 1], [0, 7], [3, 40], [120, 1], [495, 10], [600, 5]] as const) {
      const text = `Shot order by ${order} offset ${offset} limit ${limit}`;
      const page = runQuery(graph, parseQuery(text), text);
      deepStrictEqual(page.rows.map((row) => row.id), all.slice(offset, offset + limit), text);
      strictEqual(page.next, offset + limit < all.length ? offset + page.rows.length : null, text);
    }
  }
});
