/**
 * What ferry's publish plugins share through the context: set by the runner (request, session,
 * settings, progress) or by collectors (the tracker context). Typed accessors fail with a clear
 * message when a piece is missing. Private to the plugins folder (discovery skips `_` files).
 */
import type { Session } from "@ftrack/api";
import type { Context, Instance } from "../publish/context.ts";
import type { PublishRequest } from "../publish/request.ts";
import type { PublishSettings } from "../publish/settings.ts";
import type { FoundFile, FoundSequence } from "../src/files/scan_files.ts";
import type { ResolvedContext } from "../src/tracker/resolve_context.ts";

/** Byte progress of long steps (hashing, uploading). */
export interface ByteProgress {
  /** More bytes are expected. */
  expect(bytes: number): void;
  /** Bytes done. */
  done(bytes: number): void;
}

/** The runner's inputs, on `context.data`. */
export interface RunnerData {
  request: PublishRequest;
  session: Session;
  settings: PublishSettings;
  progress?: ByteProgress;
}

function need<T>(value: unknown, what: string): T {
  if (value === undefined || value === null) {
    throw new Error(`The publish has no ${what}: run it through ferry's publish runner`);
  }
  return value as T;
}

export const requestOf = (context: Context): PublishRequest => need(context.data.request, "request");
export const sessionOf = (context: Context): Session => need(context.data.session, "tracker session");
export const settingsOf = (context: Context): PublishSettings => need(context.data.settings, "settings");
export const progressOf = (context: Context): ByteProgress =>
  (context.data.progress as ByteProgress | undefined) ?? { expect() {}, done() {} };

/** The tracker context resolved by CollectTrackerContext, or the reason it could not be. */
export function trackerOf(context: Context): ResolvedContext {
  if (context.data.tracker) return context.data.tracker as ResolvedContext;
  const reason = context.data.trackerError ? `: ${context.data.trackerError}` : "";
  throw new Error(`The tracker context was not resolved${reason}`);
}

/** What a file instance publishes: the sequences and single files found from its paths. */
export const itemsOf = (instance: Instance): Array<FoundSequence | FoundFile> =>
  (instance.data.items as Array<FoundSequence | FoundFile>) ?? [];

/** Review media made by ExtractReview. */
export interface ReviewMedia {
  movie?: { path: string; meta: Record<string, unknown> };
  image?: { path: string };
}
