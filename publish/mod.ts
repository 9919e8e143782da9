/**
 * ferry's pyblish-style publish framework, faithful to pyblish-base 1.8.12: plugins run collect →
 * validate → extract → integrate on a {@linkcode Context} and its {@linkcode Instance}s, with
 * pyblish's matching (families, hosts, targets), stop rule, progress, results and signals.
 *
 * - Plugins are plain objects (`definePlugin({ kind, name, order, families, process })`) or
 *   classes (`class X extends InstancePlugin { static order = …; process(instance) {…} }`); each
 *   (plugin, instance) pair runs on a fresh object, so state kept on `this` never carries over.
 * - Instances hold members (nodes, files): `append`, `extend`, `at`, `length`, iteration.
 * - `this.log` / `tools.log` / `plugin.log` have pyblish's levels; every record made while a pair
 *   or action runs is kept on its result.
 * - A {@linkcode PublishHost} holds what pyblish keeps in module globals: hosts, targets,
 *   callbacks (framework signals, custom ones, `instanceToggled` / `pluginToggled`), registered
 *   plugins and folders, the stop rule. Each publish without one gets a fresh default.
 * - Tools for custom runners and UIs: {@linkcode pluginPairs} (pyblish's Iterator),
 *   `collectIter`…`integrateIter`, `pluginsByFamily` / `pluginsByHost` / `pluginsByInstance` /
 *   `instancesByPlugin`, {@linkcode runAction}.
 *
 * @example A publish with a class-form collector, an object-form validator and a callback
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { CollectorOrder, type Context, ContextPlugin, definePlugin, publish, PublishHost, ValidatorOrder } from "./mod.ts";
 *
 * class CollectShot extends ContextPlugin {
 *   static order = CollectorOrder;
 *   process(context: Context) {
 *     const render = context.createInstance("sh010", { family: "render" });
 *     render.extend(["beauty.1001.exr", "beauty.1002.exr"]);
 *   }
 * }
 * const ValidateFrames = definePlugin({
 *   kind: "instance",
 *   name: "ValidateFrames",
 *   order: ValidatorOrder,
 *   families: ["render"],
 *   process(instance) {
 *     this.log.info("%s has %d frames", instance.name, instance.length);
 *     if (instance.length < 2) throw new Error(`'${instance.name}' has too few frames`);
 *   },
 * });
 * const host = new PublishHost({ env: {} });
 * const done: string[] = [];
 * host.registerCallback("pluginProcessed", ({ result }) => done.push(result.plugin.name));
 * const { results } = await publish({ plugins: [CollectShot, ValidateFrames], host });
 * ok(results.every((r) => r.success) && done.join() === "CollectShot,ValidateFrames");
 * ok(results[1]!.records[0]!.message === "sh010 has 2 frames");
 * ```
 *
 * @module
 */
export { Context, type Data, Instance } from "./context.ts";
export { discover, type DiscoverOptions, type Discovery, isPluginFile, type SkippedPlugin } from "./discover.ts";
export { type Callback, PublishHost, type PublishHostOptions, type SignalPayload, type Signals } from "./host.ts";
export { createLog, type LevelName, type LogRecord, type PluginLog, withRecords } from "./log.ts";
export {
  instancesByPlugin,
  pluginsByFamilies,
  pluginsByFamily,
  pluginsByHost,
  pluginsByInstance,
  pluginsByTargets,
} from "./lookup.ts";
export { type MatchAlgorithm, matchFamilies, matchTargets } from "./match.ts";
export { CollectorOrder, ExtractorOrder, inRange, IntegratorOrder, ValidatorOrder } from "./orders.ts";
export {
  Action,
  type ActionClass,
  type ActionOn,
  type ActionSelf,
  type ActionSpec,
  ContextPlugin,
  type ContextPluginSpec,
  definePlugin,
  InstancePlugin,
  type InstancePluginSpec,
  InvalidPluginError,
  isActionClass,
  isPluginClass,
  isResolvedPlugin,
  type Plugin,
  type PluginClass,
  type PluginClassFields,
  type PluginSelf,
  type PluginSpec,
  type PluginTools,
  type Resolved,
  type ResolvedAction,
  type ResolvedPlugin,
  resolvePlugin,
} from "./plugin.ts";
export {
  actionsFor,
  collect,
  collectIter,
  extract,
  extractIter,
  instancesFor,
  integrate,
  integrateIter,
  type PassState,
  type PluginInput,
  pluginPairs,
  type PluginPairsOptions,
  pluginsForTargets,
  processPair,
  type ProcessPairOptions,
  publish,
  type PublishEvents,
  publishIter,
  type PublishOptions,
  type Result,
  runAction,
  type RunActionOptions,
  sessionTargets,
  validate,
  validateIter,
} from "./run.ts";
export { stopAfterFailedValidation, type StopRule, type StopState } from "./stop_rule.ts";
export { buildReport, type PublishReport } from "./report.ts";
export {
  LocationSchema,
  parsePublishRequest,
  type PublishInstanceRequest,
  type PublishRequest,
  PublishRequestError,
  PublishRequestSchema,
  type SceneFacts,
  SceneFactsSchema,
} from "./request.ts";
export {
  parsePublishSettings,
  type PublishSettings,
  PublishSettingsSchema,
  type SceneSettings,
  SceneSettingsSchema,
  STRUCTURE_FIELDS,
} from "./settings.ts";
export { type PublishByteProgress, type PublishOutcome, runPublish, type RunPublishOptions } from "./run_publish.ts";
