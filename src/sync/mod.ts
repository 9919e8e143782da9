/**
 * Tracker → pipeline sync, shared by the processor's sync handlers and `deno task sync`: a full
 * sync of a project, an incremental sync of one `ftrack.update` event, and the auto-sync projects
 * a reconciliation syncs.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mergeNames } from "./mod.ts";
 *
 * ok(mergeNames(["In progress"], ["in Progress", "Approved"]).join() === "In progress,Approved");
 * ```
 *
 * @module
 */
export {
  autoSyncOn,
  autoSyncProjects,
  fullSync,
  mergeUsers,
  parentsFirst,
  type SyncOptions,
  syncTrackerUpdate,
} from "./sync_from_tracker.ts";
export {
  emptyReport,
  mergeNames,
  ProjectSync,
  REPORT_SECTIONS,
  reportChanged,
  reportSummary,
  type SectionReport,
  type SkippedItem,
  type SyncReport,
} from "./project_sync.ts";
export { PipelineIndex } from "./pipeline_index.ts";
export {
  type AttributeConfiguration,
  type AttributeSources,
  type AttributeTarget,
  configurationFor,
  mappedAttributes,
  mappedValue,
  mappingApplies,
  VERSION_OBJECT_TYPE,
  versionAttributes,
  versionConfigurationFor,
  versionMappingApplies,
} from "./attribute_mapping.ts";
export {
  type AttributeMapping,
  AttributeMappingSchema,
  DEFAULT_ATTRIBUTE_MAPPING,
  parseSyncSettings,
  SYNC_SETTINGS_KEY,
  type SyncSettings,
  syncSettingsOf,
  SyncSettingsSchema,
} from "./sync_settings.ts";
export {
  readAttributeConfigurations,
  readTrackerNodes,
  readTrackerProject,
  type TrackerNode,
  type TrackerProject,
} from "./tracker_project.ts";
export { type UpdateScope, updateScope } from "./update_scope.ts";
export { syncUsers, usernameOf, type UserSyncOptions, type UserSyncReport } from "./user_sync.ts";
export { versionName, VersionSync } from "./version_sync.ts";
export { linksOf, type PipelineLink, readLinksTo, readProjectLinks, syncLinks, type TrackerLink } from "./link_sync.ts";
export { pipelineIdOf } from "./pipeline_id.ts";
export { readTrackerLists, removeLists, syncLists, type TrackerList } from "./list_sync.ts";
