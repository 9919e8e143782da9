import type { Context } from "./context.ts";
import type { PublishRequest } from "./request.ts";
import type { Result } from "./run.ts";

/** What a publish leaves behind for people and scripts. */
export interface PublishReport {
  ok: boolean;
  request: PublishRequest | undefined;
  started: string;
  finished: string;
  /** Milliseconds. */
  duration: number;
  /** Why it stopped early, when it did. */
  stopped: string | null;
  results: Array<{
    plugin: string;
    order: number;
    instance: string | null;
    success: boolean;
    error: { name: string; message: string; stack?: string } | null;
    duration: number;
    records: Array<{ level: string; message: string }>;
  }>;
  /** Tracker entities created or completed, per instance. */
  created: unknown[];
  /** Files and their fingerprints, per instance. */
  files: unknown[];
}

/** Builds the report of a finished publish. */
export function buildReport(options: {
  context: Context;
  results: readonly Result[];
  request: PublishRequest | undefined;
  started: Date;
  stopped: string | null;
}): PublishReport {
  const { context, results, request, started, stopped } = options;
  const finished = new Date();
  return {
    ok: stopped === null && results.every((result) => result.success),
    request,
    started: started.toISOString(),
    finished: finished.toISOString(),
    duration: finished.getTime() - started.getTime(),
    stopped,
    results: results.map((result) => ({
      plugin: result.plugin.name,
      order: result.plugin.order,
      instance: result.instance?.name ?? null,
      success: result.success,
      error: result.error,
      duration: Math.round(result.duration * 100) / 100,
      records: result.records.map(({ level, message }) => ({ level, message })),
    })),
    created: context.instances.map((instance) => ({
      instance: instance.name,
      ...(instance.data.created as object ?? {}),
    })),
    files: context.instances.map((instance) => ({ instance: instance.name, files: instance.data.fileReport ?? [] })),
  };
}
