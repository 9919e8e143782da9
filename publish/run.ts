import { Context, type Instance } from "./context.ts";
import { PublishHost } from "./host.ts";
import { createLog, type LogRecord, withRecords } from "./log.ts";
import { instancesByPlugin, pluginsByTargets } from "./lookup.ts";
import { CollectorOrder, ExtractorOrder, inRange, IntegratorOrder, ValidatorOrder } from "./orders.ts";
import {
  type ActionSelf,
  type ActionSpec,
  type PluginClass,
  type PluginSelf,
  type PluginSpec,
  type PluginTools,
  type ResolvedAction,
  type ResolvedPlugin,
  resolvePlugin,
} from "./plugin.ts";
import { stopAfterFailedValidation, type StopRule, type StopState } from "./stop_rule.ts";

export { stopAfterFailedValidation, type StopRule, type StopState };

/** One (plugin, instance) pair's outcome, as pyblish's result dict. */
export interface Result {
  plugin: ResolvedPlugin;
  /** The instance, or null for a context plugin (and for an action run without one). */
  instance: Instance | null;
  /** The action's name when this result is an action's. */
  action: string | null;
  success: boolean;
  error: { name: string; message: string; stack?: string } | null;
  /** Every record logged while it ran (by any plugin's or action's logger). */
  records: LogRecord[];
  /** Milliseconds. */
  duration: number;
  /**
   * Results so far / pairs the pre-count found (it can exceed 1, as in pyblish); 0 for an action
   * or a pair processed on its own.
   */
  progress: number;
}

/** Events of a publish, for progress displays and UIs (the host's callbacks get the same, as signals). */
export interface PublishEvents {
  pluginProcessed?: (result: Result) => void;
  pluginFailed?: (result: Result) => void;
  /** Before a plugin runs on an instance (or the context). */
  pluginStarted?: (plugin: ResolvedPlugin, instance: Instance | null) => void;
  stopped?: (reason: string) => void;
  collected?: (context: Context) => void;
  validated?: (context: Context) => void;
  extracted?: (context: Context) => void;
  integrated?: (context: Context) => void;
  published?: (context: Context) => void;
}

/** A plugin as a publish accepts it: resolved, an object spec, or a plugin class. */
export type PluginInput = ResolvedPlugin | PluginSpec | PluginClass;

/** Options of {@linkcode publish}. */
export interface PublishOptions {
  /**
   * The plugins, in the order they should run within a stage (discovery sorts by order; an
   * explicit list is neither sorted nor host-filtered, as in pyblish).
   * @default {(await host.discover()).plugins}
   */
  plugins?: readonly PluginInput[];
  /** @default {new Context()} */
  context?: Context;
  /** Session targets; empty or absent means `["default", ...registeredTargets]`. */
  targets?: readonly string[];
  /** Targets registered on the host (used when `targets` is empty). @default {host.registeredTargets()} */
  registeredTargets?: readonly string[];
  /** @default {host.registeredTest()} */
  test?: StopRule;
  events?: PublishEvents;
  signal?: AbortSignal;
  /** The registries (hosts, targets, callbacks, stop rule, toggles). @default {a new PublishHost()} */
  host?: PublishHost;
}

/** The targets of a session: the explicit ones, or `["default", ...registered]`. */
export function sessionTargets(targets: readonly string[] | undefined, registered: readonly string[] = []): string[] {
  return targets && targets.length > 0 ? [...targets] : ["default", ...registered];
}

/** The plugins that a session with these targets runs (no `"*"` for targets). */
export function pluginsForTargets(plugins: readonly ResolvedPlugin[], targets: readonly string[]): ResolvedPlugin[] {
  return pluginsByTargets(plugins, targets);
}

/** The instances a plugin processes now: direct children of the context, in order, whose families match. */
export function instancesFor(context: Context, plugin: ResolvedPlugin): Instance[] {
  return instancesByPlugin(context, plugin);
}

/** The mutable state of a pass (pyblish's `state` dict). */
export interface PassState {
  nextOrder: number | null;
  ordersWithError: Set<number>;
}

/** Options of {@linkcode pluginPairs}. */
export interface PluginPairsOptions {
  /** Session targets. @default {["default", ...registeredTargets]} */
  targets?: readonly string[];
  registeredTargets?: readonly string[];
  /** @default {stopAfterFailedValidation} */
  test?: StopRule;
  /** The pass's state; the caller adds failed orders to `ordersWithError`. @default {a fresh one} */
  state?: PassState;
  /** Called with the reason when the test stops the pass. */
  onStop?: (reason: string) => void;
}

/**
 * The (plugin, instance) pairs a pass runs, yielded lazily (pyblish's `logic.Iterator`): plugins
 * kept by the targets, inactive ones skipped; before each plugin the stop rule sees `nextOrder`
 * and the failed orders, and a truthy answer ends the pass; an instance plugin yields each
 * compatible instance (found when its turn comes), each one's `publish` read just before it is
 * yielded, so a pair processed before can still switch a later instance off; a context plugin
 * yields once, whatever its families. Nothing is processed: for custom runners and UIs.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Context, definePlugin, pluginPairs } from "./mod.ts";
 *
 * const context = new Context();
 * context.createInstance("a", { family: "model" });
 * context.createInstance("b", { family: "model", publish: false });
 * const plugins = [
 *   definePlugin({ kind: "context", name: "Ctx", order: 1, families: ["none"], process() {} }),
 *   definePlugin({ kind: "instance", name: "Inst", order: 1, families: ["model"], process() {} }),
 * ];
 * const pairs = [...pluginPairs(plugins, context)].map(([p, i]) => `${p.name}/${i?.name ?? "-"}`);
 * ok(pairs.join() === "Ctx/-,Inst/a");
 * ```
 */
export function* pluginPairs(
  plugins: readonly ResolvedPlugin[],
  context: Context,
  options: PluginPairsOptions = {},
): Generator<[ResolvedPlugin, Instance | null], void, undefined> {
  const test = options.test ?? stopAfterFailedValidation;
  const state = options.state ?? { nextOrder: null, ordersWithError: new Set<number>() };
  const targets = sessionTargets(options.targets, options.registeredTargets);
  for (const plugin of pluginsByTargets(plugins, targets)) {
    if (!plugin.active) continue;
    state.nextOrder = plugin.order;
    const message = test({ nextOrder: plugin.order, ordersWithError: new Set(state.ordersWithError) });
    if (message) {
      options.onStop?.(String(message));
      return;
    }
    if (plugin.kind === "instance") {
      for (const instance of instancesByPlugin(context, plugin)) {
        if (instance.data.publish === false) continue;
        yield [plugin, instance];
      }
    } else {
      yield [plugin, null];
    }
  }
}

function emitEvent<K extends keyof PublishEvents>(
  events: PublishEvents | undefined,
  name: K,
  ...args: Parameters<NonNullable<PublishEvents[K]>>
): void {
  try {
    (events?.[name] as ((...values: unknown[]) => void) | undefined)?.(...args);
  } catch (error) {
    // A listener's failure never stops a publish (pyblish prints and swallows it).
    console.error(`publish: the '${name}' listener failed:`, error);
  }
}

/** Options of {@linkcode processPair}. */
export interface ProcessPairOptions {
  signal?: AbortSignal;
  /** Run this action of the plugin instead of the plugin (pyblish's `process(action=…)`). */
  action?: ActionSpec | ResolvedAction;
  /** Whose callbacks hear `pluginFailed` / `pluginProcessed`. @default {a new PublishHost()} */
  host?: PublishHost;
  events?: PublishEvents;
  /** Stamped on the result before the events (the publish loop's count). @default {0} */
  progress?: number;
}

/**
 * Runs one (plugin, subject) pair, or an action, as pyblish's `plugin.process`: never throwing
 * (the error is in the result); on a fresh object (`Object.create(plugin)` for an object-form
 * plugin, `new Class()` for a class), so state kept on `this` does not carry over; every record
 * logged meanwhile kept on the result; on failure `pluginFailed` emitted; the result appended to
 * `context.data.results`; then `pluginProcessed` emitted.
 */
export async function processPair(
  plugin: ResolvedPlugin,
  context: Context,
  instance: Instance | null,
  options: ProcessPairOptions = {},
): Promise<Result> {
  const { action, events } = options;
  const host = options.host ?? new PublishHost();
  const records: LogRecord[] = [];
  const log = action ? createLog(action.name) : plugin.log ?? createLog(plugin.name);
  const tools: PluginTools = {
    log,
    signal: options.signal ?? new AbortController().signal,
    host,
    emit: (signal, payload = {}) => host.emit(signal, payload as never),
  };
  const start = performance.now();
  let failure: Error | null = null;
  try {
    options.signal?.throwIfAborted();
    await withRecords(records, async () => {
      if (action) {
        const self = Object.create(action, { log: { value: log } }) as ActionSelf;
        await self.process(context, plugin, tools);
        return;
      }
      const self = Object.create(plugin) as PluginSelf;
      if (self.kind === "context") await self.process(context, tools);
      else if (instance !== null) await self.process(instance, tools);
      else throw new Error(`Cannot run instance plugin '${plugin.name}' without an instance`);
    });
  } catch (caught) {
    failure = caught instanceof Error ? caught : new Error(String(caught));
  }
  const result: Result = {
    plugin,
    instance,
    action: action?.name ?? null,
    success: failure === null,
    error: failure ? { name: failure.name, message: failure.message, stack: failure.stack } : null,
    records,
    duration: performance.now() - start,
    progress: options.progress ?? 0,
  };
  if (failure) {
    host.emit("pluginFailed", { plugin, context, instance, error: failure, result });
    emitEvent(events, "pluginFailed", result);
  }
  if (Array.isArray(context.data.results)) context.data.results.push(result);
  else context.data.results = [result];
  host.emit("pluginProcessed", { result });
  emitEvent(events, "pluginProcessed", result);
  return result;
}

type StageSignal = "collected" | "validated" | "extracted" | "integrated";

async function* convenienceIter(
  options: PublishOptions,
  band: { base: number; signal: StageSignal } | null,
): AsyncGenerator<Result, Context, undefined> {
  const host = options.host ?? new PublishHost();
  const context = options.context ?? new Context();
  const { events, signal } = options;
  const test = options.test ?? host.registeredTest();
  const targets = sessionTargets(options.targets, options.registeredTargets ?? host.registeredTargets());
  let plugins = options.plugins ? options.plugins.map(resolvePlugin) : (await host.discover()).plugins;
  if (band) plugins = plugins.filter((plugin) => inRange(plugin.order, band.base));
  plugins = plugins.filter((plugin) => plugin.active && host.isPluginEnabled(plugin));
  const collectors = plugins.filter((plugin) => inRange(plugin.order, CollectorOrder));
  const onStop = (reason: string) => {
    host.emit("stopped", { reason });
    emitEvent(events, "stopped", reason);
  };

  // pyblish's task_count: one dry pass over every plugin on the context as it is now (the stop rule
  // is consulted, publish: false instances are not counted).
  let total = 0;
  for (const _pair of pluginPairs(plugins, context, { targets, test })) total++;
  let done = 0;

  // A cancelled publish stops before the next plugin, as a stop rule would: the results so far are
  // kept (the plugin that was running when the signal fired failed with its reason), `stopped` says why.
  let cancelled = false;
  const run = async function* (pairs: Iterable<[ResolvedPlugin, Instance | null]>, state: PassState | null) {
    for (const [plugin, instance] of pairs) {
      if (cancelled) return;
      if (signal?.aborted) {
        cancelled = true;
        const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
        onStop(`cancelled before ${plugin.name}: ${reason}`);
        return;
      }
      host.emit("pluginStarted", { plugin, instance });
      emitEvent(events, "pluginStarted", plugin, instance);
      done++;
      const progress = total > 0 ? done / total : 1;
      const result = await processPair(plugin, context, instance, { signal, host, events, progress });
      if (state && !result.success) state.ordersWithError.add(plugin.order);
      yield result;
    }
  };

  // First pass: collectors, with a fresh state whose errors are never recorded.
  yield* run(pluginPairs(collectors, context, { targets, test, onStop }), null);
  // The rest, without instance plugins that have no compatible instance now (decided once).
  plugins = plugins.filter((plugin) => !collectors.includes(plugin))
    .filter((plugin) => plugin.kind === "context" || instancesByPlugin(context, plugin).length > 0);
  const state: PassState = { nextOrder: null, ordersWithError: new Set() };
  if (!cancelled) yield* run(pluginPairs(plugins, context, { targets, test, state, onStop }), state);
  if (cancelled) return context;

  const done_ = band?.signal ?? "published";
  host.emit(done_, { context });
  emitEvent(events, done_, context);
  return context;
}

/**
 * The publish loop, as pyblish's `util.publish_iter` runs it: inactive (or toggled-off) plugins
 * dropped; the pairs pre-counted for `progress`; collectors (−0.5 ≤ order < 0.5) first, seeing
 * instances earlier collectors made, their errors never stopping anything; then instance plugins
 * without a compatible instance dropped (once); then every other plugin in the given order,
 * through {@linkcode pluginPairs} with one state whose failed orders the stop rule sees. Yields
 * each result as it comes; `published` at the end. Without `plugins`, the host discovers them. An
 * aborted `signal` stops the loop before the next plugin (a `stopped` event names the reason; no
 * `published`), never with a throw: the results so far are what a caller reports.
 *
 * Where ferry differs on purpose: `progress` is stamped before `pluginFailed` / `pluginProcessed`
 * are emitted (pyblish's callbacks see 0, util sets it afterwards); when the pre-count finds no
 * pair (pyblish would divide by zero) progress is 1; a stop is also reported as a `stopped`
 * event/signal from the collector pass and the main loop (pyblish only logs "Stopped due to"),
 * never from the pre-count.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Context, definePlugin, publishIter } from "./mod.ts";
 *
 * const plugins = [definePlugin({ kind: "context", name: "Collect", order: 0, process(c) { c.createInstance("a", { family: "render" }); } })];
 * for await (const result of publishIter({ plugins, context: new Context() })) ok(result.success && result.progress === 1);
 * ```
 */
export function publishIter(options: PublishOptions = {}): AsyncGenerator<Result, Context, undefined> {
  return convenienceIter(options, null);
}

async function drain(
  iterator: AsyncGenerator<Result, Context, undefined>,
): Promise<{ context: Context; results: Result[] }> {
  const results: Result[] = [];
  while (true) {
    const step = await iterator.next();
    if (step.done) return { context: step.value, results };
    results.push(step.value);
  }
}

/**
 * Runs {@linkcode publishIter} to the end; returns the context and every result.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { CollectorOrder, definePlugin, publish, ValidatorOrder } from "./mod.ts";
 *
 * const plugins = [
 *   definePlugin({ kind: "context", name: "Collect", order: CollectorOrder, process(c) { c.createInstance("a", { family: "f" }); } }),
 *   definePlugin({ kind: "instance", name: "Check", order: ValidatorOrder, families: ["f"], process() { throw new Error("bad"); } }),
 *   definePlugin({ kind: "context", name: "Extract", order: 2, process() {} }),
 * ];
 * const { results } = await publish({ plugins });
 * ok(results.map((r) => r.plugin.name).join() === "Collect,Check" && !results[1]!.success);
 * ```
 */
export function publish(options: PublishOptions = {}): Promise<{ context: Context; results: Result[] }> {
  return drain(publishIter(options));
}

/** Runs only the collection band (−0.5 ≤ order < 0.5), yielding results; then `collected`. */
export const collectIter = (options: PublishOptions = {}) =>
  convenienceIter(options, { base: CollectorOrder, signal: "collected" });
/** Runs only the validation band (0.5 ≤ order < 1.5), yielding results; then `validated`. */
export const validateIter = (options: PublishOptions = {}) =>
  convenienceIter(options, { base: ValidatorOrder, signal: "validated" });
/** Runs only the extraction band (1.5 ≤ order < 2.5), yielding results; then `extracted`. */
export const extractIter = (options: PublishOptions = {}) =>
  convenienceIter(options, { base: ExtractorOrder, signal: "extracted" });
/** Runs only the integration band (2.5 ≤ order < 3.5), yielding results; then `integrated`. */
export const integrateIter = (options: PublishOptions = {}) =>
  convenienceIter(options, { base: IntegratorOrder, signal: "integrated" });

/** Runs only the collection band (−0.5 ≤ order < 0.5), then emits `collected`. */
export const collect = (options: PublishOptions = {}) => drain(collectIter(options));
/** Runs only the validation band, then emits `validated`. */
export const validate = (options: PublishOptions = {}) => drain(validateIter(options));
/** Runs only the extraction band, then emits `extracted`. */
export const extract = (options: PublishOptions = {}) => drain(extractIter(options));
/** Runs only the integration band, then emits `integrated`. */
export const integrate = (options: PublishOptions = {}) => drain(integrateIter(options));

/**
 * The actions of a plugin offered after a publish, by their `on` rule: `failed` when the plugin
 * failed, `succeeded` when it ran without failing, `warning` when it logged a warning, etc.
 */
export function actionsFor(plugin: ResolvedPlugin, results: readonly Result[]): ResolvedAction[] {
  const own = results.filter((result) => result.plugin.name === plugin.name && result.action === null);
  const processed = own.length > 0;
  const failed = own.some((result) => !result.success);
  const warned = own.some((result) => result.records.some((record) => record.level === "warning"));
  return (plugin.actions ?? []).filter((action) => {
    switch (action.on ?? "all") {
      case "all":
        return true;
      case "processed":
        return processed;
      case "notProcessed":
        return !processed;
      case "failed":
        return failed;
      case "warning":
        return warned;
      case "failedOrWarning":
        return failed || warned;
      case "succeeded":
        return processed && !failed;
    }
  });
}

/** Options of {@linkcode runAction}. */
export interface RunActionOptions {
  signal?: AbortSignal;
  /** Whose callbacks hear `pluginFailed` / `pluginProcessed`. @default {a new PublishHost()} */
  host?: PublishHost;
  events?: PublishEvents;
  /** The instance the result names (pyblish's GUIs pass none). @default {null} */
  instance?: Instance | null;
}

/**
 * Runs an action of a plugin on the context (pyblish's `process(plugin, context, None,
 * action=id)`): its result is recorded in `context.data.results` and emitted (`pluginFailed`,
 * `pluginProcessed`) like any other; `this.log` / `tools.log` / `plugin.log` records land on it.
 */
export function runAction(
  plugin: ResolvedPlugin,
  action: ActionSpec | ResolvedAction,
  context: Context,
  options?: AbortSignal | RunActionOptions,
): Promise<Result> {
  const { signal, host, events, instance = null } = options instanceof AbortSignal
    ? { signal: options }
    : options ?? {};
  return processPair(plugin, context, instance, { action, signal, host, events });
}
