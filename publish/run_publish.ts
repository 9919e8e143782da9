import { rm } from "node:fs/promises";
import type { Session } from "@ftrack/api";
import { Context } from "./context.ts";
import type { PublishHost } from "./host.ts";
import type { ResolvedPlugin } from "./plugin.ts";
import { buildReport, type PublishReport } from "./report.ts";
import type { PublishRequest } from "./request.ts";
import { publish, type PublishEvents, type Result } from "./run.ts";
import { parsePublishSettings, type PublishSettings } from "./settings.ts";

/** Byte progress of hashing and transfers, for progress bars. */
export interface PublishByteProgress {
  expect(bytes: number): void;
  done(bytes: number): void;
}

/** Options of {@linkcode runPublish}. */
export interface RunPublishOptions {
  request: PublishRequest;
  /** A session on the tracker (a real ftrack site or the embedded tracker). */
  session: Session;
  /** The plugins to run (usually from `discover()`). */
  plugins: readonly ResolvedPlugin[];
  /** @default {parsePublishSettings({})} */
  settings?: PublishSettings;
  /** Collect and validate only (orders below 1.5). @default {false} */
  dryRun?: boolean;
  progress?: PublishByteProgress;
  events?: PublishEvents;
  targets?: readonly string[];
  signal?: AbortSignal;
  /** Registries and callbacks (hosts, targets, stop rule, toggles). @default {a new PublishHost()} */
  host?: PublishHost;
}

/** A finished publish. */
export interface PublishOutcome {
  context: Context;
  results: Result[];
  report: PublishReport;
}

/**
 * Runs a publish request through the plugins: the request, session, settings and progress go on
 * the context for the plugins; a dry run stops before extraction; temporary files plugins register
 * in `context.data.temporary` are removed at the end. The report says whether it published.
 */
export async function runPublish(options: RunPublishOptions): Promise<PublishOutcome> {
  const { request, session, dryRun = false, signal } = options;
  const settings = options.settings ?? parsePublishSettings({});
  const started = new Date();
  const context = new Context();
  Object.assign(context.data, {
    request,
    session,
    settings,
    progress: options.progress,
    temporary: [] as string[],
    dryRun,
  });
  const plugins = dryRun ? options.plugins.filter((plugin) => plugin.order < 1.5) : options.plugins;
  let stopped: string | null = null;
  try {
    const { results } = await publish({
      plugins,
      context,
      targets: options.targets,
      signal,
      host: options.host,
      events: { ...options.events, stopped: (reason) => (stopped = reason, options.events?.stopped?.(reason)) },
    });
    return { context, results, report: buildReport({ context, results, request, started, stopped }) };
  } finally {
    for (const path of context.data.temporary as string[]) await rm(path, { recursive: true, force: true });
  }
}
