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
export { type MatchAlgorithm, matchFamilies, matchTargets } from "./match.ts";
export { CollectorOrder, ExtractorOrder, inRange, IntegratorOrder, ValidatorOrder } from "./orders.ts";
export {
  type Action,
  type ActionOn,
  type ContextPlugin,
  definePlugin,
  type InstancePlugin,
  InvalidPluginError,
  type LogRecord,
  type Plugin,
  type PluginTools,
  type ResolvedPlugin,
} from "./plugin.ts";
export {
  actionsFor,
  collect,
  extract,
  instancesFor,
  integrate,
  processPair,
  publish,
  type PublishEvents,
  publishIter,
  type PublishOptions,
  type Result,
  runAction,
  stopAfterFailedValidation,
  type StopRule,
  validate,
} from "./run.ts";
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
