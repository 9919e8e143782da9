/**
 * Figures for the query engine's worst cases (issue 8, items 7, 8 and 11):
 * `./node_modules/deno/deno bench --allow-all tests/tracker_query_bench.ts`.
 */
import { randomUUID } from "node:crypto";
import { compileLike } from "../services/tracker/query/match_like.ts";
import { parseQuery } from "../services/tracker/query/parse_query.ts";
import { runQuery } from "../services/tracker/query/run_query.ts";
import type { Row } from "../services/tracker/store/entity_store.ts";
import { Tracker } from "../services/tracker/tracker.ts";

const ISSUE_PATTERN = "%a%a%a%a%a%a%a%a%a%a%b";

Deno.bench("compileLike: the issue's pattern on a 40-character name (46 s as a RegExp)", { group: "like" }, () => {
  compileLike(ISSUE_PATTERN)("a".repeat(40));
});
Deno.bench("compileLike: the issue's pattern on a 1,000,000-character value", { group: "like" }, () => {
  compileLike(ISSUE_PATTERN)("a".repeat(1_000_000));
});

const literal = `Shot where description is "${"x".repeat(4 * 1024 * 1024 - 40)}"`;
const list = `Shot where id in (${"x,".repeat(Math.floor((4 * 1024 * 1024 - 40) / 2))}y)`;
Deno.bench("parseQuery: a 4 MiB string literal", { group: "tokenizer" }, () => {
  parseQuery(literal);
});
Deno.bench("parseQuery: a 4 MiB in-list of 2,000,000 values", { group: "tokenizer" }, () => {
  parseQuery(list);
});

const tracker = await Tracker.open({ data: ":memory:" });
const shot = tracker.writeAsServer((writer) => {
  const schema = tracker.graph.rowsOf("ProjectSchema").next().value!;
  const project = writer.create("Project", { name: "bench", full_name: "bench", project_schema_id: schema.id });
  const sequence = writer.create("Sequence", { name: "sq010", parent_id: project.id });
  return writer.create("Shot", { name: "sh000000", parent_id: sequence.id });
});
tracker.store.transaction(() => {
  const { __seq: _seq, ...data } = shot;
  for (let i = 1; i <= 130_000; i++) {
    const id = randomUUID();
    tracker.store.insert("Context", id, { ...data, id, name: `sh${String(i).padStart(6, "0")}` } as Omit<Row, "__seq">);
  }
});
const query = (text: string) => () => void runQuery(tracker.graph, parseQuery(text), text);
Deno.bench(
  "runQuery: 130,001 shots by parent_id, limit 1",
  { group: "rows" },
  query(
    `Shot where parent_id is ${shot.parent_id} limit 1`,
  ),
);
Deno.bench(
  "runQuery: 130,001 shots by parent_id",
  { group: "rows" },
  query(`Shot where parent_id is ${shot.parent_id}`),
);
Deno.bench("runQuery: 130,001 shots, like, limit 1", { group: "rows" }, query(`Shot where name like "sh0%" limit 1`));
Deno.bench(
  "runQuery: 130,001 shots, like matching the last 30,000",
  { group: "rows" },
  query(`Shot where name like "sh1%"`),
);
Deno.bench(
  "runQuery: 130,001 shots, order by name desc, limit 1",
  { group: "rows" },
  query(
    `Shot order by name desc limit 1`,
  ),
);
