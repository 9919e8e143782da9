/**
 * ferry's pyblish-style publish framework: plugins as plain objects run in the order collect →
 * validate → extract → integrate, on a Context and its Instances, with pyblish's matching, stop
 * rule, results and events.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { CollectorOrder, definePlugin, publish, ValidatorOrder } from "./mod.ts";
 *
 * const plugins = [
 *   definePlugin({ kind: "context", name: "CollectShot", order: CollectorOrder, process(c) { c.createInstance("sh010", { family: "render" }); } }),
 *   definePlugin({ kind: "instance", name: "ValidateName", order: ValidatorOrder, families: ["render"], process() {} }),
 * ];
 * const { results } = await publish({ plugins });
 * ok(results.length === 2 && results.every((r) => r.success));
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
} from "./request.ts";
export { parsePublishSettings, type PublishSettings, PublishSettingsSchema, STRUCTURE_FIELDS } from "./settings.ts";
export { type PublishByteProgress, type PublishOutcome, runPublish, type RunPublishOptions } from "./run_publish.ts";
