/**
 * What the embedded tracker refuses to store, on the wire (exact values, as any client could send
 * them) and through the official `@ftrack/api` client (what it sends by default must pass).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { LOCATION_IDS } from "../services/tracker/schema/definitions.ts";
import { makeShot, memoryTracker, openSession } from "./_tracker.ts";

type Running = Awaited<ReturnType<typeof memoryTracker>>;
// deno-lint-ignore no-explicit-any
type E = any;

/** One `POST /api` call with the API user's credentials; the decoded answer. */
async function call(running: Running, operations: unknown[]): Promise<E> {
  const response = await fetch(`${running.url}/api`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "ftrack-user": running.apiUser,
      "ftrack-api-key": running.apiKey,
    },
    body: JSON.stringify(operations),
  });
  return await response.json();
}

/** Asserts an ftrack error object of `exception` whose content matches every pattern. */
function assertRefused(answer: E, exception: string, ...patterns: RegExp[]): void {
  ok(!Array.isArray(answer), `expected an error object, got ${JSON.stringify(answer).slice(0, 300)}`);
  strictEqual(answer.exception, exception, answer.content);
  for (const pattern of patterns) ok(pattern.test(answer.content), `${answer.content} should match ${pattern}`);
  ok(!/[{}]/.test(answer.content), "no braces in content");
}

async function fixture(running: Running) {
  const session = await openSession(running);
  return { session, ...await makeShot(session) };
}

Deno.test("create/update: scalar values are checked against the schema type, and a bad one is never stored", async (t) => {
  await using running = await memoryTracker();
  const { project, shot } = await fixture(running);
  const schemaId = project.project_schema_id;
  const refusals: Array<[string, string, Record<string, unknown>, RegExp[]]> = [
    ["Project", "name", { name: 42, project_schema_id: schemaId }, [/'Project.name'/, /'42'/, /expected a string/]],
    ["Project", "name", { name: { a: 1 }, project_schema_id: schemaId }, [/'Project.name'/, /"a":1/]],
    ["Project", "name", { name: ["x"], project_schema_id: schemaId }, [/'Project.name'/, /\["x"\]/]],
    ["Project", "name", { name: true, project_schema_id: schemaId }, [/'Project.name'/, /'true'/]],
    ["Project", "start_date", { name: "p1", project_schema_id: schemaId, start_date: "garbage" }, [
      /'Project.start_date'/,
      /'garbage'/,
      /ISO 8601/,
    ]],
    ["Project", "start_date", {
      name: "p2",
      project_schema_id: schemaId,
      start_date: { __type__: "datetime", value: "2024-02-30T10:00:00" },
    }, [/'Project.start_date'/, /'2024-02-30T10:00:00'/]],
    ["Project", "end_date", { name: "p3", project_schema_id: schemaId, end_date: 1732270000 }, [
      /'Project.end_date'/,
      /expected a datetime/,
    ]],
    ["Project", "is_private", { name: "p4", project_schema_id: schemaId, is_private: "yes" }, [
      /'Project.is_private'/,
      /'yes'/,
      /true or false/,
    ]],
    ["Shot", "bid", { name: "sh020", parent_id: shot.parent_id, bid: "10" }, [/'Shot.bid'/, /expected a number/]],
    ["Status", "sort", { name: "Odd", sort: 1.5 }, [/'Status.sort'/, /'1.5'/, /expected an integer/]],
    ["Job", "status", { status: "exploded" }, [/'Job.status'/, /'exploded'/, /'queued', 'running'/]],
    ["Metadata", "value", { parent_id: shot.id, parent_type: "Shot", key: "k", value: { nested: true } }, [
      /'Metadata.value'/,
      /"nested":true/,
      /expected a string/,
    ]],
  ];
  for (const [type, attribute, data, patterns] of refusals) {
    await t.step(`create ${type} refuses a bad '${attribute}'`, async () => {
      const answer = await call(running, [{ action: "create", entity_type: type, entity_data: data }]);
      assertRefused(answer, "ValidationError", ...patterns);
    });
  }
  await t.step("nothing refused was stored", async () => {
    const [projects, metadata, jobs] = await call(running, [
      { action: "query", expression: "select name from Project" },
      { action: "query", expression: "select key from Metadata" },
      { action: "query", expression: "select status from Job" },
    ]);
    deepStrictEqual(projects.data.map((row: E) => row.name), ["demo"]);
    strictEqual(metadata.data.length, 0);
    strictEqual(jobs.data.length, 0);
  });
  await t.step("update is checked the same way and leaves the entity unchanged", async () => {
    const answer = await call(running, [
      { action: "update", entity_type: "Shot", entity_key: [shot.id], entity_data: { description: "fine" } },
      { action: "update", entity_type: "Shot", entity_key: [shot.id], entity_data: { start_date: "garbage" } },
    ]);
    assertRefused(answer, "ValidationError", /'Shot.start_date'/, /'garbage'/);
    const [read] = await call(running, [{
      action: "query",
      expression: `select description, start_date from Shot where id is "${shot.id}"`,
    }]);
    strictEqual(read.data[0].description, null, "the batch is atomic");
    strictEqual(read.data[0].start_date, null);
  });
  await t.step("custom attribute values follow their configuration's type", async () => {
    const [configuration] = (await call(running, [{
      action: "query",
      expression: 'select id from CustomAttributeConfiguration where key is "fps"',
    }]))[0].data;
    const answer = await call(running, [{
      action: "update",
      entity_type: "ContextCustomAttributeValue",
      entity_key: [configuration.id, shot.id],
      entity_data: { value: "fast" },
    }]);
    assertRefused(answer, "ValidationError", /custom attribute 'fps'/, /'fast'/, /expected a number/);
    const ok25 = await call(running, [{
      action: "update",
      entity_type: "ContextCustomAttributeValue",
      entity_key: [configuration.id, shot.id],
      entity_data: { value: 25 },
    }]);
    strictEqual(ok25[0].data.value, 25);
  });
});

Deno.test("create/update: what the official client sends by default is accepted", async () => {
  await using running = await memoryTracker();
  const { session, shot, project } = await fixture(running);
  const start = new Date("2026-11-22T09:30:00Z");
  const updated = await session.update("Shot", [shot.id], { start_date: start, bid: 2.5, description: "plate" });
  strictEqual(updated.data.bid, 2.5);
  const read = await session.query(`select start_date from Shot where id is "${shot.id}"`);
  strictEqual(new Date((read.data[0] as E).start_date).toISOString(), start.toISOString());
  // An ISO string in a string attribute: the client sends it as a datetime, the text is kept.
  const stamp = "2026-11-22T09:30:00.000Z";
  await session.create("Metadata", { parent_id: project.id, parent_type: "Project", key: "stamp", value: stamp });
  const metadata = await session.query(`select value from Metadata where key is "stamp"`);
  strictEqual((metadata.data[0] as E).value, stamp);
  // Metadata values are text: numbers and booleans are kept as their text, as ftrack stores them.
  await session.create("Metadata", { parent_id: project.id, parent_type: "Project", key: "frames", value: 100 } as E);
  const frames = await session.query(`select value from Metadata where key is "frames"`);
  strictEqual((frames.data[0] as E).value, "100");
  const job = await session.create("Job", { status: "running", data: { description: "x" } });
  strictEqual(job.data.status, "running");
});

Deno.test("create/update: names that would climb out of a folder are refused", async (t) => {
  await using running = await memoryTracker();
  const { project, sequence, shot } = await fixture(running);
  const [[assetType]] = [(await call(running, [{ action: "query", expression: "select id from AssetType" }]))[0].data];
  const refusals: Array<[string, Record<string, unknown>, string]> = [
    ["Project", { name: "..", project_schema_id: project.project_schema_id }, ".."],
    ["Project", { name: "a/b", project_schema_id: project.project_schema_id }, "a/b"],
    ["Sequence", { name: ".", parent_id: project.id }, "."],
    ["Shot", { name: "..", parent_id: sequence.id }, ".."],
    ["Shot", { name: "sh\\010", parent_id: sequence.id }, "sh\\010"],
    ["Task", { name: "comp\u0000", parent_id: shot.id }, "comp"],
    ["AssetBuild", { name: "../../etc", parent_id: project.id }, "../../etc"],
    ["Folder", { name: "/abs", parent_id: project.id }, "/abs"],
    ["Asset", { name: "..", context_id: shot.id, type_id: assetType.id }, ".."],
    ["FileComponent", { name: "../main" }, "../main"],
  ];
  for (const [type, data, shown] of refusals) {
    await t.step(`${type} named ${JSON.stringify(data.name)}`, async () => {
      const answer = await call(running, [{ action: "create", entity_type: type, entity_data: data }]);
      assertRefused(answer, "ValidationError", new RegExp(`'${type}.name'`), /folder and file names/);
      ok(answer.content.includes(shown), `${answer.content} names the value`);
    });
  }
  await t.step("renaming to '..' is refused too; ordinary names with dots pass", async () => {
    const answer = await call(running, [
      { action: "update", entity_type: "Shot", entity_key: [shot.id], entity_data: { name: ".." } },
    ]);
    assertRefused(answer, "ValidationError", /'Shot.name'/, /'\.\.'/);
    const fine = await call(running, [
      { action: "update", entity_type: "Shot", entity_key: [shot.id], entity_data: { name: "sh010.v2..final" } },
      { action: "create", entity_type: "FileComponent", entity_data: { name: "beauty.exr" } },
    ]);
    ok(Array.isArray(fine), JSON.stringify(fine));
  });
});

Deno.test("update/create: an entity cannot become its own ancestor; deep trees delete and list", async (t) => {
  await using running = await memoryTracker();
  const { project, sequence, shot, task } = await fixture(running);
  await t.step("parent_id to itself, to a child, to a grandchild, or a create naming itself", async () => {
    for (
      const [type, key, parentId] of [
        ["Shot", shot.id, shot.id],
        ["Sequence", sequence.id, shot.id],
        ["Sequence", sequence.id, task.id],
      ] as const
    ) {
      const answer = await call(running, [
        { action: "update", entity_type: type, entity_key: [key], entity_data: { parent_id: parentId } },
      ]);
      assertRefused(answer, "ValidationError", /'parent_id'/, /its own ancestor/);
    }
    const own = await call(running, [{
      action: "create",
      entity_type: "Folder",
      entity_data: { id: "f-self", name: "loop", parent_id: "f-self" },
    }]);
    assertRefused(own, "ValidationError", /'parent_id'/, /its own ancestor/);
  });
  await t.step("through a collection update (children) too", async () => {
    const answer = await call(running, [
      {
        action: "update",
        entity_type: "Shot",
        entity_key: [shot.id],
        entity_data: { children: [{ id: sequence.id }] },
      },
    ]);
    assertRefused(answer, "ValidationError", /its own ancestor/);
  });
  await t.step("notes cannot reply to themselves", async () => {
    const answer = await call(running, [
      { action: "create", entity_type: "Note", entity_data: { id: "n1", content: "a", parent_id: shot.id } },
      { action: "create", entity_type: "Note", entity_data: { id: "n2", content: "b", in_reply_to_id: "n1" } },
      { action: "update", entity_type: "Note", entity_key: ["n1"], entity_data: { in_reply_to_id: "n2" } },
    ]);
    assertRefused(answer, "ValidationError", /'in_reply_to_id'/, /a reply to itself/);
  });
  await t.step("links still reach the project", async () => {
    const [read] = await call(running, [{
      action: "query",
      expression: `select link from Task where id is "${task.id}"`,
    }]);
    deepStrictEqual(read.data[0].link.map((item: E) => item.name), ["demo", "sq010", "sh010", "lighting"]);
  });
  await t.step("a 12,000-deep tree lists its descendants and deletes without overflowing", async () => {
    const depth = 12_000;
    const operations = [];
    for (let level = 0; level < depth; level++) {
      operations.push({
        action: "create",
        entity_type: "Folder",
        entity_data: {
          id: `deep-${level}`,
          name: `f${level}`,
          parent_id: level === 0 ? project.id : `deep-${level - 1}`,
        },
      });
    }
    const made = await call(running, operations);
    ok(Array.isArray(made), JSON.stringify(made).slice(0, 300));
    const [below] = await call(running, [{
      action: "query",
      expression: `select descendants from Folder where id is "deep-0"`,
    }]);
    strictEqual(below.data[0].descendants.length, depth - 1);
    const [link] = await call(running, [{
      action: "query",
      expression: `select link from Folder where id is "deep-${depth - 1}"`,
    }]);
    strictEqual(link.data[0].link.length, depth + 1);
    const removed = await call(running, [{ action: "delete", entity_type: "Project", entity_key: [project.id] }]);
    ok(Array.isArray(removed), JSON.stringify(removed).slice(0, 300));
    const [left] = await call(running, [{ action: "query", expression: "select id from Context" }]);
    strictEqual(left.data.length, 0);
  });
});

Deno.test("schema lookups: JavaScript property names are unknown like any other name", async (t) => {
  await using running = await memoryTracker();
  const { shot } = await fixture(running);
  const same = async (operation: (name: string) => Record<string, unknown>) => {
    const reference = await call(running, [operation("nosuchname")]);
    ok(!Array.isArray(reference) && reference.exception, JSON.stringify(reference));
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
      const answer = await call(running, [operation(name)]);
      ok(!Array.isArray(answer), `${name}: ${JSON.stringify(answer)}`);
      strictEqual(answer.exception, reference.exception, `${name}: ${answer.content}`);
      strictEqual(answer.content, reference.content.replaceAll("nosuchname", name));
    }
  };
  await t.step(
    "as entity types in writes",
    () => same((name) => ({ action: "create", entity_type: name, entity_data: { name: "x" } })),
  );
  await t.step(
    "as attributes in writes",
    () =>
      same((name) => ({ action: "update", entity_type: "Shot", entity_key: [shot.id], entity_data: { [name]: "x" } })),
  );
  await t.step("as attributes in creates", () =>
    same((name) => ({
      action: "create",
      entity_type: "Sequence",
      entity_data: { name: "sq", parent_id: shot.project_id, [name]: 1 },
    })));
  await t.step(
    "as entity types in queries",
    () => same((name) => ({ action: "query", expression: `select id from ${name}` })),
  );
  await t.step(
    "as projections in queries",
    () => same((name) => ({ action: "query", expression: `select ${name} from Shot` })),
  );
  await t.step(
    "in query conditions",
    () => same((name) => ({ action: "query", expression: `select id from Shot where ${name} is "x"` })),
  );
  await t.step(
    "in query paths",
    () => same((name) => ({ action: "query", expression: `select parent.${name} from Shot` })),
  );
});

Deno.test("delete/update of Location: the built-in locations stay", async () => {
  await using running = await memoryTracker();
  for (const [name, id] of Object.entries(LOCATION_IDS)) {
    const answer = await call(running, [{ action: "delete", entity_type: "Location", entity_key: [id] }]);
    assertRefused(answer, "ValidationError", new RegExp(`'${name.replace(".", "\\.")}'`), /built in/);
  }
  const renamed = await call(running, [{
    action: "update",
    entity_type: "Location",
    entity_key: [LOCATION_IDS["ftrack.server"]],
    entity_data: { name: "elsewhere" },
  }]);
  assertRefused(renamed, "ValidationError", /built in/);
  const [server] = await call(running, [{
    action: "query",
    expression: 'select id from Location where name is "ftrack.server"',
  }]);
  strictEqual(server.data[0].id, LOCATION_IDS["ftrack.server"]);
  const made = await call(running, [{
    action: "create",
    entity_type: "Location",
    entity_data: { name: "studio.disk" },
  }]);
  const removed = await call(running, [{ action: "delete", entity_type: "Location", entity_key: [made[0].data.id] }]);
  ok(Array.isArray(removed), "other locations can be deleted");
});

Deno.test("query: a datetime stored before type checks that is not one reads as null, not as garbage", async () => {
  await using running = await memoryTracker();
  const { shot } = await fixture(running);
  // What a tracker of before type checks let a client store.
  running.tracker.store.transaction(() => running.tracker.store.update("Context", shot.id, { start_date: "garbage" }));
  const [read] = await call(running, [{
    action: "query",
    expression: `select start_date, end_date, created_at from Shot where id is "${shot.id}"`,
  }]);
  strictEqual(read.data[0].start_date, null);
  strictEqual(read.data[0].end_date, null);
  strictEqual(read.data[0].created_at.__type__, "datetime");
});

Deno.test("update of parent_id: what moves to another project follows it; a project has no parent", async () => {
  await using running = await memoryTracker();
  const { project, sequence, shot, task } = await fixture(running);
  const [made] = await call(running, [{
    action: "create",
    entity_type: "Project",
    entity_data: { name: "other", project_schema_id: project.project_schema_id },
  }]);
  const other = made.data;
  const moved = await call(running, [
    { action: "update", entity_type: "Sequence", entity_key: [sequence.id], entity_data: { parent_id: other.id } },
  ]);
  ok(Array.isArray(moved), JSON.stringify(moved));
  const [rows] = await call(running, [{
    action: "query",
    expression: `select project_id from TypedContext where id in ("${sequence.id}", "${shot.id}", "${task.id}")`,
  }]);
  deepStrictEqual(rows.data.map((row: E) => row.project_id), [other.id, other.id, other.id]);
  const [tasks] = await call(running, [{
    action: "query",
    expression: `select id from Task where project.name is "other"`,
  }]);
  strictEqual(tasks.data.length, 1);
  const nested = await call(running, [
    { action: "update", entity_type: "Project", entity_key: [project.id], entity_data: { parent_id: shot.id } },
  ]);
  assertRefused(nested, "ValidationError", /Project 'demo'/, /'parent_id'/, /under another context/);
});
