/**
 * Handler definitions and discovery: bad definitions are refused with the handler's name and the
 * problem; discovery reports what it skips.
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { defineHandler, isHandler } from "../services/processor/define_handler.ts";
import { discoverHandlers } from "../services/processor/discover_handlers.ts";
import { startProcessor } from "../services/processor/processor.ts";
import { createLogger } from "../src/cli/service_log.ts";
import { LEECH_TOPIC, openStore, PROC_TOPIC } from "../src/store/mod.ts";

const DEFINE = new URL("../services/processor/define_handler.ts", import.meta.url).href;

Deno.test("defineHandler() applies defaults and refuses bad definitions by name", () => {
  const handler = defineHandler({ name: "notes", subscription: "topic=ftrack.update and data.x=1", handle() {} });
  strictEqual(handler.priority, 100);
  strictEqual(handler.settingsKey, "notes");
  ok(isHandler(handler));
  ok(!isHandler({ name: "notes", subscription: "", handle() {} }));
  throws(() => defineHandler({ name: "bad", subscription: "topic=", handle() {} }), /handler 'bad': .*needs a value/);
  throws(
    () => defineHandler({ name: "", subscription: "topic=x", handle() {} }),
    /handler \(unnamed\): name: is empty/,
  );
  throws(
    () => defineHandler({ name: "x", subscription: "topic=x", handle: "nope" as never }),
    /handler 'x': handle: must be a function/,
  );
  throws(
    () => defineHandler({ name: "x", subscription: "topic=x", priority: 1.5, handle() {} }),
    /handler 'x': priority/,
  );
});

Deno.test("discoverHandlers() loads nested folders, skips _ and test files, reports duplicates and missing folders", async () => {
  const folder = await Deno.makeTempDir({ prefix: "ferry-discover-" });
  try {
    await Deno.mkdir(`${folder}/studio/_drafts`, { recursive: true });
    const module = (name: string) =>
      `import { defineHandler } from "${DEFINE}";
       export default defineHandler({ name: "${name}", subscription: "topic=x", handle() {} });`;
    await Deno.writeTextFile(`${folder}/studio/a.ts`, module("a"));
    await Deno.writeTextFile(
      `${folder}/studio/b.js`,
      `export const b = { name: "b", subscription: "topic=y", handle() {} };`,
    );
    await Deno.writeTextFile(`${folder}/studio/again.ts`, module("a"));
    await Deno.writeTextFile(`${folder}/studio/a_test.ts`, `throw new Error("tests are not handlers");`);
    await Deno.writeTextFile(`${folder}/studio/_drafts/c.ts`, `throw new Error("drafts are skipped");`);
    await Deno.writeTextFile(
      `${folder}/studio/bad.ts`,
      `export const bad = { name: "bad", subscription: "topic=(", handle() {} };`,
    );
    const { handlers, failures } = await discoverHandlers([`${folder}/studio`, `${folder}/missing`]);
    deepStrictEqual(handlers.map((handler) => handler.name), ["a", "b"]);
    deepStrictEqual(failures.map((failure) => failure.path.replace(folder, "")), [
      "/studio/again.ts",
      "/studio/bad.ts",
      "/missing",
    ]);
    ok(failures[0]!.error.includes("'a' is already defined"));
    ok(failures[1]!.error.includes("Cannot define handler 'bad'"));
    ok(failures[2]!.error.includes("cannot read the handler folder"));
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("startProcessor() skips the handlers of a project whose settings turn the services off, and finishes its events", async () => {
  await using store = await openStore(":memory:");
  await store.setSettings("staging", { enabled: false }, { project: "archived" });
  for (const project of ["live", "archived", "live"]) {
    await store.dispatch({
      topic: LEECH_TOPIC,
      project,
      payload: { topic: "ftrack.update", id: crypto.randomUUID(), data: {} },
    });
  }
  const seen: string[] = [];
  const handler = defineHandler({
    name: "seen",
    subscription: "topic=ftrack.update",
    handle: (_event, { project, projectSettings }) => void seen.push(`${project}:${projectSettings.enabled}`),
  });
  await using processor = await startProcessor({
    store,
    session: undefined as never,
    handlers: [handler],
    variant: "staging",
    log: createLogger({ name: "processor", level: "error" }),
  });
  const deadline = Date.now() + 10_000;
  while ((await store.countEvents({ topic: PROC_TOPIC, status: "finished" })) < 3) {
    if (Date.now() > deadline) throw new Error("the jobs did not finish");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  deepStrictEqual(seen, ["live:true", "live:true"]);
  strictEqual(processor.metrics.processed, 3);
});
