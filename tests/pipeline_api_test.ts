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

Deno.test("pipelineApi() adds, replies to, lists, edits and deletes comments, sets thumbnails, and names bad values", async () => {
  await using store = await openStore(":memory:");
  await using images = await Deno.makeTempDir({ prefix: "ferry-api-" }).then((path) => ({
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  }));
  await store.writeEntity({ type: "project", project: "demo", name: "demo" }, { sender: "setup" });
  const app = pipelineApi({ store, token: TOKEN });
  const call = (method: string, path: string, body?: unknown) =>
    app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  await call("POST", "/projects/demo/folders", { parent: "/", name: "sh010", folderType: "Shot" });

  const made = await call("POST", "/projects/demo/comments", { path: "/sh010", text: " Needs grain ", author: "ana" });
  strictEqual(made.status, 201);
  const comment = await made.json();
  deepStrictEqual([comment.type, comment.data.text, comment.data.author], ["comment", "Needs grain", "ana"]);
  const reply = await (await call("POST", "/projects/demo/comments", {
    path: "/sh010",
    text: "Added",
    replyTo: comment.id,
  })).json();
  strictEqual(reply.data.replyTo, comment.id);
  const listed = await (await call("GET", "/projects/demo/comments?path=/sh010")).json();
  deepStrictEqual(listed.map((c: { data: { text: string } }) => c.data.text), ["Needs grain", "Added"]);
  deepStrictEqual(
    await (await call("GET", "/projects/demo/children?path=/sh010")).json(),
    [],
    "comments are not children",
  );

  const edited = await call("PATCH", `/projects/demo/comments/${comment.id}`, { text: "Needs more grain" });
  strictEqual((await edited.json()).data.text, "Needs more grain");
  strictEqual(await store.countEvents({ topic: "entity.comment.data_changed" }), 1);
  strictEqual((await call("DELETE", `/projects/demo/comments/${reply.id}`)).status, 200);
  strictEqual((await store.listEvents({ topic: "entity.comment.deleted" }))[0]!.senderType, "user");

  const empty = await call("PATCH", `/projects/demo/comments/${comment.id}`, { text: "  " });
  strictEqual(empty.status, 400);
  ok((await empty.json()).message.includes("text: is empty"));
  const gone = await call("DELETE", "/projects/demo/comments/no-such-id");
  strictEqual(gone.status, 404);
  ok((await gone.json()).message.includes("There is no comment 'no-such-id' in project 'demo'"));
  const elsewhere = await call("POST", "/projects/demo/comments", { path: "/", text: "x", replyTo: comment.id });
  strictEqual(elsewhere.status, 400);
  ok((await elsewhere.json()).message.includes(`Comment '${comment.id}' is not on '/'`));

  const image = `${images.path}/sh010.png`;
  await Deno.writeFile(image, new Uint8Array([137, 80, 78, 71]));
  const thumbnail = await call("PUT", "/projects/demo/thumbnail", { path: "/sh010", image });
  strictEqual(thumbnail.status, 200);
  strictEqual((await thumbnail.json()).data.thumbnail, image);
  const missing = await call("PUT", "/projects/demo/thumbnail", { path: "/sh010", image: `${images.path}/no.png` });
  strictEqual(missing.status, 400);
  ok((await missing.json()).message.includes(`There is no image file '${images.path}/no.png'`));
  const notImage = await call("PUT", "/projects/demo/thumbnail", { path: "/sh010", image: `${images.path}/a.txt` });
  ok((await notImage.json()).message.includes("is not an image a thumbnail can be"));
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

  // Comments: add (also without the subcommand), list, edit, delete; --help.
  out.length = 0;
  strictEqual(await run("comment", "add", "demo", "/sq010/layout", "Camera too low", "--author", "ana"), 0);
  const id = out[0]!.match(/^Comment (\S+) on task 'layout'$/)?.[1];
  ok(id, out.join("\n"));
  strictEqual(await run("comment", "demo", "/sq010/layout", "Raised", "--reply-to", id), 0);
  out.length = 0;
  strictEqual(await run("comment", "list", "demo", "/sq010/layout", "--json"), 0);
  const comments = JSON.parse(out.join(""));
  deepStrictEqual(comments.map((c: { data: { text: string } }) => c.data.text), ["Camera too low", "Raised"]);
  strictEqual(comments[1].data.replyTo, id);
  strictEqual(await run("comment", "edit", "demo", id, "Camera much too low"), 0);
  strictEqual(await run("comment", "delete", "demo", comments[1].id), 0);
  out.length = 0;
  strictEqual(await run("comment", "list", "demo", "/sq010/layout"), 0);
  ok(out[0]!.startsWith(`${id}  `) && out[0]!.includes("ana") && out[0]!.endsWith("Camera much too low"), out[0]);
  strictEqual(out.length, 1);
  strictEqual(await run("comment", "edit", "demo", "nope", "x"), 1, "an unknown comment");
  strictEqual(await run("comment", "remove", "demo", id, "x"), 2, "an unknown subcommand");
  strictEqual(await run("comment", "delete", "demo"), 2, "too few arguments");
  out.length = 0;
  strictEqual(await run("comment", "--help"), 0);
  ok(out[0]!.includes("deno task pipeline comment edit <project> <comment id> <text>"));
  strictEqual(await run("thumbnail", "demo", "/sq010/layout", "/nowhere/x.png"), 1, "a missing image");
});

Deno.test("pipelineApi() and deno task pipeline lists make, fill, rename, close and delete lists, naming what they refuse", async () => {
  await using site = await sqliteSite();
  {
    await using store = await site.open();
    const setup = { sender: "setup" };
    await store.writeEntity({ type: "project", project: "demo", name: "demo" }, setup);
    const shot = (await store.writeEntity({ type: "folder", project: "demo", name: "sh010" }, setup)).entity;
    const product = (await store.writeEntity({
      type: "product",
      project: "demo",
      parentId: shot.id,
      name: "plate",
      data: { productType: "render" },
    }, setup)).entity;
    for (const version of [1, 2]) {
      await store.writeEntity({
        type: "version",
        project: "demo",
        parentId: product.id,
        name: `v00${version}`,
        data: { version },
      }, setup);
    }
  }
  await using store = await site.open();
  const app = pipelineApi({ store, token: TOKEN });
  const call = (method: string, path: string, body?: unknown) =>
    app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const made = await call("POST", "/projects/demo/lists", {
    name: "dailies",
    category: "Dailies",
    items: ["/sh010/plate/v001"],
  });
  strictEqual(made.status, 201);
  const list = await made.json();
  deepStrictEqual([list.data.listType, list.data.category, list.data.items.length], ["version", "Dailies", 1]);
  const changed = await (await call("PATCH", "/projects/demo/lists/dailies", {
    add: ["/sh010/plate/v002"],
    remove: ["/sh010/plate/v001"],
    open: false,
  })).json();
  deepStrictEqual([changed.data.items.length, changed.data.open], [1, false]);
  strictEqual(await store.countEvents({ topic: "entity.list.data_changed" }), 1);
  const wrong = await call("PATCH", "/projects/demo/lists/dailies", { add: ["/sh010"] });
  strictEqual(wrong.status, 400);
  ok((await wrong.json()).message.includes("List 'dailies' holds versions (a version list), not the folder '/sh010'"));
  const twice = await call("POST", "/projects/demo/lists", { name: "DAILIES" });
  ok((await twice.json()).message.includes("List 'dailies' exists already"));
  const badType = await call("POST", "/projects/demo/lists", { name: "x", listType: "shots" });
  strictEqual(badType.status, 400);
  ok((await badType.json()).message.startsWith("Bad request: listType"));
  const unknown = await call("DELETE", "/projects/demo/lists/nope");
  strictEqual(unknown.status, 404);
  ok((await unknown.json()).message.includes("There is no list 'nope' in project 'demo' (dailies)"));

  const out: string[] = [];
  const run = (...args: string[]) => pipeline([...args, "--store", site.location], (text) => out.push(text));
  strictEqual(await run("lists", "create", "demo", "to comp", "/sh010", "--type", "context", "--category", "Work"), 0);
  strictEqual(await run("lists", "rename", "demo", "to comp", "comp queue"), 0);
  strictEqual(await run("lists", "close", "demo", "comp queue"), 0);
  out.length = 0;
  strictEqual(await run("lists", "demo"), 0);
  deepStrictEqual(out.map((line) => line.split("  tracker=")[0]), [
    "comp queue  context list  category=Work  closed  items=1",
    "dailies  version list  category=Dailies  closed  items=1",
  ]);
  strictEqual(await run("lists", "add", "demo", "comp queue", "/sh010/plate/v001"), 1, "a version in a context list");
  strictEqual(await run("lists", "create", "demo", "x", "--type", "shots"), 1, "an unknown list type");
  strictEqual(await run("lists", "frob", "demo", "x"), 2, "an unknown lists command");
  strictEqual(await run("lists", "delete", "demo", "comp queue"), 0);
  strictEqual((await store.findEntities({ project: "demo", type: "list" })).length, 1);
});
