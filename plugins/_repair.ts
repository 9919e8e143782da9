/**
 * Repairs as data. In ferry the plugins run in the bridge, not in the DCC, so a validator cannot
 * fix the scene itself: its repair says what to change (`{ set: { frameStart: 1001, fps: 24 } }`)
 * and the host applies what it understands. A validator that can be repaired has a
 * `repair(instance)` method returning the changes (pyblish's `plugin.repair(instance)`) and the
 * {@linkcode repairAction} among its actions; the bridge hands the changes back with each failed
 * result (`Job.results[i].repairs`). Private to the plugins folder (discovery skips `_` files).
 *
 * @module
 */
import { z } from "zod";
import type { Context, Instance } from "../publish/context.ts";
import type { ActionSpec, ResolvedPlugin } from "../publish/plugin.ts";
import type { Result } from "../publish/run.ts";

/**
 * The changes a repair asks the host to make: `set` gives scene facts their values (the keys of
 * publish/request.ts `SceneFactsSchema`, nested ones dotted: `colorManagement.viewTransform`);
 * `save: true` saves the scene file. A host applies the keys it understands and shows the rest.
 */
export const RepairChangesSchema = z.object({
  /** One line for the repair button. */
  label: z.string().min(1).optional(),
  set: z.record(z.string(), z.unknown()).optional(),
  save: z.boolean().optional(),
});

/** The changes a plugin's `repair(instance)` returns. */
export type RepairChanges = z.infer<typeof RepairChangesSchema>;

/** A repair as a failed result carries it: which action proposed it, its label and its changes. */
export interface Repair extends RepairChanges {
  action: string;
  label: string;
}

/** A validator that can say how to repair an instance. */
export interface Repairable {
  repair(instance: Instance): RepairChanges | null | undefined;
}

/** An action that proposes changes for an instance instead of making them (see {@linkcode repairAction}). */
export interface ProposingAction extends ActionSpec {
  changes(instance: Instance, plugin: ResolvedPlugin): RepairChanges | null;
}

function isRepairable(plugin: unknown): plugin is Repairable {
  return typeof (plugin as Partial<Repairable>)?.repair === "function";
}

function isProposing(action: unknown): action is ProposingAction {
  return typeof (action as Partial<ProposingAction>)?.changes === "function";
}

/** The instances a plugin failed on in this publish (pyblish's `get_errored_instances_from_context`). */
export function erroredInstances(context: Context, plugin: ResolvedPlugin): Instance[] {
  const results = (context.data.results as Result[] | undefined) ?? [];
  return results.filter((result) =>
    result.plugin.name === plugin.name && result.action === null && !result.success && result.instance !== null
  ).map((result) => result.instance!);
}

/**
 * The repair action of a repairable validator (shown when it failed). `changes(instance, plugin)`
 * asks the plugin's `repair(instance)`; run as a pyblish action (`runAction`), it logs the changes
 * for every instance the plugin failed on and keeps them in `context.data.repairs`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Context } from "../publish/context.ts";
 * import { definePlugin } from "../publish/plugin.ts";
 * import { publish, runAction } from "../publish/run.ts";
 * import { repairAction, repairsFor } from "./_repair.ts";
 *
 * const ValidateFps = definePlugin({
 *   kind: "instance",
 *   name: "ValidateFps",
 *   order: 1,
 *   actions: [repairAction()],
 *   repair: () => ({ set: { fps: 24 } }),
 *   process(instance) {
 *     if (instance.data.fps !== 24) throw new Error(`fps is ${instance.data.fps}, expected 24`);
 *   },
 * });
 * const context = new Context();
 * context.createInstance("layout", { fps: 30 });
 * const { results } = await publish({ plugins: [ValidateFps], context });
 * ok(repairsFor(results[0]!)[0]!.set!.fps === 24);
 * const run = await runAction(ValidateFps, ValidateFps.actions[0]!, context);
 * ok(run.records[0]!.message === "layout: set fps = 24");
 * ```
 */
export function repairAction(options: { label?: string } = {}): ProposingAction {
  const label = options.label ?? "Repair";
  const changes = (instance: Instance, plugin: ResolvedPlugin): RepairChanges | null => {
    if (!isRepairable(plugin)) return null;
    const proposed = plugin.repair(instance);
    if (!proposed) return null;
    const parsed = RepairChangesSchema.safeParse(proposed);
    if (!parsed.success) {
      throw new TypeError(
        `Plugin '${plugin.name}' proposed an invalid repair ${JSON.stringify(proposed)}: ${parsed.error.message}`,
      );
    }
    return parsed.data;
  };
  return {
    name: "Repair",
    label,
    on: "failed",
    icon: "wrench",
    changes,
    process(context, plugin) {
      const kept = (context.data.repairs ??= []) as Array<Repair & { plugin: string; instance: string }>;
      for (const instance of erroredInstances(context, plugin)) {
        const proposed = changes(instance, plugin);
        if (!proposed) continue;
        const shown = [
          ...Object.entries(proposed.set ?? {}).map(([key, value]) => `set ${key} = ${JSON.stringify(value)}`),
          ...(proposed.save ? ["save the scene"] : []),
        ];
        this.log.info("%s: %s", instance.name, shown.join(", "));
        kept.push({ plugin: plugin.name, instance: instance.name, action: "Repair", label, ...proposed });
      }
    },
  };
}

/**
 * The repairs proposed for a failed instance result: one per action of its plugin that proposes
 * changes and is offered on failure. Empty for a success, a context result, or a plugin without
 * such actions; a proposal that throws is left out (its error is logged on the console).
 */
export function repairsFor(result: Result): Repair[] {
  if (result.success || result.instance === null || result.action !== null) return [];
  const repairs: Repair[] = [];
  for (const action of result.plugin.actions ?? []) {
    if (!isProposing(action)) continue;
    if (!["failed", "failedOrWarning", "all", undefined].includes(action.on)) continue;
    try {
      const changes = action.changes(result.instance, result.plugin);
      if (changes) {
        repairs.push({ ...changes, action: action.name, label: changes.label ?? action.label ?? action.name });
      }
    } catch (error) {
      console.error(`repair of '${result.plugin.name}' on '${result.instance.name}' failed:`, error);
    }
  }
  return repairs;
}
