/**
 * ftrack's query language on the embedded tracker, through `Tracker.call` (no HTTP): the grammar
 * of the protocol spec §5, dotted paths, paging, and the tokenizer quirks of real client output.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Tracker } from "../services/tracker/tracker.ts";
import type { Row } from "../services/tracker/store/entity_store.ts";

interface Fixture {
  tracker: Tracker;
  user: Row;
  ids: Record<string, string>;
  call(operations: unknown[]): unknown;
  query(expression: string): { data: Array<Record<string, unknown>>; metadata: { next: { offset: number | null } } };
  names(expression: string): string[];
}

async function fixture(): Promise<Fixture> {
  const tracker = await Tracker.open({ data: ":memory:" });
  const user = tracker.graph.lookup("User", "username", tracker.apiUser)![0]!;
  const call = (operations: unknown[]) => tracker.call(operations, { user, baseUrl: "http://tracker.test" });
  const one = (operation: Record<string, unknown>) => {
    const result = call([operation]);
    if (!Array.isArray(result)) throw new Error(`call failed: ${JSON.stringify(result)}`);
    return result[0] as { data: Record<string, unknown> };
  };
  const create = (type: string, data: Record<string, unknown>) =>
    String(one({ action: "create", entity_type: type, entity_data: { __entity_type__: type, ...data } }).data.id);
  const query = (expression: string) => {
    const result = call([{ action: "query", expression }]);
    if (!Array.isArray(result)) throw new Error(`query '${expression}' failed: ${JSON.stringify(result)}`);
    return result[0] as ReturnType<Fixture["query"]>;
  };
  const ids: Record<string, string> = {};
  ids.project = create("Project", { name: "demo", full_name: "Demo Project" });
  ids.sq010 = create("Sequence", { name: "sq010", parent_id: ids.project });
  ids.sq020 = create("Sequence", { name: "sq020", parent_id: ids.project });
  for (const [name, parent] of [["sh010", "sq010"], ["sh020", "sq010"], ["sh030", "sq020"]] as const) {
    ids[name] = create("Shot", { name, parent_id: ids[parent], description: name === "sh030" ? "final" : null });
  }
  const comp = String(tracker.graph.lookup("Type", "name", "Compositing")![0]!.id);
  const light = String(tracker.graph.lookup("Type", "name", "Lighting")![0]!.id);
  ids.comp010 = create("Task", { name: "comp", parent_id: ids.sh010, type_id: comp, bid: 3 });
  ids.light010 = create("Task", { name: "lighting", parent_id: ids.sh010, type_id: light, bid: 5 });
  ids.comp020 = create("Task", { name: "comp", parent_id: ids.sh020, type_id: comp, bid: 1 });
  const render = String([...tracker.graph.rowsOf("AssetType")].find((row) => row.short === "render")!.id);
  ids.beauty = create("Asset", { name: "beauty", context_id: ids.sh010, type_id: render });
  ids.plate = create("Asset", { name: "plate", context_id: ids.sh020, type_id: render });
  ids.v1 = create("AssetVersion", { asset_id: ids.beauty, task_id: ids.light010, comment: "first" });
  ids.v2 = create("AssetVersion", { asset_id: ids.beauty, task_id: ids.light010, comment: "second light" });
  ids.v3 = create("AssetVersion", {
    asset_id: ids.plate,
    is_published: false,
    date: { __type__: "datetime", value: "2020-01-01T12:00:00" },
  });
  create("Metadata", { parent_id: ids.sh010, key: "source", value: "plate_v003" });
  create("Metadata", { parent_id: ids.sh010, key: "camera", value: "A" });
  create("Metadata", { parent_id: ids.sh020, key: "source", value: "plate_v001" });
  const names = (expression: string) => query(expression).data.map((row) => String(row.name ?? row.version ?? row.key));
  return { tracker, user, ids, call, query, names };
}

Deno.test("query: select projections, default projections, concrete types of base-type queries", async () => {
  const f = await fixture();
  try {
    const shot = f.query("Shot where name is sh010").data[0]!;
    deepStrictEqual(Object.keys(shot).sort(), [
      "__entity_type__",
      "context_type",
      "id",
      "name",
      "object_type_id",
      "project_id",
    ]);
    strictEqual(shot.__entity_type__, "Shot");
    const contexts = f.query("select name from Context where project_id is " + f.ids.project + " order by name");
    deepStrictEqual(contexts.data.map((row) => row.__entity_type__), [
      "Task",
      "Task",
      "Project",
      "Task",
      "Shot",
      "Shot",
      "Shot",
      "Sequence",
      "Sequence",
    ]);
    deepStrictEqual(f.names("select name from TypedContext where name like 'sq%'"), ["sq010", "sq020"]);
    const nested = f.query(
      `select asset.name, asset.parent.name, task.type.name from AssetVersion where id is ${f.ids.v1}`,
    ).data[0]!;
    deepStrictEqual(nested.asset, {
      __entity_type__: "Asset",
      id: f.ids.beauty,
      context_id: f.ids.sh010,
      name: "beauty",
      parent: {
        __entity_type__: "Shot",
        id: f.ids.sh010,
        project_id: f.ids.project,
        context_type: "task",
        object_type_id: "bad911de-3bd6-47b9-8b46-3476e237cb36",
        name: "sh010",
      },
    });
    strictEqual((nested.task as { type: { name: string } }).type.name, "Lighting");
  } finally {
    await f.tracker.close();
  }
});

Deno.test("query: where with and / or / not, parentheses and precedence", async () => {
  const f = await fixture();
  try {
    deepStrictEqual(f.names("select name from Shot where name is sh010 or name is sh030"), ["sh010", "sh030"]);
    deepStrictEqual(f.names("select name from Shot where not name is sh010"), ["sh020", "sh030"]);
    // and binds tighter than or
    deepStrictEqual(f.names("select name from Shot where name is sh030 or name is sh010 and name is sh020"), ["sh030"]);
    deepStrictEqual(f.names("select name from Shot where (name is sh030 or name is sh010) and not name is sh030"), [
      "sh010",
    ]);
    deepStrictEqual(f.names("select name from Shot where name = sh010"), ["sh010"]);
    deepStrictEqual(f.names("select name from Shot where name != sh010 and name != 'sh020'"), ["sh030"]);
  } finally {
    await f.tracker.close();
  }
});

Deno.test("query: has, any, and dotted paths through references and collections", async () => {
  const f = await fixture();
  try {
    deepStrictEqual(f.names('select name from Shot where parent has (name is "sq010")'), ["sh010", "sh020"]);
    deepStrictEqual(f.names('select name from Shot where parent.name is "sq020"'), ["sh030"]);
    deepStrictEqual(f.names("select name from Shot where children any (type.name is Lighting)"), ["sh010"]);
    deepStrictEqual(f.names("select name from Shot where not children any ()"), ["sh030"]);
    deepStrictEqual(f.names("select name from Sequence where children.children.name is lighting"), ["sq010"]);
    deepStrictEqual(f.names("select name from Shot where assets.versions.version > 1"), ["sh010"]);
    deepStrictEqual(
      f.names(`select version from AssetVersion where asset.parent.id is ${f.ids.sh010} order by version desc`),
      ["2", "1"],
    );
    deepStrictEqual(f.names(`select name from Task where parent.id is ${f.ids.sh010} and type.name is "Compositing"`), [
      "comp",
    ]);
    deepStrictEqual(f.names(`select name from Shot where ancestors any (name is sq010)`), ["sh010", "sh020"]);
    deepStrictEqual(f.names(`select name from Project where descendants any (name is lighting)`), ["demo"]);
    deepStrictEqual(f.names("select name from Shot where metadata any (key=source and value=plate_v001)"), ["sh020"]);
  } finally {
    await f.tracker.close();
  }
});

Deno.test("query: in / not_in with lists and subqueries, is / is_not with null", async () => {
  const f = await fixture();
  try {
    deepStrictEqual(f.names(`select name from Shot where id in (${f.ids.sh010},${f.ids.sh030})`), ["sh010", "sh030"]);
    deepStrictEqual(f.names(`select name from Shot where name in ("sh010", 'sh020')`), ["sh010", "sh020"]);
    deepStrictEqual(f.names(`select name from Shot where name not_in (sh010, sh020)`), ["sh030"]);
    deepStrictEqual(f.names("select name from Shot where id in (select context_id from Asset where name is plate)"), [
      "sh020",
    ]);
    deepStrictEqual(f.names("select name from Shot where id not_in (select context_id from Asset)"), ["sh030"]);
    deepStrictEqual(f.names("select name from Shot where description is None"), ["sh010", "sh020"]);
    deepStrictEqual(f.names("select name from Shot where description is_not null"), ["sh030"]);
    deepStrictEqual(f.names("select name from Shot where description is undefined"), ["sh010", "sh020"]);
    deepStrictEqual(f.names("select name from Shot where thumbnail is None"), ["sh010", "sh020", "sh030"]);
    deepStrictEqual(f.names("select name from Project where parent_id is none"), ["demo"]);
  } finally {
    await f.tracker.close();
  }
});

Deno.test("query: comparisons on numbers, booleans and dates; like / not_like", async () => {
  const f = await fixture();
  try {
    deepStrictEqual(f.names("select name from Task where bid > 2 order by bid"), ["comp", "lighting"]);
    deepStrictEqual(f.names("select name from Task where bid >= 5"), ["lighting"]);
    deepStrictEqual(f.names("select name from Task where bid < 3"), ["comp"]);
    deepStrictEqual(f.names("select name from Task where bid <= 3 and bid greater_than 0 and bid less_than 4"), [
      "comp",
      "comp",
    ]);
    deepStrictEqual(f.names("select version from AssetVersion where is_published is False"), ["1"]);
    deepStrictEqual(f.names("select version from AssetVersion where is_published is true order by version"), [
      "1",
      "2",
    ]);
    deepStrictEqual(f.names('select version from AssetVersion where date before "2021-01-01"'), ["1"]);
    deepStrictEqual(f.names('select version from AssetVersion where date after "2021-01-01T00:00:00+00:00"').length, 2);
    // compared in UTC: the stored 12:00 UTC is after 13:00+02:00 (11:00 UTC) and before 15:00+02:00
    deepStrictEqual(f.names('select version from AssetVersion where date < "2020-01-01T13:00:00+02:00"'), []);
    deepStrictEqual(f.names('select version from AssetVersion where date < "2020-01-01T15:00:00+02:00"'), ["1"]);
    deepStrictEqual(f.names('select name from Shot where name like "%02%"'), ["sh020"]);
    deepStrictEqual(f.names('select name from Shot where name like "SH0_0"'), ["sh010", "sh020", "sh030"]);
    deepStrictEqual(f.names('select name from Shot where name not_like "%1%"'), ["sh020", "sh030"]);
    deepStrictEqual(f.names('select comment from AssetVersion where comment like "%light%"').length, 1);
  } finally {
    await f.tracker.close();
  }
});

Deno.test("query: order by, offset and limit in any order, exact next offsets", async () => {
  const f = await fixture();
  try {
    deepStrictEqual(f.names("select name from Shot order by name desc"), ["sh030", "sh020", "sh010"]);
    deepStrictEqual(f.names("select name, bid from Task order by name, bid desc"), ["comp", "comp", "lighting"]);
    deepStrictEqual(f.query("select name from Task order by name, bid desc").data.map((row) => row.id), [
      f.ids.comp010,
      f.ids.comp020,
      f.ids.light010,
    ]);
    const first = f.query("select name from Shot order by name limit 2 offset 0");
    deepStrictEqual(first.data.map((row) => row.name), ["sh010", "sh020"]);
    strictEqual(first.metadata.next.offset, 2);
    const second = f.query("select name from Shot order by name offset 2 limit 2");
    deepStrictEqual(second.data.map((row) => row.name), ["sh030"]);
    strictEqual(second.metadata.next.offset, null);
    strictEqual(f.query("select name from Shot offset 3 limit 2").metadata.next.offset, null);
    strictEqual(f.query("select name from Shot where name is nothing limit 10").metadata.next.offset, null);
    deepStrictEqual(f.names("select name from Shot offset 1"), ["sh020", "sh030"]);
  } finally {
    await f.tracker.close();
  }
});

Deno.test("query: the tokenizer takes real client output", async () => {
  const f = await fixture();
  try {
    // Python composite-key populate: no space before `and`.
    const populated = f.query(
      `select value from Metadata where (parent_id is "${f.ids.sh010}"and key is "source") or (parent_id is "${f.ids.sh020}"and key is "source")`,
    );
    deepStrictEqual(populated.data.map((row) => row.value).sort(), ["plate_v001", "plate_v003"]);
    // get(): `Type where (id is "x")`, and unquoted uuids
    strictEqual(f.query(`Shot where (id is "${f.ids.sh010}")`).data.length, 1);
    strictEqual(f.query(`select id from Shot where id is ${f.ids.sh010}`).data.length, 1);
    strictEqual(f.query(`Shot where id in (${f.ids.sh010}, ${f.ids.sh020})`).data.length, 2);
    // JS ensure: `select id from T where …` with `${value}` spellings
    strictEqual(f.query(`select id from AssetVersion where is_published is false and version is 1`).data.length, 1);
    strictEqual(f.query("select id from Shot where name is 'sh010' offset 0 limit 500").data.length, 1);
  } finally {
    await f.tracker.close();
  }
});

Deno.test("query: errors name the query and the problem, with no braces in the content", async () => {
  const f = await fixture();
  try {
    const errors: Array<[string, RegExp]> = [
      ["select nope from Shot", /entity type 'Shot' has no attribute 'nope'/],
      ["select name from Shot where", /Cannot parse query/],
      ["select name from Shot where name", /expected an operator/],
      ["select name from Shot where name is", /expected a value/],
      ["select name from Shot where (name is x", /expected '\)'/],
      ["select name from Unicorn", /'Unicorn' does not exist/],
      ["select name from Shot where name is 'x", /unterminated string/],
      ["select name from Shot where name.first is x", /'name' is a value, not an entity/],
      ['select name from Shot where name is "{oops}"', /Cannot parse|no attribute|oops/],
      ["select name from Shot limit -1", /whole number/],
      ["select name from Shot where parent has name is x", /expected '\('/],
    ];
    for (const [expression, pattern] of errors) {
      const result = f.call([{ action: "query", expression }]) as { exception?: string; content?: string };
      if (Array.isArray(result)) {
        ok(expression.includes("{oops}"), `expected an error for ${expression}`);
        continue;
      }
      ok(result.exception, `no exception for ${expression}`);
      ok(pattern.test(result.content!), `${expression}: ${result.content}`);
      ok(!/[{}]/.test(result.content!), `braces in ${result.content}`);
    }
  } finally {
    await f.tracker.close();
  }
});
