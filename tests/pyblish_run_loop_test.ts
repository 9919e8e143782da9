/**
 * The run-loop rules of pyblish-base 1.8.12 (util._convenience_iter, logic.Iterator, plugin.process)
 * that ferry reproduces. Each case is built as pyblish would see it; the expected orders, progress
 * values, results and events are worked out from pyblish's source (quoted in the comments).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  collectIter,
  Context,
  definePlugin,
  type Instance,
  InstancePlugin,
  pluginPairs,
  publish,
  PublishHost,
  type ResolvedPlugin,
  type Result,
  runAction,
  ValidatorOrder,
} from "../publish/mod.ts";

/** `name` or `name/instance` of each result. */
const ran = (results: readonly Result[]) =>
  results.map((result) => result.instance ? `${result.plugin.name}/${result.instance.name}` : result.plugin.name);

const contextPlugin = (name: string, order: number, process: (context: Context) => void = () => {}) =>
  definePlugin({ kind: "context", name, order, process });
const instancePlugin = (name: string, order: number, process: (instance: Instance) => void = () => {}) =>
  definePlugin({ kind: "instance", name, order, families: ["f"], process });

Deno.test("publish() progress counts only the pairs that will run (pre-count skips publish: false)", async (t) => {
  await t.step("instances present before the publish: publish false is not counted", async () => {
    // task_count = len(list(Iterator(plugins, context))): C, V/A (B has publish False), E = 3.
    const context = new Context();
    context.createInstance("A", { family: "f" });
    context.createInstance("B", { family: "f", publish: false });
    const { results } = await publish({
      context,
      plugins: [contextPlugin("C", 0), instancePlugin("V", 1), contextPlugin("E", 2)],
    });
    deepStrictEqual(ran(results), ["C", "V/A", "E"]);
    deepStrictEqual(results.map((result) => result.progress), [1 / 3, 2 / 3, 1]);
  });
  await t.step("instances made by collectors are not in the pre-count, so progress exceeds 1", async () => {
    // Pre-count on the empty context: C and E (V has no instance yet) = 2; results 1/2, 2/2, 3/2.
    const { results } = await publish({
      plugins: [
        contextPlugin("C", 0, (context) => void context.createInstance("X", { family: "f" })),
        instancePlugin("V", 1),
        contextPlugin("E", 2),
      ],
    });
    deepStrictEqual(ran(results), ["C", "V/X", "E"]);
    deepStrictEqual(results.map((result) => result.progress), [0.5, 1, 1.5]);
  });
});

Deno.test("publish() consults a custom stop rule in the pre-count, the collector pass and the main loop", async () => {
  // A rule that stops before order 0.2: the pre-count stops at C2 (task_count 1), the collector
  // pass stops before C2 (so C2 never runs), the main loop stops before V.
  const calls: Array<[number, number[]]> = [];
  const stopped: string[] = [];
  const signals: string[] = [];
  const host = new PublishHost({ env: {} });
  host.registerCallback("stopped", ({ reason }) => signals.push(reason));
  const { results } = await publish({
    host,
    plugins: [contextPlugin("C1", 0), contextPlugin("C2", 0.2), contextPlugin("V", 1)],
    test: ({ nextOrder, ordersWithError }) => {
      calls.push([nextOrder, [...ordersWithError]]);
      return nextOrder >= 0.2 ? "collection cut short" : null;
    },
    events: { stopped: (reason) => stopped.push(reason) },
  });
  deepStrictEqual(ran(results), ["C1"]);
  deepStrictEqual(results.map((result) => result.progress), [1]);
  deepStrictEqual(calls, [[0, []], [0.2, []], [0, []], [0.2, []], [1, []]]);
  deepStrictEqual(stopped, ["collection cut short", "collection cut short"]);
  deepStrictEqual(signals, stopped);
});

Deno.test("publish() reads an instance's publish flag just before that instance is processed", async (t) => {
  await t.step("a plugin switching a later instance off (or on) takes effect in its own loop", async () => {
    // Iterator: instances = instances_by_plugin(context, plugin), then for each one
    // `if instance.data.get("publish") is False: continue` just before it is yielded.
    const collector = contextPlugin("Collect", 0, (context) => {
      context.createInstance("A", { family: "f" });
      context.createInstance("B", { family: "f" });
      context.createInstance("C", { family: "f", publish: false });
    });
    const toggler = instancePlugin("Toggle", 1, (instance) => {
      if (instance.name !== "A") return;
      const [, b, c] = instance.context.instances;
      b!.data.publish = false;
      c!.data.publish = true;
    });
    const { results } = await publish({ plugins: [collector, toggler, instancePlugin("After", 1.1)] });
    deepStrictEqual(ran(results), ["Collect", "Toggle/A", "Toggle/C", "After/A", "After/C"]);
    // task_count before collection: Collect only (1), so progress is 1, 2, 3, 4, 5.
    deepStrictEqual(results.map((result) => result.progress), [1, 2, 3, 4, 5]);
  });
  await t.step("an instance created during a plugin's loop waits for the next plugin", async () => {
    const collector = contextPlugin("Collect", 0, (context) => void context.createInstance("A", { family: "f" }));
    const maker = instancePlugin("Make", 1, (instance) => {
      if (instance.name === "A") instance.context.createInstance("D", { family: "f" });
    });
    const { results } = await publish({ plugins: [collector, maker, instancePlugin("After", 1.1)] });
    deepStrictEqual(ran(results), ["Collect", "Make/A", "After/A", "After/D"]);
  });
});

Deno.test("pluginPairs() is pyblish's Iterator: lazy, target-filtered, inactive skipped, test first", () => {
  const context = new Context();
  const a = context.createInstance("A", { family: "f" });
  context.createInstance("B", { family: "f" });
  const plugins = [
    instancePlugin("V", 1),
    definePlugin({ kind: "context", name: "Off", order: 1, active: false, process() {} }),
    definePlugin({ kind: "context", name: "Farm", order: 1, targets: ["farm"], process() {} }),
    contextPlugin("E", 2),
  ];
  const seen: number[] = [];
  const pairs = pluginPairs(plugins, context, { test: ({ nextOrder }) => void seen.push(nextOrder) });
  const first = pairs.next();
  strictEqual(first.done, false);
  deepStrictEqual([first.value?.[0].name, first.value?.[1]?.name], ["V", "A"]);
  a.context.instances[1]!.data.publish = false; // read lazily: B is skipped
  deepStrictEqual([...pairs].map(([plugin, instance]) => `${plugin.name}/${instance?.name ?? "-"}`), ["E/-"]);
  deepStrictEqual(seen, [1, 2]);
});

Deno.test("processPair() gives every (plugin, instance) pair a fresh plugin object", async (t) => {
  await t.step("object form: state on `this` stays with its pair, the plugin object is untouched", async () => {
    const counts: number[] = [];
    const plugin = definePlugin({
      kind: "instance",
      name: "Count",
      order: 1,
      families: ["f"],
      process() {
        this.count = ((this.count as number | undefined) ?? 0) + 1;
        counts.push(this.count as number);
        ok(this.name === "Count" && typeof this.log.info === "function");
      },
    });
    const context = new Context();
    context.createInstance("A", { family: "f" });
    context.createInstance("B", { family: "f" });
    await publish({ plugins: [plugin], context });
    await publish({ plugins: [plugin], context });
    deepStrictEqual(counts, [1, 1, 1, 1]);
    ok(!Object.hasOwn(plugin, "count"));
  });
  await t.step("class form: one new object per pair", async () => {
    const made: string[] = [];
    class Track extends InstancePlugin {
      static order = ValidatorOrder;
      static families = ["f"];
      seen: string[] = [];
      constructor() {
        super();
        made.push("new");
      }
      process(instance: Instance) {
        this.seen.push(instance.name);
        made.push(this.seen.join("+"));
      }
    }
    const context = new Context();
    context.createInstance("A", { family: "f" });
    context.createInstance("B", { family: "f" });
    const { results } = await publish({ plugins: [Track], context });
    deepStrictEqual(made, ["new", "A", "new", "B"]);
    strictEqual(results[0]!.plugin, definePlugin(Track));
    strictEqual(results[0]!.plugin.pluginClass, Track);
  });
});

Deno.test("publish() keeps ordersWithError as a set and appends to context.data.results", async () => {
  const states: Array<ReadonlySet<number>> = [];
  const context = new Context();
  const earlier = { note: "a result from before" };
  const list: unknown[] = [earlier];
  context.data.results = list;
  context.createInstance("A", { family: "f" });
  context.createInstance("B", { family: "f" });
  const { results } = await publish({
    context,
    plugins: [
      instancePlugin("V1", 1, () => {
        throw new Error("no");
      }),
      contextPlugin("V2", 1.2),
      contextPlugin("E", 2),
    ],
    test: (state) => {
      states.push(state.ordersWithError);
      return null;
    },
  });
  deepStrictEqual(ran(results), ["V1/A", "V1/B", "V2", "E"]);
  // Pre-count: V1, V2, E (empty); main loop: V1 (empty), V2 ({1}), E ({1}: one entry for two failures).
  deepStrictEqual(states.map((set) => [set instanceof Set, [...set]]), [
    [true, []],
    [true, []],
    [true, []],
    [true, []],
    [true, [1]],
    [true, [1]],
  ]);
  strictEqual(context.data.results, list);
  deepStrictEqual(list, [earlier, ...results]);
});

Deno.test("publish() emits pyblish's events in pyblish's order and counts", async () => {
  // test_events: a collector, a passing and a failing plugin give 3 pluginProcessed, 1 pluginFailed
  // (plugin, context, instance, error) before its pluginProcessed, then published (context).
  const log: string[] = [];
  const host = new PublishHost({ env: {} });
  let failure: { plugin: ResolvedPlugin; context: Context; instance: Instance | null; error: Error } | undefined;
  host.registerCallback("pluginProcessed", ({ result }) => log.push(`processed ${ran([result])[0]}`));
  host.registerCallback("pluginFailed", (payload) => {
    failure = payload;
    log.push(`failed ${payload.plugin.name}`);
  });
  host.registerCallback("published", ({ context }) => log.push(`published ${context.name}`));
  const failing = instancePlugin("Fail", 1, () => {
    throw new RangeError("frame 1004 is missing");
  });
  const { context } = await publish({
    host,
    plugins: [
      contextPlugin("Collect", 0, (c) => void c.createInstance("A", { family: "f" })),
      instancePlugin("Pass", 1),
      failing,
    ],
  });
  deepStrictEqual(log, [
    "processed Collect",
    "processed Pass/A",
    "failed Fail",
    "processed Fail/A",
    "published Context",
  ]);
  strictEqual(failure!.plugin, failing);
  strictEqual(failure!.context, context);
  strictEqual(failure!.instance, context.at(0));
  ok(failure!.error instanceof RangeError && failure!.error.message === "frame 1004 is missing");
});

Deno.test("runAction() records the action's result in context.data.results and emits its events", async () => {
  const events: string[] = [];
  const host = new PublishHost({ env: {} });
  host.registerCallback("pluginProcessed", ({ result }) => events.push(`processed ${result.action}`));
  host.registerCallback("pluginFailed", ({ error }) => events.push(`failed ${error.message}`));
  const plugin = definePlugin({
    kind: "context",
    name: "Validate",
    order: 1,
    actions: [
      {
        name: "Repair",
        on: "failed",
        process(context, owner) {
          owner.log.info("repairing %s", context.name);
          this.log.warning("done");
        },
      },
      {
        name: "Broken",
        process() {
          throw new Error("cannot repair");
        },
      },
    ],
    process() {
      throw new Error("invalid");
    },
  });
  const { context, results } = await publish({ plugins: [plugin], host });
  const [repair, broken] = plugin.actions;
  const fixed = await runAction(plugin, repair!, context, { host });
  const failed = await runAction(plugin, broken!, context, {
    host,
    events: { pluginFailed: () => events.push("event") },
  });
  deepStrictEqual(
    [fixed.success, fixed.action, fixed.instance, fixed.progress],
    [true, "Repair", null, 0],
  );
  deepStrictEqual(fixed.records.map((r) => [r.logger, r.levelName, r.message]), [
    ["Validate", "INFO", "repairing Context"],
    ["Repair", "WARNING", "done"],
  ]);
  deepStrictEqual([failed.success, failed.error?.message], [false, "cannot repair"]);
  deepStrictEqual(context.data.results, [...results, fixed, failed]);
  deepStrictEqual(events, [
    "failed invalid",
    "processed null",
    "processed Repair",
    "failed cannot repair",
    "event",
    "processed Broken",
  ]);
});

Deno.test("collectIter() runs the collection band lazily and emits collected on the host", async () => {
  const host = new PublishHost({ env: {} });
  const signals: string[] = [];
  host.registerCallback("collected", ({ context }) => signals.push(`collected ${context.length}`));
  host.registerCallback("published", () => signals.push("published"));
  const context = new Context();
  const names: string[] = [];
  for await (
    const result of collectIter({
      host,
      context,
      plugins: [contextPlugin("C", 0, (c) => void c.createInstance("A")), contextPlugin("V", 1)],
    })
  ) names.push(result.plugin.name);
  deepStrictEqual(names, ["C"]);
  deepStrictEqual(signals, ["collected 1"]);
});
