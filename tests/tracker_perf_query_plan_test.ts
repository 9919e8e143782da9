/**
 * The query planner's fast paths (candidates through indexes: the narrowest operand of an `and`,
 * the union of an `or`, chains of references) answer exactly what testing every row answers, on
 * random data: the same rows, in the same order, with the same pages.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { parseQuery } from "../services/tracker/query/parse_query.ts";
import { type QueryPage, runQuery } from "../services/tracker/query/run_query.ts";
import { Tracker } from "../services/tracker/tracker.ts";

/** A small deterministic random source (the same data every run). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
}

interface Project {
  tracker: Tracker;
  projectId: string;
  sequences: string[];
  shots: string[];
  tasks: string[];
  users: string[];
  pick<T>(values: readonly T[], count: number): T[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** A project of random shape: sequences, shots, tasks, ferry ids on some, assignments on others. */
async function randomProject(seed: number): Promise<Project> {
  const next = random(seed);
  const tracker = await Tracker.open({ data: ":memory:" });
  const user = tracker.graph.lookup("User", "username", tracker.apiUser)![0]!;
  const call = (operations: unknown[]) => {
    const answer = tracker.call(operations, { user, baseUrl: "" });
    if (!Array.isArray(answer)) throw new Error(`the setup failed: ${JSON.stringify(answer)}`);
    return answer as Array<{ data: Record<string, unknown> }>;
  };
  const create = (type: string, data: Record<string, unknown>) => ({
    action: "create",
    entity_type: type,
    entity_data: { __entity_type__: type, ...data },
  });
  const schemaId = tracker.graph.rowsOf("ProjectSchema").next().value!.id;
  const projectId = randomUUID();
  const operations: unknown[] = [create("Project", { id: projectId, name: "plan", project_schema_id: schemaId })];
  const users = Array.from({ length: 4 }, () => randomUUID());
  users.forEach((id, i) => operations.push(create("User", { id, username: `artist${i}` })));
  const sequences: string[] = [];
  const shots: string[] = [];
  const tasks: string[] = [];
  for (let s = 0; s < 6; s++) {
    const sequenceId = randomUUID();
    sequences.push(sequenceId);
    operations.push(create("Sequence", { id: sequenceId, name: `sq${s}`, parent_id: projectId }));
    for (let h = 0, count = 3 + Math.floor(next() * 8); h < count; h++) {
      const shotId = randomUUID();
      shots.push(shotId);
      // Names repeat across sequences; some descriptions are shared.
      operations.push(
        create("Shot", {
          id: shotId,
          name: `sh${Math.floor(next() * 12)}`,
          parent_id: sequenceId,
          description: `d${Math.floor(next() * 4)}`,
        }),
      );
      for (let t = 0, count = Math.floor(next() * 5); t < count; t++) {
        const taskId = randomUUID();
        tasks.push(taskId);
        operations.push(create("Task", { id: taskId, name: `task${Math.floor(next() * 4)}`, parent_id: shotId }));
      }
    }
  }
  call(operations);
  const configurations = new Map(
    [...tracker.graph.rowsOf("CustomAttributeConfiguration")].map((row) => [String(row.key), String(row.id)]),
  );
  const values: unknown[] = [];
  const appointments: unknown[] = [];
  for (const id of [...sequences, ...shots, ...tasks]) {
    if (next() < 0.7) {
      values.push({
        action: "update",
        entity_type: "ContextCustomAttributeValue",
        entity_key: [configurations.get("ferry_id"), id],
        entity_data: { value: `ferry-${Math.floor(next() * 1000)}` },
      });
    }
    if (next() < 0.3) {
      appointments.push(
        create("Appointment", {
          context_id: id,
          resource_id: users[Math.floor(next() * users.length)],
          type: next() < 0.8 ? "assignment" : "booking",
        }),
      );
    }
  }
  call([...values, ...appointments]);
  return {
    tracker,
    projectId,
    sequences,
    shots,
    tasks,
    users,
    pick<T>(list: readonly T[], count: number): T[] {
      return Array.from({ length: count }, () => list[Math.floor(next() * list.length)]!);
    },
    [Symbol.asyncDispose]: () => tracker.close(),
  };
}

const quoted = (ids: string[]) => ids.map((id) => `"${id}"`).join(", ");

/** The page through indexes, checked against the page of a full scan. */
function same(tracker: Tracker, text: string): QueryPage {
  const query = parseQuery(text);
  const fast = runQuery(tracker.graph, query, text);
  const slow = runQuery(tracker.graph, query, text, { useIndexes: false });
  deepStrictEqual(
    { rows: fast.rows.map((row) => row.id ?? tracker.graph.keyOf(row)), next: fast.next },
    { rows: slow.rows.map((row) => row.id ?? tracker.graph.keyOf(row)), next: slow.next },
    text,
  );
  return fast;
}

Deno.test("runQuery() through indexes answers what a full scan answers: in (…), and, or, not, chains, order, pages", async () => {
  for (const seed of [1, 2, 3]) {
    await using project = await randomProject(seed);
    const { tracker, pick } = project;
    const contexts = [...project.sequences, ...project.shots, ...project.tasks];
    const unknown = () => randomUUID();
    for (let round = 0; round < 25; round++) {
      const some = [...pick(contexts, 1 + round * 3), unknown()];
      const shots = pick(project.shots, 1 + (round % 7));
      const texts = [
        `select id from Context where id in (${quoted(some)})`,
        `select id from TypedContext where id in (${quoted(some)}) and name is "task${round % 4}"`,
        `select entity_id, value from ContextCustomAttributeValue where configuration.key is "ferry_id" and entity_id in (${
          quoted(some)
        })`,
        `select entity_id from ContextCustomAttributeValue where entity_id in (${
          quoted(some)
        }) and configuration.key is "ferry_id" and value like "ferry-${round % 10}%"`,
        `select id from Task where parent_id in (${quoted(shots)}) or name is "task${round % 4}"`,
        `select id from Task where parent_id in (${quoted(shots)}) or id in (${quoted(pick(project.tasks, 3))})`,
        `select id from Shot where id in (${quoted(shots)}) or description is "d${round % 4}"`,
        `select id from Task where parent_id in (${quoted(shots)}) and not name is "task${round % 4}"`,
        `select id from Task where parent_id not_in (${quoted(shots)}) and name is "task1"`,
        `select id from Task where not (parent_id in (${quoted(shots)}) or name is "task2")`,
        `select id from Task where (parent_id in (${quoted(shots)}) or name is "task0") and parent.parent_id in (${
          quoted(pick(project.sequences, 2))
        })`,
        `select id from Task where parent.parent.id is "${pick(project.sequences, 1)[0]}" and name like "task%"`,
        `select context_id from Appointment where type is "assignment" and context_id in (${quoted(some)})`,
        `select context_id from Appointment where context.project_id is "${project.projectId}" and context_id in (${
          quoted(some)
        })`,
        `select id from Appointment where resource_id is "${pick(project.users, 1)[0]}" and context.parent_id in (${
          quoted(shots)
        })`,
        `select id, name from Context where id in (${quoted(some)}) order by name desc, id limit 4 offset ${round % 3}`,
        `select id from Context where id in (${quoted(some)}) limit 2 offset ${round % 4}`,
        `select id from Task where parent_id in (${quoted(shots)}) or name is "task3" order by name limit 3`,
        `select id from Context where id in (${quoted(some)}) and id is "${some[0]}"`,
        `select id from Context where id in (${quoted([unknown(), unknown()])}) and name is "sh1"`,
      ];
      for (const text of texts) same(tracker, text);
    }
  }
});

Deno.test("runQuery() takes the narrowest operand of an and: entity_id in (…) rather than every value of a configuration", async () => {
  await using project = await randomProject(4);
  const { tracker, pick } = project;
  const ids = pick(project.shots, 3);
  const text =
    `select entity_id from ContextCustomAttributeValue where configuration.key is "ferry_id" and entity_id in (${
      quoted(ids)
    })`;
  const page = same(tracker, text);
  ok(tracker.store.count("CustomAttributeValue") > 50, "the project has many values");
  // Only the few ids' values are tested, not the configuration's every value.
  ok(page.scanned <= 6, `${page.scanned} rows tested`);
  const either = same(tracker, `select id from Task where parent_id is "${ids[0]}" or parent_id is "${ids[1]}"`);
  ok(either.scanned < project.tasks.length, `${either.scanned} of ${project.tasks.length} tasks tested for an or`);
});
