/**
 * The pipeline API and `deno task pipeline` on a SQLite store: token and Host checks, paths,
 * creation, attribute/status/assignee changes recorded as user writes, clear refusals.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { openStore } from "../src/store/mod.ts";
import { pipelineApi } from "../services/transmitter/pipeline_api.ts";
import { main as pipeline } from "../scripts/pipeline.ts";
import { sqliteSite } from "./_store.ts";

const TOKEN = "a-token-of-enough-length";
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", host: "127.0.0.1:8077" };

Deno.test("pipelineApi() creates and changes entities by path for a token holder, and refuses the rest clearly", async () => {
  await using store = await openStore(":memory:");
  await store.writeEntity({
    type: "project",
    project: "demo",
    name: "demo",
    data: { statuses: ["Not started", "In progress", "Approved"] },
  }, { sender: "setup" });
  const app = pipelineApi({ store, token: TOKEN });
  const call = (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) =>
    app.request(path, {
      method,
      headers: { ...headers, ...extra },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  strictEqual((await app.request("/projects/demo/entity?path=/", { headers: { host: "127.0.0.1" } })).status, 401);
  strictEqual(
    (await call("GET", "/projects/demo/entity?path=/", undefined, { authorization: "Bearer wrong" })).status,
    401,
  );
  const foreign = await call("GET", "/projects/demo/entity?path=/", undefined, { host: "studio.example.com" });
  strictEqual(foreign.status, 403);
  ok((await foreign.json()).message.includes("studio.example.com"));

  strictEqual(
    (await call("POST", "/projects/demo/folders", { parent: "/", name: "sq010", folderType: "Sequence" })).status,
    201,
  );
  strictEqual(
    (await call("POST", "/projects/demo/folders", { parent: "/sq010", name: "sh010", folderType: "Shot" })).status,
    201,
  );
  const task = await call("POST", "/projects/demo/tasks", {
    parent: "/sq010/sh010",
    name: "comp",
    taskType: "Compositing",
  });
  strictEqual(task.status, 201);
  const again = await call("POST", "/projects/demo/folders", { parent: "/", name: "SQ010" });
  strictEqual(again.status, 400);
  ok((await again.json()).message.includes("exists already"));

  const patched = await call("PATCH", "/projects/demo/entity", {
    path: "/sq010/sh010/comp",
    attributes: { fps: 25 },
    status: "in progress",
    assignees: ["ana@example.com"],
  });
  strictEqual(patched.status, 200);
  const entity = await patched.json();
  deepStrictEqual([entity.status, entity.attributes.fps, entity.assignees], ["In progress", 25, ["ana@example.com"]]);
  const events = await store.listEvents({ topic: "entity.task.status_changed" });
  strictEqual(events[0]!.senderType, "user");

  const unknown = await call("PATCH", "/projects/demo/entity", { path: "/sq010/sh010/comp", status: "Lost" });
  strictEqual(unknown.status, 400);
  ok((await unknown.json()).message.includes("Unknown status 'Lost' in project 'demo': use one of Not started"));
  const missing = await call("GET", "/projects/demo/entity?path=/sq010/sh999");
  strictEqual(missing.status, 404);
  ok((await missing.json()).message.includes("There is no 'sh999' in '/sq010'"));
  const bad = await call("POST", "/projects/demo/tasks", { parent: "/sq010", name: "a/b" });
  strictEqual(bad.status, 400);
  ok((await bad.json()).message.includes("name: may not hold '/'"));
  const children = await (await call("GET", "/projects/demo/children?path=/sq010")).json();
  deepStrictEqual(children.map((c: { name: string }) => c.name), ["sh010"]);
  const comment = await call("POST", "/projects/demo/comments", { path: "/sq010/sh010/comp", text: "more grain" });
  strictEqual(comment.status, 201);
  strictEqual(await store.countEvents({ topic: "entity.comment.created" }), 1);
});

Deno.test("pipeline main() reads and changes the store, and names what it refuses", async () => {
  await using site = await sqliteSite();
  {
    await using store = await site.open();
    await store.writeEntity({ type: "project", project: "demo", name: "demo", data: { statuses: ["Approved"] } }, {
      sender: "setup",
    });
  }
  const out: string[] = [];
  const run = (...args: string[]) => pipeline([...args, "--store", site.location], (text) => out.push(text));
  strictEqual(await run("create-folder", "demo", "/", "sq010", "--type", "Sequence"), 0);
  strictEqual(await run("create-task", "demo", "/sq010", "layout", "--type", "Layout"), 0);
  strictEqual(await run("set", "demo", "/sq010/layout", "fps=24", 'note="hello"'), 0);
  strictEqual(await run("assign", "demo", "/sq010/layout", "ana", "ben"), 0);
  strictEqual(await run("status", "demo", "/sq010/layout", "APPROVED"), 0);
  out.length = 0;
  strictEqual(await run("get", "demo", "/sq010/layout", "--json"), 0);
  const entity = JSON.parse(out.join(""));
  deepStrictEqual([entity.attributes, entity.assignees, entity.status], [
    { fps: 24, note: "hello" },
    ["ana", "ben"],
    "Approved",
  ]);
  out.length = 0;
  strictEqual(await run("list", "demo", "/"), 0);
  ok(out[0]!.startsWith("sq010  folder (Sequence)"), out.join("\n"));
  strictEqual(await run("assign", "demo", "/sq010", "ana"), 1, "only tasks are assigned");
  strictEqual(await run("get", "nope", "/"), 1);
  strictEqual(await run("frobnicate"), 2);
  strictEqual(await run("set", "demo", "/sq010", "novalue"), 2);
});
