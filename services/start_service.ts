/**
 * What the event services (leecher, processor, transmitter) do first: flags, `--help`, the variant
 * and store, the logger, and unhandled rejections logged instead of ending the process.
 *
 * @module
 */
import type { ParseArgsConfig } from "node:util";
import type { z } from "zod";
import { readCommandFlags } from "../src/cli/read_command_flags.ts";
import { type ServiceConfig, serviceConfig } from "../src/cli/service_config.ts";
import { createLogger, type Logger, type LogLevel } from "../src/cli/service_log.ts";
import { ferryHome } from "../src/config/ferry_home.ts";
import { EXIT } from "../src/cli/exit_codes.ts";
import { openStore } from "../src/store/open_store.ts";
import type { PipelineStore } from "../src/store/pipeline_store.ts";
import { connectWithRetry } from "./connect_with_retry.ts";
import { connectTracker, type TrackerConnection } from "./tracker/connect_tracker.ts";

/** The flags every event service takes. */
export interface ServiceFlags {
  store?: string;
  variant?: string;
  "log-level": LogLevel;
  "json-log": boolean;
  help: boolean;
}

/** Options of {@linkcode startService}. */
export interface StartServiceOptions<S extends z.ZodType<ServiceFlags>> {
  /** The service's name in log lines, e.g. `processor`. */
  name: string;
  args: string[];
  /** `parseArgs` options of the service's own flags (the common ones are added). */
  options: NonNullable<ParseArgsConfig["options"]>;
  schema: S;
  usage: string;
}

/** A service ready to run, or the exit code to end with (after `--help` or a usage error). */
export type ServiceStart<F> = { exit: number } | { flags: F; config: ServiceConfig; log: Logger };

/**
 * Parses a service's flags (printing the usage for `--help`, and with the error for a usage
 * error), resolves its variant and store, and makes its logger; from then on an unhandled
 * rejection is logged as a warning instead of ending the service.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { z } from "zod";
 * import { startService } from "./start_service.ts";
 *
 * const schema = z.object({
 *   store: z.string().optional(),
 *   variant: z.string().optional(),
 *   "log-level": z.enum(["debug", "info", "warn", "error"]).default("info"),
 *   "json-log": z.boolean().default(false),
 *   help: z.boolean().default(false),
 * });
 * const start = startService({ name: "example", args: ["--bogus"], options: {}, schema, usage: "Usage: example" });
 * ok("exit" in start && start.exit === 2);
 * ```
 */
export function startService<S extends z.ZodType<ServiceFlags>>(
  options: StartServiceOptions<S>,
): ServiceStart<z.infer<S>> {
  const { name, args, schema, usage } = options;
  let config: ServiceConfig | undefined;
  const read = readCommandFlags(args, {
    name,
    options: {
      ...options.options,
      store: { type: "string" },
      variant: { type: "string" },
      "log-level": { type: "string" },
      "json-log": { type: "boolean" },
    },
    schema,
    usage,
    check: ({ flags }) => {
      config = serviceConfig({
        variant: flags.variant,
        store: flags.store,
        env: Deno.env.toObject(),
        home: ferryHome(),
      });
    },
  });
  if ("exit" in read) return read;
  const flags = read.flags;
  const log = createLogger({ name, level: flags["log-level"], json: flags["json-log"] });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.warn("unhandled rejection", { error: String((event.reason as Error)?.message ?? event.reason) });
  });
  return { flags, config: config!, log };
}

/**
 * A set-up step's failure marked as a configuration or environment problem (exit code 3, see
 * `exitCodeOf`).
 */
export function asEnvironmentProblem<T>(promise: Promise<T>): Promise<T> {
  return promise.catch((error) => {
    throw Object.assign(error, { exitCode: EXIT.ENVIRONMENT });
  });
}

/** The service's pipeline store, opened from its configuration; failing with exit code 3. */
export function openServiceStore(config: ServiceConfig): Promise<PipelineStore> {
  return asEnvironmentProblem(openStore(config.store));
}

/**
 * The service's tracker (`FTRACK_*`, else the embedded one): a tracker that is down is waited for
 * with backoff, each attempt logged; refused credentials fail at once with exit code 3. Undefined
 * when `signal` stops the service before the tracker answers.
 */
export function reachTracker(options: { log: Logger; signal: AbortSignal }): Promise<TrackerConnection | undefined> {
  return asEnvironmentProblem(connectWithRetry({ connect: () => connectTracker(), ...options }));
}
