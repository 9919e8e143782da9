/**
 * The store was written by a newer ferry than this one: its schema version is above what this
 * version knows. Carries both versions.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { StoreVersionError } from "./store_version_error.ts";
 *
 * const error = new StoreVersionError("/srv/ferry/store.db", 9, 3);
 * ok(error.message.includes("written by a newer ferry (schema version 9; this ferry knows up to 3)"));
 * ```
 */
export class StoreVersionError extends Error {
  /** The store's schema version. */
  readonly storeVersion: number;
  /** The newest schema version this ferry knows. */
  readonly knownVersion: number;

  constructor(location: string, storeVersion: number, knownVersion: number) {
    super(
      `Cannot open the pipeline store at '${location}': it was written by a newer ferry (schema version ${storeVersion}; this ferry knows up to ${knownVersion}). Upgrade ferry on this machine.`,
    );
    this.name = "StoreVersionError";
    this.storeVersion = storeVersion;
    this.knownVersion = knownVersion;
  }
}
