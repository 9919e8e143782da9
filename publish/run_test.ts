import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { Context } from "./context.ts";
import { matchFamilies, matchTargets } from "./match.ts";
import { definePlugin, InvalidPluginError, type ResolvedPlugin } from "./plugin.ts";
import { actionsFor, collect, extract, integrate, publish, type Result, runAction, validate } from "./run.ts";

/** Plugins that log their runs into `ran` as "Name" or "Name/instance". */
function recorder() {
  const ran: string[] = [];
  const context = (
    name: string,
    order: number,
    extra: Partial<ResolvedPlugin> & { fail?: boolean | ((subject: string) => boolean) } = {},
  ) => {
    const { fail, ...rest } = extra;
    return definePlugin({
      kind: "context",
      name,
      order,
      ...rest,
      process() {
        ran.push(name);
        if (fail === true || (typeof fail === "function" && fail("context"))) throw new Error(`${name} failed`);
      },
    } as ResolvedPlugin);
  };
  const instance = (
    name: string,
    order: number,
    extra: Partial<ResolvedPlugin> & { fail?: (subject: string) => boolean } = {},
  ) => {
    const { fail, ...rest } = extra;
    return definePlugin({
      kind: "instance",
      name,
      order,
      ...rest,
      process(subject) {
        ran.push(`${name}/${subject.name}`);
        if (fail?.(subject.name)) throw new Error(`${name} failed on ${subject.name}`);
      },
    } as ResolvedPlugin);
  };
  const collector = (name: string, order: number, instances: Array<[string, Record<string, unknown>]>) =>
    definePlugin({
      kind: "context",
      name,
      order,
      process(context) {
        ran.push(name);
        for (const [instanceName, data] of instances) context.createInstance(instanceName, data);
      },
    });
  return { ran, context, instance, collector };
}

Deno.test("publish() runs collectors first, then the rest in the given order", async () => {
  const { ran, context } = recorder();
  await publish({ plugins: [context("Integ", 3), context("Val", 1), context("Collect", 0)] });
  deepStrictEqual(ran, ["Collect", "Integ", "Val"]);
});

Deno.test("publish() puts orders outside the collection band after collection", async () => {
  const first = recorder();
  await publish({ plugins: [first.context("Minus", -1), first.context("Collect", 0)] });
  deepStrictEqual(first.ran, ["Collect", "Minus"]);
  const second = recorder();
  await publish({ plugins: ["-0.6", "-0.5", "0.49", "0.5"].map((order) => second.context(order, Number(order))) });
  deepStrictEqual(second.ran, ["-0.5", "0.49", "-0.6", "0.5"]);
});

Deno.test("publish() runs context plugins whatever their families; instance plugins need an instance", async () => {
  const { ran, context, instance } = recorder();
  await publish({ plugins: [context("Ctx", 1, { families: ["x"] }), instance("Inst", 1, { families: ["x"] })] });
  deepStrictEqual(ran, ["Ctx"]);
});

Deno.test("publish() stops before order 1.5 after a failed validation, and only then", async (t) => {
  await t.step("a validator fails: the validation band finishes, extraction does not run", async () => {
    const { ran, instance, collector } = recorder();
    const stopped: string[] = [];
    await publish({
      plugins: [
        collector("C", 0, [["A", { family: "f" }], ["B", { family: "f" }]]),
        instance("V1", 1, { families: ["f"], fail: (name) => name === "A" }),
        instance("V2", 1.4, { families: ["f"] }),
        instance("E", 1.5, { families: ["f"] }),
        instance("I", 3, { families: ["f"] }),
      ],
      events: { stopped: (reason) => stopped.push(reason) },
    });
    deepStrictEqual(ran, ["C", "V1/A", "V1/B", "V2/A", "V2/B"]);
    deepStrictEqual(stopped, ["failed validation"]);
  });
  await t.step("a failing collector stops nothing", async () => {
    const { ran, context } = recorder();
    await publish({ plugins: [context("C", 0, { fail: true }), context("V", 1), context("E", 2)] });
    deepStrictEqual(ran, ["C", "V", "E"]);
  });
  await t.step("a failing extractor does not stop integration", async () => {
    const { ran, context } = recorder();
    await publish({ plugins: [context("E", 2, { fail: true }), context("I", 3)] });
    deepStrictEqual(ran, ["E", "I"]);
  });
  await t.step("a failing context plugin at 0.5 lets 1.49 run, not 1.5", async () => {
    const { ran, context } = recorder();
    await publish({ plugins: [context("V", 0.5, { fail: true }), context("X", 1.49), context("E", 1.5)] });
    deepStrictEqual(ran, ["V", "X"]);
  });
  await t.step("the stop rule is replaceable", async () => {
    const { ran, context } = recorder();
    const seen: Array<[number, number[]]> = [];
    const { results } = await publish({
      plugins: [context("V", 1, { fail: true }), context("E", 2), context("I", 3)],
      test: (state) => {
        seen.push([state.nextOrder, [...state.ordersWithError]]);
        return state.nextOrder >= 3 ? "no integration today" : undefined;
      },
    });
    deepStrictEqual(ran, ["V", "E"]);
    // The pre-count pass consults it too (a fresh state), then the main loop (no collectors here).
    deepStrictEqual(seen, [[1, []], [2, []], [3, []], [1, []], [2, [1]], [3, [1]]]);
    deepStrictEqual(results.map((result) => result.progress), [0.5, 1]);
  });
});

Deno.test("publish() skips publish: false, and decides pruning once, after collection", async (t) => {
  await t.step("publish false is skipped, publish 0 runs", async () => {
    const { ran, instance, collector } = recorder();
    await publish({
      plugins: [
        collector("C", 0, [["off", { family: "f", publish: false }], ["zero", { family: "f", publish: 0 }]]),
        instance("V", 1, { families: ["f"] }),
      ],
    });
    deepStrictEqual(ran, ["C", "V/zero"]);
  });
  await t.step("an instance made by a validator reaches only plugins that survived pruning", async () => {
    const { ran, instance, collector } = recorder();
    const makeZ = definePlugin({
      kind: "context",
      name: "MakeZ",
      order: 1,
      process(context) {
        ran.push("MakeZ");
        context.createInstance("Z", { family: "model" });
        context.createInstance("Y", { family: "rig" });
      },
    });
    await publish({
      plugins: [
        collector("C", 0, [["A", { family: "model" }]]),
        makeZ,
        instance("Model", 2, { families: ["model"] }),
        instance("Rig", 2, { families: ["rig"] }),
      ],
    });
    deepStrictEqual(ran, ["C", "MakeZ", "Model/A", "Model/Z"]);
  });
  await t.step("collectors see instances earlier collectors made, nested instances are never processed", async () => {
    const { ran, instance } = recorder();
    const make = definePlugin({
      kind: "context",
      name: "Make",
      order: 0,
      process(context) {
        const parent = context.createInstance("A", { family: "f" });
        parent.createInstance("nested", { family: "f" });
      },
    });
    await publish({
      plugins: [make, instance("CollectMore", 0.1, { families: ["f"] }), instance("V", 1, { families: ["f"] })],
    });
    deepStrictEqual(ran, ["CollectMore/A", "V/A"]);
  });
});

Deno.test("matchFamilies(): pyblish's intersection, subset and exact tables", async (t) => {
  const instance = ["model", "cache"];
  const cases: Array<[string[], "intersection" | "subset" | "exact", boolean]> = [
    [["cache"], "intersection", true],
    [["model"], "intersection", true],
    [["model", "cache"], "exact", true],
    [[], "intersection", false],
    [["*"], "intersection", true],
    [["*"], "exact", true],
    [["rig"], "intersection", false],
    [["model", "rig"], "intersection", true],
    [["model"], "subset", true],
    [["model", "rig"], "subset", false],
    [[], "subset", true],
    [["model"], "exact", false],
    [["cache", "model"], "exact", true],
  ];
  for (const [plugin, algorithm, want] of cases) {
    await t.step(
      `${JSON.stringify(plugin)} ${algorithm}`,
      () => strictEqual(matchFamilies(plugin, instance, algorithm), want),
    );
  }
  await t.step("exact with no families matches only an instance without families", () => {
    strictEqual(matchFamilies([], [], "exact"), true);
    strictEqual(matchFamilies([], ["a"], "exact"), false);
  });
});

Deno.test("targets: default, registered and explicit, with each match algorithm (no wildcard)", async (t) => {
  const plugin = (
    name: string,
    targets: string[] | undefined,
    match: "intersection" | "subset" | "exact" = "intersection",
  ) => definePlugin({ kind: "context", name, order: 1, targets, match, process() {} });
  const run = async (plugins: ResolvedPlugin[], options: { targets?: string[]; registeredTargets?: string[] } = {}) =>
    (await publish({ plugins, ...options })).results.map((result) => result.plugin.name);
  await t.step(
    "default targets run by default",
    async () => deepStrictEqual(await run([plugin("A", undefined)]), ["A"]),
  );
  await t.step(
    "a plugin for another target does not",
    async () => deepStrictEqual(await run([plugin("A", ["farm"])]), []),
  );
  await t.step("a registered target adds to default", async () => {
    deepStrictEqual(await run([plugin("A", undefined), plugin("B", ["farm"])], { registeredTargets: ["farm"] }), [
      "A",
      "B",
    ]);
  });
  await t.step("explicit targets replace default", async () => {
    deepStrictEqual(await run([plugin("A", undefined), plugin("B", ["farm"])], { targets: ["farm"] }), ["B"]);
  });
  await t.step("an exact plugin with default targets is dropped once any target is registered", async () => {
    deepStrictEqual(await run([plugin("A", ["default"], "exact")], { registeredTargets: ["farm"] }), []);
    deepStrictEqual(await run([plugin("A", ["default"], "exact")]), ["A"]);
  });
  await t.step("subset needs all of the plugin's targets", async () => {
    deepStrictEqual(await run([plugin("A", ["default", "farm"], "subset")], { registeredTargets: ["farm"] }), ["A"]);
    deepStrictEqual(await run([plugin("A", ["default", "farm"], "subset")]), []);
  });
  await t.step(
    "'*' is no wildcard for targets",
    () => strictEqual(matchTargets(["*"], ["default"], "intersection"), false),
  );
});

Deno.test("publish() events, results, records, progress and inactive plugins", async () => {
  const processed: Result[] = [];
  const failed: Result[] = [];
  const stages: string[] = [];
  const plugins = [
    definePlugin({
      kind: "context",
      name: "C",
      order: 0,
      process(context, tools) {
        tools.log.info("collecting");
        context.createInstance("A", { family: "f" });
      },
    }),
    definePlugin({
      kind: "instance",
      name: "Pass",
      order: 1,
      families: ["f"],
      process(_instance, tools) {
        tools.log.warning("careful");
      },
    }),
    definePlugin({
      kind: "instance",
      name: "Fail",
      order: 1.1,
      families: ["f"],
      process() {
        throw new RangeError("frame 1004 is missing");
      },
    }),
    definePlugin({
      kind: "context",
      name: "Off",
      order: 1.2,
      active: false,
      process() {
        throw new Error("must not run");
      },
    }),
  ];
  const { context, results } = await publish({
    plugins,
    events: {
      pluginProcessed: (result) => processed.push(result),
      pluginFailed: (result) => failed.push(result),
      published: () => stages.push("published"),
    },
  });
  strictEqual(results.length, 3);
  strictEqual(processed.length, 3);
  strictEqual(failed.length, 1);
  deepStrictEqual(stages, ["published"]);
  const failure = failed[0]!;
  strictEqual(failure.success, false);
  deepStrictEqual([failure.error!.name, failure.error!.message], ["RangeError", "frame 1004 is missing"]);
  ok(failure.error!.stack?.includes("run_test.ts"));
  strictEqual(failure.instance!.name, "A");
  deepStrictEqual(results[0]!.records.map((record) => [record.level, record.message]), [["info", "collecting"]]);
  deepStrictEqual(results[1]!.records.map((record) => record.level), ["warning"]);
  ok(results.every((result) => result.duration >= 0));
  const progress = results.map((result) => result.progress);
  ok(progress.every((value, i) => i === 0 || value > progress[i - 1]!), "progress increases");
  strictEqual((context.data.results as Result[]).length, 3);
});

Deno.test("collect / validate / extract / integrate run only their band and emit their event", async () => {
  const { ran, context: plugin } = recorder();
  const plugins = [plugin("C", 0), plugin("V", 1.2), plugin("E", 2), plugin("I", 3), plugin("Far", 5)];
  const events: string[] = [];
  const context = new Context();
  const listeners = {
    collected: () => events.push("collected"),
    validated: () => events.push("validated"),
    extracted: () => events.push("extracted"),
    integrated: () => events.push("integrated"),
  };
  for (const stage of [collect, validate, extract, integrate]) await stage({ plugins, context, events: listeners });
  deepStrictEqual(ran, ["C", "V", "E", "I"]);
  deepStrictEqual(events, ["collected", "validated", "extracted", "integrated"]);
});

Deno.test("actionsFor() offers actions by their `on` rule; runAction() gives a result", async () => {
  const repaired: string[] = [];
  const actions = (["all", "failed", "succeeded", "processed", "notProcessed", "warning", "failedOrWarning"] as const)
    .map((on) => ({
      name: on,
      on,
      process(context: Context) {
        repaired.push(`${on}:${context.name}`);
      },
    }));
  const failing = definePlugin({
    kind: "context",
    name: "Failing",
    order: 1,
    actions,
    process() {
      throw new Error("no");
    },
  });
  const passing = definePlugin({ kind: "context", name: "Passing", order: 1, actions, process() {} });
  const idle = definePlugin({ kind: "instance", name: "Idle", order: 1, families: ["none"], actions, process() {} });
  const { context, results } = await publish({ plugins: [failing, passing, idle] });
  deepStrictEqual(actionsFor(failing, results).map((a) => a.name), ["all", "failed", "processed", "failedOrWarning"]);
  deepStrictEqual(actionsFor(passing, results).map((a) => a.name), ["all", "succeeded", "processed"]);
  deepStrictEqual(actionsFor(idle, results).map((a) => a.name), ["all", "notProcessed"]);
  const result = await runAction(failing, actions[1]!, context);
  strictEqual(result.success, true);
  strictEqual(result.action, "failed");
  deepStrictEqual(repaired, ["failed:Context"]);
});

Deno.test("definePlugin() refuses invalid plugins, naming them and the field", () => {
  throws(
    () => definePlugin({ kind: "context", name: "Bad", families: "render" as unknown as string[], process() {} }),
    {
      name: "InvalidPluginError",
      message: /Plugin 'Bad' is invalid: 'families'/,
    },
  );
  throws(() => definePlugin({ kind: "instance", name: "NoProcess" } as never), InvalidPluginError);
  throws(() => definePlugin({ kind: "context", name: "Match", match: "fuzzy" as "exact", process() {} }), /'match'/);
  const plugin = definePlugin({ kind: "context", name: "Defaults", process() {} });
  deepStrictEqual([
    plugin.order,
    plugin.families,
    plugin.hosts,
    plugin.targets,
    plugin.match,
    plugin.active,
    plugin.optional,
  ], [
    -1,
    ["*"],
    ["*"],
    ["default"],
    "intersection",
    true,
    false,
  ]);
});

Deno.test("publish() stops before the next plugin when its signal is aborted, without throwing", async () => {
  const controller = new AbortController();
  const ran: string[] = [];
  const stopped: string[] = [];
  let published = false;
  const plugins = [
    definePlugin({ kind: "context", name: "Extract", order: 2, process: () => void ran.push("Extract") }),
    definePlugin({
      kind: "context",
      name: "Integrate",
      order: 3,
      process: () => {
        ran.push("Integrate");
        controller.abort(new Error("killed"));
      },
    }),
    definePlugin({ kind: "context", name: "Record", order: 3.1, process: () => void ran.push("Record") }),
  ];
  const { results } = await publish({
    plugins,
    signal: controller.signal,
    events: { stopped: (reason) => stopped.push(reason), published: () => (published = true) },
  });
  deepStrictEqual(ran, ["Extract", "Integrate"]);
  deepStrictEqual(results.map((result) => result.plugin.name), ["Extract", "Integrate"]);
  deepStrictEqual(stopped, ["cancelled before Record: killed"]);
  strictEqual(published, false);
});
