/**
 * What the scene validators share: the facts a host sent (per instance, over the context's), the
 * tracker context's attributes, and {@linkcode sceneValidator}, which turns a list of checks into
 * a validator whose message names every expected and found value and whose repair sets them.
 * Private to the plugins folder (discovery skips `_` files).
 *
 * @module
 */
import type { Context, Instance } from "../publish/context.ts";
import { definePlugin, type InstancePluginSpec, type Resolved } from "../publish/plugin.ts";
import type { SceneFacts } from "../publish/request.ts";
import type { PublishSettings } from "../publish/settings.ts";
import { settingsOf } from "./_contract.ts";
import { repairAction, type RepairChanges } from "./_repair.ts";

/** The tracker context's custom attributes (key → value), collected by CollectSceneFacts. */
export interface TrackerAttributes {
  /** Where they come from, for messages: `shot 'sh010'`. */
  source: string;
  values: Record<string, unknown>;
}

/** The scene facts of an instance: its own over the context's (collected by CollectSceneFacts). */
export const sceneFactsOf = (instance: Instance): SceneFacts => (instance.data.scene as SceneFacts | undefined) ?? {};

/** The tracker attributes collected for the publish, if any. */
export const trackerAttributesOf = (context: Context): TrackerAttributes | undefined =>
  context.data.trackerAttributes as TrackerAttributes | undefined;

/** One difference between the scene and what is expected. */
export interface Mismatch {
  /** What differs, as people say it: `frame start`. */
  what: string;
  expected: unknown;
  found: unknown;
  /** Where the expected value comes from: `shot 'sh010'`, `settings scene.allowedCameras`. */
  source: string;
  /** The fact to set to repair it (`frameStart`), when a value can be set. */
  set?: { key: string; value: unknown };
  /** Saving the scene repairs it. */
  save?: boolean;
}

/** What a check sees. */
export interface SceneCheckInput {
  facts: SceneFacts;
  instance: Instance;
  settings: PublishSettings;
  tracker: TrackerAttributes | undefined;
}

/** A check's answer: skipped (with the reason), or the mismatches it found (none: passed). */
export type SceneCheckOutcome = { skipped: string } | { mismatches: Mismatch[] };

const shown = (value: unknown): string =>
  value === null || value === undefined ? "none" : typeof value === "string" ? `'${value}'` : String(value);

/** A tracker attribute as a number, or undefined when it is not set. */
export function attributeNumber(tracker: TrackerAttributes | undefined, key: string): number | undefined {
  const value = tracker?.values[key];
  if (value === null || value === undefined || value === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * Compares numeric facts with tracker attributes of the same keys: a fact or attribute that is
 * missing is not compared; `skipped` when nothing could be.
 */
export function compareWithTracker(
  input: SceneCheckInput,
  fields: Array<{ key: keyof SceneFacts & string; what: string; tolerance?: number }>,
): SceneCheckOutcome {
  if (!input.tracker) return { skipped: "the tracker context's attributes are unknown" };
  const facts = input.facts as Record<string, unknown>;
  const sent = fields.filter((field) => typeof facts[field.key] === "number");
  if (sent.length === 0) return { skipped: `the host sent no ${fields.map((field) => field.key).join(", ")}` };
  const mismatches: Mismatch[] = [];
  let compared = 0;
  for (const field of sent) {
    const expected = attributeNumber(input.tracker, field.key);
    if (expected === undefined) continue;
    compared++;
    const found = facts[field.key] as number;
    if (Math.abs(found - expected) > (field.tolerance ?? 0)) {
      mismatches.push({
        what: field.what,
        expected,
        found,
        source: input.tracker.source,
        set: { key: field.key, value: expected },
      });
    }
  }
  if (compared === 0) return { skipped: `${input.tracker.source} has no ${sent.map((field) => field.key).join(", ")}` };
  return { mismatches };
}

/** Options of {@linkcode sceneValidator}. */
export interface SceneValidatorOptions {
  name: string;
  label: string;
  order: number;
  /** The repair button's label; without one the validator has no Repair action (nothing it could set). */
  repairLabel?: string;
  check(input: SceneCheckInput): SceneCheckOutcome;
}

function inputOf(instance: Instance): SceneCheckInput {
  return {
    facts: sceneFactsOf(instance),
    instance,
    settings: settingsOf(instance.context),
    tracker: trackerAttributesOf(instance.context),
  };
}

/**
 * An instance validator of scene facts: skipped (an info record says why) when the host sent no
 * fact for it; else it fails naming, for each difference, what was expected, from where, and what
 * the scene has. Its `repair(instance)` returns the changes that fix what can be set, and its
 * Repair action hands them to the bridge.
 */
export function sceneValidator(
  options: SceneValidatorOptions,
): Resolved<InstancePluginSpec & { repair(instance: Instance): RepairChanges | null }> {
  const { check } = options;
  return definePlugin({
    kind: "instance",
    name: options.name,
    label: options.label,
    order: options.order,
    actions: options.repairLabel ? [repairAction({ label: options.repairLabel })] : [],
    repair(instance: Instance): RepairChanges | null {
      const outcome = check(inputOf(instance));
      if ("skipped" in outcome) return null;
      const set = Object.fromEntries(
        outcome.mismatches.flatMap((mismatch) => mismatch.set ? [[mismatch.set.key, mismatch.set.value]] : []),
      );
      const save = outcome.mismatches.some((mismatch) => mismatch.save);
      if (Object.keys(set).length === 0 && !save) return null;
      return {
        ...(options.repairLabel ? { label: options.repairLabel } : {}),
        ...(Object.keys(set).length > 0 ? { set } : {}),
        ...(save ? { save: true } : {}),
      };
    },
    process(instance, { log }) {
      const outcome = check(inputOf(instance));
      if ("skipped" in outcome) {
        log.info("skipped: %s", outcome.skipped);
        return;
      }
      if (outcome.mismatches.length === 0) return;
      const lines = outcome.mismatches.map((mismatch) =>
        `${mismatch.what} is ${shown(mismatch.found)}, expected ${shown(mismatch.expected)} (${mismatch.source})`
      );
      throw new Error(`Cannot publish '${instance.name}' from this scene: ${lines.join("; ")}`);
    },
  });
}
