import { z } from "zod";
import type { Context, Instance } from "./context.ts";
import type { MatchAlgorithm } from "./match.ts";

/** A log record a plugin produced while it ran. */
export interface LogRecord {
  level: "debug" | "info" | "warning" | "error";
  message: string;
  time: string;
}

/** What a plugin gets besides its subject: a logger that records into its result, and cancellation. */
export interface PluginTools {
  log: {
    debug(message: string): void;
    info(message: string): void;
    warning(message: string): void;
    error(message: string): void;
  };
  /** Aborted when the publish is cancelled. */
  signal: AbortSignal;
}

/** When an action is offered, judged from its plugin's results (pyblish's `on`). */
export type ActionOn = "all" | "notProcessed" | "processed" | "failed" | "warning" | "failedOrWarning" | "succeeded";

/** Something a user can run on a plugin's results, e.g. a repair. */
export interface Action {
  name: string;
  label?: string;
  /** @default {"all"} */
  on?: ActionOn;
  /** A Font Awesome name or an image path, for UIs. */
  icon?: string;
  process(context: Context, plugin: Plugin, tools: PluginTools): void | Promise<void>;
}

interface PluginFields {
  /** Unique name; the first plugin of a name wins at discovery. */
  name: string;
  /** Sort key: 0 collect, 1 validate, 2 extract, 3 integrate; fractions are routine. @default {-1} */
  order?: number;
  /** Families it handles (instance plugins); `"*"` for every one. @default {["*"]} */
  families?: string[];
  /** Hosts it loads in; `"*"` for every one. @default {["*"]} */
  hosts?: string[];
  /** Targets it runs for. @default {["default"]} */
  targets?: string[];
  /** @default {"intersection"} */
  match?: MatchAlgorithm;
  /** Inactive plugins are skipped by the publish (not by discovery). @default {true} */
  active?: boolean;
  /** Whether a user may switch it off (for UIs; no effect on the run). @default {false} */
  optional?: boolean;
  label?: string;
  actions?: Action[];
  /** Set by discovery: the file the plugin came from. */
  source?: string;
}

/** A plugin that runs once per publish on the context. */
export interface ContextPlugin extends PluginFields {
  kind: "context";
  process(context: Context, tools: PluginTools): void | Promise<void>;
}

/** A plugin that runs once per compatible instance. */
export interface InstancePlugin extends PluginFields {
  kind: "instance";
  process(instance: Instance, tools: PluginTools): void | Promise<void>;
}

/** Any plugin. */
export type Plugin = ContextPlugin | InstancePlugin;

/** A plugin was defined wrongly; the message names the plugin and the field. */
export class InvalidPluginError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "InvalidPluginError";
  }
}

const ActionSchema = z.object({
  name: z.string().min(1),
  label: z.string().optional(),
  on: z.enum(["all", "notProcessed", "processed", "failed", "warning", "failedOrWarning", "succeeded"]).optional(),
  icon: z.string().optional(),
  process: z.custom<Action["process"]>((value) => typeof value === "function", "must be a function"),
});

const PluginSchema = z.object({
  kind: z.enum(["context", "instance"]),
  name: z.string().min(1),
  order: z.number().finite().optional(),
  families: z.array(z.string()).optional(),
  hosts: z.array(z.string()).optional(),
  targets: z.array(z.string()).optional(),
  match: z.enum(["intersection", "subset", "exact"]).optional(),
  active: z.boolean().optional(),
  optional: z.boolean().optional(),
  label: z.string().optional(),
  actions: z.array(ActionSchema).optional(),
  source: z.string().optional(),
  process: z.custom<Plugin["process"]>((value) => typeof value === "function", "must be a function"),
});

/**
 * Checks a plugin object and fills its defaults; `InvalidPluginError` naming the plugin and every
 * bad field otherwise. Plugins are plain objects: no base classes to inherit from.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { definePlugin } from "./plugin.ts";
 * import { ValidatorOrder } from "./orders.ts";
 *
 * export const ValidateFrames = definePlugin({
 *   kind: "instance",
 *   name: "ValidateFrames",
 *   order: ValidatorOrder,
 *   families: ["render"],
 *   process(instance) {
 *     if (!instance.data.frames) throw new Error(`'${instance.name}' has no frames`);
 *   },
 * });
 * ok(ValidateFrames.match === "intersection");
 * ```
 */
export function definePlugin<T extends Plugin>(
  plugin: T,
): T & Required<Pick<PluginFields, "order" | "families" | "hosts" | "targets" | "match" | "active" | "optional">> {
  const result = PluginSchema.safeParse(plugin);
  if (!result.success) {
    const name = typeof (plugin as { name?: unknown })?.name === "string"
      ? (plugin as { name: string }).name
      : "(unnamed)";
    const problems = result.error.issues.map((issue) => `'${issue.path.join(".")}' ${issue.message}`).join("; ");
    throw new InvalidPluginError(`Plugin '${name}' is invalid: ${problems}`);
  }
  return {
    ...plugin,
    order: plugin.order ?? -1,
    families: plugin.families ?? ["*"],
    hosts: plugin.hosts ?? ["*"],
    targets: plugin.targets ?? ["default"],
    match: plugin.match ?? "intersection",
    active: plugin.active ?? true,
    optional: plugin.optional ?? false,
  };
}

/** A plugin with its defaults filled in. */
export type ResolvedPlugin = ReturnType<typeof definePlugin<Plugin>>;

/** Whether a value looks like a plugin object (for discovery). */
export function isPluginLike(value: unknown): value is Plugin {
  return value !== null && typeof value === "object" && "kind" in value && "process" in value && "name" in value;
}
