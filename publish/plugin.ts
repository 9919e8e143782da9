import { z } from "zod";
import type { Context, Instance } from "./context.ts";
import type { PublishHost } from "./host.ts";
import { createLog, type PluginLog } from "./log.ts";
import type { MatchAlgorithm } from "./match.ts";

export { type LogRecord, type PluginLog } from "./log.ts";

/** What a plugin gets besides its subject: its logger, cancellation, and the host's signals. */
export interface PluginTools {
  /** The plugin's logger (the same as `this.log`); records go into the result. */
  log: PluginLog;
  /** Aborted when the publish is cancelled. */
  signal: AbortSignal;
  /** The registry this publish runs with (hosts, targets, callbacks). */
  host: PublishHost;
  /** Emits a signal on the host: a custom one, or one of the framework's (pyblish's `api.emit`). */
  emit(signal: string, payload?: Record<string, unknown>): void;
}

/** When an action is offered, judged from its plugin's results (pyblish's `on`). */
export type ActionOn = "all" | "notProcessed" | "processed" | "failed" | "warning" | "failedOrWarning" | "succeeded";

/** What `this` is inside an object-form action's `process`: a fresh object per run, with the action's fields and `log`. */
export type ActionSelf = ActionSpec & { readonly log: PluginLog; [key: string]: unknown };

/** Something a user can run on a plugin's results, e.g. a repair (object form; see {@linkcode Action} for the class form). */
export interface ActionSpec {
  name: string;
  label?: string;
  /** @default {"all"} */
  on?: ActionOn;
  /** A Font Awesome name or an image path, for UIs. */
  icon?: string;
  /** Gets the context and the plugin (pyblish's `process(self, context, plugin)`). */
  process(this: ActionSelf, context: Context, plugin: ResolvedPlugin, tools: PluginTools): void | Promise<void>;
}

const PLUGIN_BRAND = Symbol.for("ferry.publish.pluginClass");
const ACTION_BRAND = Symbol.for("ferry.publish.actionClass");
const RESOLVED = Symbol.for("ferry.publish.resolvedPlugin");

const logs = new WeakMap<object, PluginLog>();
function classLog(constructor: { name: string }): PluginLog {
  let log = logs.get(constructor);
  if (!log) logs.set(constructor, log = createLog(constructor.name));
  return log;
}

/**
 * Base class of class-form actions (pyblish's `Action`): `label`, `on` and `icon` are static
 * fields, the name is the class name, and a fresh object runs each time (`this.log` records into
 * the action's result).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Action, Context, definePlugin, type Instance, InstancePlugin, publish, runAction, ValidatorOrder } from "./mod.ts";
 *
 * class Repair extends Action {
 *   static label = "Repair";
 *   static on = "failed";
 *   static icon = "wrench";
 *   process(context: Context) {
 *     for (const instance of context) instance.data.ok = true;
 *     this.log.info("repaired %d instance(s)", context.length);
 *   }
 * }
 * class ValidateOk extends InstancePlugin {
 *   static order = ValidatorOrder;
 *   static actions = [Repair];
 *   process(instance: Instance) {
 *     if (!instance.data.ok) throw new Error(`'${instance.name}' is not ok`);
 *   }
 * }
 * const plugin = definePlugin(ValidateOk);
 * const context = new Context();
 * context.createInstance("sh010");
 * const { results } = await publish({ plugins: [plugin], context });
 * ok(!results[0]!.success);
 * const repaired = await runAction(plugin, plugin.actions[0]!, context);
 * ok(repaired.success && repaired.records[0]!.message === "repaired 1 instance(s)");
 * ok((await publish({ plugins: [plugin], context })).results[0]!.success);
 * ```
 */
export abstract class Action {
  static readonly [ACTION_BRAND] = true;
  /** The action's logger, named after its class. */
  get log(): PluginLog {
    return classLog(this.constructor);
  }
  abstract process(context: Context, plugin: ResolvedPlugin, tools: PluginTools): void | Promise<void>;
}

/** A class-form action (a subclass of {@linkcode Action}). */
export type ActionClass = (new () => Action) & {
  label?: string;
  /** One of {@linkcode ActionOn} (checked by definePlugin; a plain string here so `static on = "failed"` needs no `as const`). */
  on?: string;
  icon?: string;
};

/** An action as plugins hold it after {@linkcode definePlugin}: always the object form. */
export interface ResolvedAction extends ActionSpec {
  /** The class of a class-form action. */
  actionClass?: ActionClass;
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
  /** Actions: objects or {@linkcode Action} subclasses. */
  actions?: Array<ActionSpec | ActionClass>;
  /** Set by discovery: the file the plugin came from. */
  source?: string;
}

/**
 * What `this` is inside an object-form plugin's `process`: a fresh object per (plugin, instance)
 * pair whose prototype is the plugin, so `this.log`, `this.name`… read through and state a
 * plugin keeps on `this` never leaks into the next pair (pyblish makes a new plugin object per pair).
 */
export type PluginSelf = ResolvedPlugin & { [key: string]: unknown };

/** A plugin that runs once per publish on the context (object form). */
export interface ContextPluginSpec extends PluginFields {
  kind: "context";
  process(this: PluginSelf, context: Context, tools: PluginTools): void | Promise<void>;
}

/** A plugin that runs once per compatible instance (object form). */
export interface InstancePluginSpec extends PluginFields {
  kind: "instance";
  process(this: PluginSelf, instance: Instance, tools: PluginTools): void | Promise<void>;
}

/** Any object-form plugin. */
export type PluginSpec = ContextPluginSpec | InstancePluginSpec;
/** Any object-form plugin (the older name of {@linkcode PluginSpec}). */
export type Plugin = PluginSpec;

/** The static fields a class-form plugin may set (pyblish's class attributes). */
export interface PluginClassFields {
  order?: number;
  families?: string[];
  hosts?: string[];
  targets?: string[];
  /** One of {@linkcode MatchAlgorithm} (checked by definePlugin; a plain string so `static match = "subset"` needs no `as const`). */
  match?: string;
  active?: boolean;
  optional?: boolean;
  label?: string;
  actions?: Array<ActionSpec | ActionClass>;
}

/**
 * Base class of class-form plugins that run once on the context (pyblish's `ContextPlugin`).
 * Settings are static fields; a fresh object is made for each run, so fields set in `process`
 * never carry over. The plugin's name is the class name.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { CollectorOrder, type Context, ContextPlugin, publish } from "./mod.ts";
 *
 * class CollectModels extends ContextPlugin {
 *   static order = CollectorOrder;
 *   process(context: Context) {
 *     const instance = context.createInstance("propA", { family: "model" });
 *     instance.append("|propA|geo", "|propA|rig");
 *     this.log.info("found %d nodes", instance.length);
 *   }
 * }
 * const { context, results } = await publish({ plugins: [CollectModels] });
 * ok(context.at(0)!.at(1) === "|propA|rig" && results[0]!.records[0]!.message === "found 2 nodes");
 * ```
 */
export abstract class ContextPlugin {
  static readonly [PLUGIN_BRAND] = "context";
  /** The plugin's logger, named after its class; records go into the result being processed. */
  get log(): PluginLog {
    return classLog(this.constructor);
  }
  abstract process(context: Context, tools: PluginTools): void | Promise<void>;
}

/**
 * Base class of class-form plugins that run once per compatible instance (pyblish's
 * `InstancePlugin`); see {@linkcode ContextPlugin}.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Context, InstancePlugin, publish, ValidatorOrder, type Instance } from "./mod.ts";
 *
 * class ValidateCount extends InstancePlugin {
 *   static order = ValidatorOrder;
 *   static families = ["model"];
 *   seen = 0;
 *   process(instance: Instance) {
 *     this.seen += 1; // a fresh object per instance: always 1
 *     instance.data.seen = this.seen;
 *   }
 * }
 * const context = new Context();
 * context.createInstance("a", { family: "model" });
 * context.createInstance("b", { family: "model" });
 * await publish({ plugins: [ValidateCount], context });
 * ok([...context].every((instance) => instance.data.seen === 1));
 * ```
 */
export abstract class InstancePlugin {
  static readonly [PLUGIN_BRAND] = "instance";
  /** The plugin's logger, named after its class; records go into the result being processed. */
  get log(): PluginLog {
    return classLog(this.constructor);
  }
  abstract process(instance: Instance, tools: PluginTools): void | Promise<void>;
}

/** A class-form plugin: a subclass of {@linkcode ContextPlugin} or {@linkcode InstancePlugin}. */
export type PluginClass =
  & (
    | (abstract new () => ContextPlugin)
    | (abstract new () => InstancePlugin)
  )
  & PluginClassFields;

/** A plugin was defined wrongly; the message names the plugin and the field. */
export class InvalidPluginError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "InvalidPluginError";
  }
}

const ON = ["all", "notProcessed", "processed", "failed", "warning", "failedOrWarning", "succeeded"] as const;

const ActionSchema = z.object({
  name: z.string().min(1),
  label: z.string().optional(),
  on: z.enum(ON).optional(),
  icon: z.string().optional(),
  process: z.custom<ActionSpec["process"]>((value) => typeof value === "function", "must be a function"),
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
  actions: z.array(z.unknown()).optional(),
  source: z.string().optional(),
  process: z.custom<PluginSpec["process"]>((value) => typeof value === "function", "must be a function"),
});

type Defaulted = "order" | "families" | "hosts" | "targets" | "match" | "active" | "optional";

/** What definePlugin adds to every plugin. */
interface ResolvedExtras {
  /** The plugin's logger (pyblish's `cls.log`), usable outside `process`, e.g. in an action. */
  readonly log: PluginLog;
  /** Its actions, each in object form. @default {[]} */
  actions: ResolvedAction[];
  /** The class of a class-form plugin. */
  pluginClass?: PluginClass;
}

/** A plugin with its defaults filled in. */
export type Resolved<T extends PluginSpec> = T extends unknown
  ? Omit<T, "actions" | Defaulted> & Required<Pick<PluginFields, Defaulted>> & ResolvedExtras
  : never;

/** A plugin with its defaults filled in (what discovery returns and the publish runs). */
export type ResolvedPlugin = Resolved<PluginSpec>;

/** Whether a value is a class-form plugin (a subclass of ContextPlugin or InstancePlugin, not those two). */
export function isPluginClass(value: unknown): value is PluginClass {
  return typeof value === "function" && PLUGIN_BRAND in value && !Object.hasOwn(value, PLUGIN_BRAND);
}

/** Whether a value is a class-form action (a subclass of {@linkcode Action}). */
export function isActionClass(value: unknown): value is ActionClass {
  return typeof value === "function" && ACTION_BRAND in value && !Object.hasOwn(value, ACTION_BRAND);
}

/** Whether a value is a plugin that {@linkcode definePlugin} already resolved. */
export function isResolvedPlugin(value: unknown): value is ResolvedPlugin {
  return value !== null && typeof value === "object" && RESOLVED in value;
}

function problemsOf(error: z.ZodError): string {
  return error.issues.map((issue) => `'${issue.path.join(".")}' ${issue.message}`).join("; ");
}

function resolveAction(pluginName: string, action: unknown, index: number): ResolvedAction {
  if (isActionClass(action)) {
    const Class = action as ActionClass;
    const spec = { name: Class.name, label: Class.label, on: Class.on, icon: Class.icon };
    const parsed = ActionSchema.omit({ process: true }).safeParse(spec);
    if (!parsed.success) {
      throw new InvalidPluginError(
        `Plugin '${pluginName}' is invalid: action ${index} '${Class.name}': ${problemsOf(parsed.error)}`,
      );
    }
    return {
      ...Object.fromEntries(Object.entries(spec).filter(([, value]) => value !== undefined)) as { name: string },
      actionClass: Class,
      process(context, plugin, tools) {
        return new Class().process(context, plugin, tools);
      },
    };
  }
  const parsed = ActionSchema.safeParse(action);
  if (!parsed.success) {
    throw new InvalidPluginError(`Plugin '${pluginName}' is invalid: 'actions.${index}' ${problemsOf(parsed.error)}`);
  }
  return action as ResolvedAction;
}

const resolvedClasses = new WeakMap<object, ResolvedPlugin>();

function specOfClass(Class: PluginClass): PluginSpec {
  const kind = (Class as unknown as Record<symbol, "context" | "instance">)[PLUGIN_BRAND];
  const fields = Object.fromEntries(
    (["order", "families", "hosts", "targets", "match", "active", "optional", "label", "actions"] as const)
      .map((key) => [key, Class[key]])
      .filter(([, value]) => value !== undefined),
  );
  return {
    ...fields,
    kind,
    name: Class.name,
    log: classLog(Class),
    process(subject: never, tools: PluginTools) {
      const self = new (Class as unknown as new () => { process(subject: unknown, tools: PluginTools): unknown })();
      return self.process(subject, tools) as void | Promise<void>;
    },
  } as PluginSpec;
}

/**
 * Checks a plugin and fills its defaults; `InvalidPluginError` naming the plugin and every bad
 * field otherwise. A plugin is a plain object (`kind`, `name`, `process`…) or a subclass of
 * {@linkcode ContextPlugin} / {@linkcode InstancePlugin} whose static fields hold the settings
 * (the same class always gives the same resolved plugin). Actions may be objects or
 * {@linkcode Action} subclasses; they come out as objects.
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
 *     this.log.debug("checking %s", instance.name);
 *     if (!instance.data.frames) throw new Error(`'${instance.name}' has no frames`);
 *   },
 * });
 * ok(ValidateFrames.match === "intersection");
 * ```
 */
export function definePlugin<T extends PluginSpec>(plugin: T): Resolved<T>;
export function definePlugin(plugin: PluginClass): ResolvedPlugin;
export function definePlugin(plugin: PluginSpec | PluginClass): ResolvedPlugin {
  if (isPluginClass(plugin)) {
    const known = resolvedClasses.get(plugin);
    if (known) return known;
    const resolved = { ...definePlugin(specOfClass(plugin)), pluginClass: plugin } as ResolvedPlugin;
    resolvedClasses.set(plugin, resolved);
    return resolved;
  }
  const result = PluginSchema.safeParse(plugin);
  if (!result.success) {
    const name = typeof (plugin as { name?: unknown })?.name === "string"
      ? (plugin as { name: string }).name
      : "(unnamed)";
    throw new InvalidPluginError(`Plugin '${name}' is invalid: ${problemsOf(result.error)}`);
  }
  const spec = plugin as PluginSpec;
  const resolved = {
    ...spec,
    order: spec.order ?? -1,
    families: spec.families ?? ["*"],
    hosts: spec.hosts ?? ["*"],
    targets: spec.targets ?? ["default"],
    match: spec.match ?? "intersection",
    active: spec.active ?? true,
    optional: spec.optional ?? false,
    log: (spec as { log?: PluginLog }).log ?? createLog(spec.name),
    [RESOLVED]: true,
  } as unknown as ResolvedPlugin;
  resolved.actions = (spec.actions ?? []).map((action, index) => resolveAction(spec.name, action, index));
  return resolved;
}

/** The resolved form of any plugin input: a resolved plugin as it is, a spec or class through {@linkcode definePlugin}. */
export function resolvePlugin(plugin: ResolvedPlugin | PluginSpec | PluginClass): ResolvedPlugin {
  return isResolvedPlugin(plugin) ? plugin : definePlugin(plugin as PluginSpec);
}

/** Whether a value looks like a plugin (for discovery): a plugin object or a plugin class. */
export function isPluginLike(value: unknown): value is PluginSpec | PluginClass {
  if (isPluginClass(value)) return true;
  return value !== null && typeof value === "object" && "kind" in value && "process" in value && "name" in value;
}
