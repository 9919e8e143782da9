import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Context } from "./context.ts";
import { createLog } from "./log.ts";
import { ContextPlugin, definePlugin } from "./plugin.ts";
import { publish } from "./run.ts";

Deno.test("createLog() records pyblish's levels with Python's level names and numbers", async () => {
  const plugin = definePlugin({
    kind: "context",
    name: "Levels",
    process(_context, { log }) {
      log.debug("d %d", 1);
      log.info("i %s", "two");
      log.warning("w");
      log.warn("w2");
      log.error("e");
      log.critical("c");
      try {
        throw new TypeError("inner");
      } catch (error) {
        this.log.exception("failed on %s", "sh010", error);
      }
    },
  });
  const { results } = await publish({ plugins: [plugin] });
  const records = results[0]!.records;
  deepStrictEqual(records.map((r) => [r.level, r.levelName, r.levelno, r.message]), [
    ["debug", "DEBUG", 10, "d 1"],
    ["info", "INFO", 20, "i two"],
    ["warning", "WARNING", 30, "w"],
    ["warning", "WARNING", 30, "w2"],
    ["error", "ERROR", 40, "e"],
    ["error", "CRITICAL", 50, "c"],
    ["error", "ERROR", 40, "failed on sh010"],
  ]);
  ok(records.every((r) => r.logger === "Levels" && !Number.isNaN(Date.parse(r.time))));
  deepStrictEqual([records[6]!.exception?.name, records[6]!.exception?.message], ["TypeError", "inner"]);
});

Deno.test("plugin.log works outside process: in other plugins' runs it records there, outside any run warnings go to the console", async () => {
  const helper = definePlugin({ kind: "context", name: "Helper", process() {} });
  class Uses extends ContextPlugin {
    process() {
      helper.log.info("from the helper's logger");
      this.log.info("from my own");
    }
  }
  const { results } = await publish({ plugins: [Uses] });
  deepStrictEqual(results[0]!.records.map((r) => [r.logger, r.message]), [
    ["Helper", "from the helper's logger"],
    ["Uses", "from my own"],
  ]);
  const printed: string[] = [];
  const original = console.error;
  console.error = (message: string) => void printed.push(message);
  try {
    helper.log.info("dropped");
    helper.log.warning("shown %d", 1);
  } finally {
    console.error = original;
  }
  deepStrictEqual(printed, ["WARNING:Helper: shown 1"]);
});

Deno.test("createLog() keeps the records of concurrent publishes apart", async () => {
  const log = createLog("Shared");
  const plugin = definePlugin({
    kind: "context",
    name: "Slow",
    async process(context) {
      log.info("start %s", context.name);
      await new Promise((resolve) => setTimeout(resolve, context.name === "one" ? 20 : 1));
      log.info("end %s", context.name);
    },
  });
  const [one, two] = await Promise.all([
    publish({ plugins: [plugin], context: new Context("one") }),
    publish({ plugins: [plugin], context: new Context("two") }),
  ]);
  deepStrictEqual(one.results[0]!.records.map((r) => r.message), ["start one", "end one"]);
  deepStrictEqual(two.results[0]!.records.map((r) => r.message), ["start two", "end two"]);
  strictEqual(one.results[0]!.records.length + two.results[0]!.records.length, 4);
});
