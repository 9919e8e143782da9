import { Context, type Instance } from "./context.ts";
import { matchFamilies, matchTargets } from "./match.ts";
import { CollectorOrder, ExtractorOrder, inRange, IntegratorOrder, ValidatorOrder } from "./orders.ts";
import type { Action, LogRecord, PluginTools, ResolvedPlugin } from "./plugin.ts";

/** One (plugin, instance) pair's outcome, as pyblish's result dict. */
export interface Result {
  plugin: ResolvedPlugin;
  /** The instance, or null for a context plugin. */
  instance: Instance | null;
  /** The action's name when this result is an action's. */
  action: string | null;
  success: boolean;
  error: { name: string; message: string; stack?: string } | null;
  records: LogRecord[];
  /** Milliseconds. */
  duration: number;
  /** Results so far / pairs counted before collection (can exceed 1, as in pyblish). */
  progress: number;
}

/** Decides whether to stop before a plugin; a truthy message stops the publish. */
export type StopRule = (state: { nextOrder: number; ordersWithError: number[] }) => string | undefined | null | false;

/** pyblish's default test: stop before the first plugin at order ≥ 1.5 once a validator (0.5 ≤ order < 1.5) failed. */
export const stopAfterFailedValidation: StopRule = ({ nextOrder, ordersWithError }) =>
  nextOrder >= 1.5 && ordersWithError.some((order) => inRange(order, ValidatorOrder)) ? "failed validation" : undefined;

/** Events of a publish, for progress displays and UIs. */
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

/** Options of {@linkcode publish}. */
export interface PublishOptions {
  /** The plugins, in the order they should run within a stage (discovery sorts by order). */
  plugins: readonly ResolvedPlugin[];
  /** @default {new Context()} */
  context?: Context;
  /** Session targets; empty or absent means `["default", ...registeredTargets]`. */
  targets?: readonly string[];
  /** Targets registered on the host (used when `targets` is empty). */
  registeredTargets?: readonly string[];
  /** @default {stopAfterFailedValidation} */
  test?: StopRule;
  events?: PublishEvents;
  signal?: AbortSignal;
}

/** The plugins that a session with these targets runs (no `"*"` for targets). */
export function pluginsForTargets(plugins: readonly ResolvedPlugin[], targets: readonly string[]): ResolvedPlugin[] {
  return plugins.filter((plugin) => matchTargets(plugin.targets, targets, plugin.match));
}

/** The instances a plugin processes now: direct children of the context, in order, whose families match. */
export function instancesFor(context: Context, plugin: ResolvedPlugin): Instance[] {
  return context.instances.filter((instance) => matchFamilies(plugin.families, instance.families, plugin.match));
}

function emit<K extends keyof PublishEvents>(
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

/** Runs one (plugin, subject) pair, never throwing: the outcome is in the result. */
export async function processPair(
  plugin: ResolvedPlugin,
  context: Context,
  instance: Instance | null,
  options: { signal?: AbortSignal; action?: Action } = {},
): Promise<Result> {
  const records: LogRecord[] = [];
  const record = (level: LogRecord["level"]) => (message: string) =>
    records.push({ level, message: String(message), time: new Date().toISOString() });
  const tools: PluginTools = {
    log: { debug: record("debug"), info: record("info"), warning: record("warning"), error: record("error") },
    signal: options.signal ?? new AbortController().signal,
  };
  const start = performance.now();
  let error: Result["error"] = null;
  try {
    options.signal?.throwIfAborted();
    if (options.action) await options.action.process(context, plugin, tools);
    else if (plugin.kind === "context") await plugin.process(context, tools);
    else if (instance !== null) await plugin.process(instance, tools);
    else throw new Error(`Cannot run instance plugin '${plugin.name}' without an instance`);
  } catch (caught) {
    const failure = caught instanceof Error ? caught : new Error(String(caught));
    error = { name: failure.name, message: failure.message, stack: failure.stack };
  }
  return {
    plugin,
    instance,
    action: options.action?.name ?? null,
    success: error === null,
    error,
    records,
    duration: performance.now() - start,
    progress: 0,
  };
}

/**
 * The publish loop, as pyblish runs it: inactive plugins dropped; collectors (−0.5 ≤ order < 0.5)
 * first, seeing instances earlier collectors made; then instance plugins without a compatible
 * instance are dropped (once); then every other plugin in the given order, an instance plugin once
 * per compatible instance at that moment (skipping `publish: false`), a context plugin once
 * whatever its families. Before each plugin the stop rule sees `nextOrder` and the orders that
 * failed; collector errors never count. Yields each result as it comes.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Context, definePlugin, publishIter } from "./mod.ts";
 *
 * const plugins = [definePlugin({ kind: "context", name: "Collect", order: 0, process(c) { c.createInstance("a", { family: "render" }); } })];
 * for await (const result of publishIter({ plugins, context: new Context() })) ok(result.success);
 * ```
 */
export async function* publishIter(options: PublishOptions): AsyncGenerator<Result, Context> {
  const context = options.context ?? new Context();
  const test = options.test ?? stopAfterFailedValidation;
  const targets = options.targets && options.targets.length > 0
    ? options.targets
    : ["default", ...(options.registeredTargets ?? [])];
  let plugins = pluginsForTargets(options.plugins, targets).filter((plugin) => plugin.active);
  const total = plugins.reduce(
    (sum, plugin) => sum + (plugin.kind === "instance" ? instancesFor(context, plugin).length : 1),
    0,
  );
  let done = 0;
  const finish = (result: Result): Result => {
    result.progress = total > 0 ? ++done / total : 1;
    context.data.results = [...((context.data.results as Result[] | undefined) ?? []), result];
    if (!result.success) emit(options.events, "pluginFailed", result);
    emit(options.events, "pluginProcessed", result);
    return result;
  };

  const run = async function* (list: ResolvedPlugin[], recordErrors: boolean, ordersWithError: number[]) {
    for (const plugin of list) {
      if (!plugin.active) continue;
      if (recordErrors) {
        const reason = test({ nextOrder: plugin.order, ordersWithError: [...ordersWithError] });
        if (reason) {
          emit(options.events, "stopped", String(reason));
          return;
        }
      }
      const subjects: Array<Instance | null> = plugin.kind === "instance"
        ? instancesFor(context, plugin).filter((instance) => instance.publish)
        : [null];
      for (const instance of subjects) {
        options.signal?.throwIfAborted();
        emit(options.events, "pluginStarted", plugin, instance);
        const result = finish(await processPair(plugin, context, instance, { signal: options.signal }));
        if (!result.success && recordErrors) ordersWithError.push(plugin.order);
        yield result;
      }
    }
  };

  const collectors = plugins.filter((plugin) => inRange(plugin.order, CollectorOrder));
  yield* run(collectors, false, []);
  plugins = plugins.filter((plugin) => !collectors.includes(plugin));
  plugins = plugins.filter((plugin) => plugin.kind === "context" || instancesFor(context, plugin).length > 0);
  yield* run(plugins, true, []);
  emit(options.events, "published", context);
  return context;
}

/** Runs {@linkcode publishIter} to the end; returns the context and every result. */
export async function publish(options: PublishOptions): Promise<{ context: Context; results: Result[] }> {
  const results: Result[] = [];
  const iterator = publishIter(options);
  while (true) {
    const step = await iterator.next();
    if (step.done) return { context: step.value, results };
    results.push(step.value);
  }
}

type Stage = "collected" | "validated" | "extracted" | "integrated";

async function stage(
  options: PublishOptions,
  base: number,
  event: Stage,
): Promise<{ context: Context; results: Result[] }> {
  const context = options.context ?? new Context();
  const plugins = options.plugins.filter((plugin) => inRange(plugin.order, base));
  const outcome = await publish({ ...options, context, plugins, events: { ...options.events, published: undefined } });
  emit(options.events, event, context);
  return outcome;
}

/** Runs only the collection band (−0.5 ≤ order < 0.5), then emits `collected`. */
export const collect = (options: PublishOptions) => stage(options, CollectorOrder, "collected");
/** Runs only the validation band, then emits `validated`. */
export const validate = (options: PublishOptions) => stage(options, ValidatorOrder, "validated");
/** Runs only the extraction band, then emits `extracted`. */
export const extract = (options: PublishOptions) => stage(options, ExtractorOrder, "extracted");
/** Runs only the integration band, then emits `integrated`. */
export const integrate = (options: PublishOptions) => stage(options, IntegratorOrder, "integrated");

/**
 * The actions of a plugin offered after a publish, by their `on` rule: `failed` when the plugin
 * failed, `succeeded` when it ran without failing, `warning` when it logged a warning, etc.
 */
export function actionsFor(plugin: ResolvedPlugin, results: readonly Result[]): Action[] {
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

/** Runs an action of a plugin on the context; its outcome is a result like any other. */
export function runAction(
  plugin: ResolvedPlugin,
  action: Action,
  context: Context,
  signal?: AbortSignal,
): Promise<Result> {
  return processPair(plugin, context, null, { action, signal });
}
