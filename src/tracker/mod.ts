/**
 * Tracker access on top of the official `@ftrack/api` client: credentials from the environment,
 * sessions, context paths, and uploads that fingerprint while they send.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { trackerFromEnv } from "./mod.ts";
 *
 * ok(trackerFromEnv({}) === undefined);
 * ```
 *
 * @module
 */
export { cachedQuery, type CachedQueryOptions, trackerCacheOf, useTrackerCache } from "./cached_query.ts";
export { closestNames } from "./closest_names.ts";
export { openSession, type OpenSessionOptions, sessionTimeout } from "./open_session.ts";
export { TrackerConnectionError, type TrackerProblem } from "./tracker_connection_error.ts";
export { ContextNotFoundError, type Entity, resolveContext, type ResolvedContext } from "./resolve_context.ts";
export { offersContentReuse, type ReuseCandidate, reuseContent } from "./reuse_content.ts";
export { type TrackerCredentials, trackerFromEnv } from "./tracker_credentials.ts";
export { uploadFiles, type UploadFilesItem, type UploadFilesOptions, type UploadOutcome } from "./upload_files.ts";
export {
  type CacheStats,
  type CacheTags,
  type HubLike,
  TrackerCache,
  type TrackerCacheOptions,
  typeGroup,
} from "./tracker_cache.ts";
export {
  SHA1_HEADER,
  type UploadedFile,
  UploadError,
  uploadFile,
  type UploadFileOptions,
  type UploadTarget,
  uploadTargets,
} from "./upload_file.ts";
