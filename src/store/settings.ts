import { z } from "zod";

/** The settings variants a service can run with. */
export const VariantSchema = z.enum(["production", "staging", "dev"], {
  error: (issue) => `must be production, staging or dev, not '${String(issue.input)}'`,
});

/** A settings variant. */
export type Variant = z.infer<typeof VariantSchema>;

/** One handler's settings: `enabled` and whatever else the handler reads. */
export const HandlerSettingsSchema = z.looseObject({ enabled: z.boolean().default(true) });

/**
 * The settings document of the event services, per variant, with per-project overrides.
 * Every field has a default, so an empty document is valid.
 */
export const SettingsSchema = z.object({
  /** Whether the event services act on a project at all (overridden per project). */
  enabled: z.boolean().default(true),
  processor: z.object({
    /** Retries of a failed job before it is left failed. */
    maxRetries: z.number().int().min(0).max(100).default(3),
    /** Backoff before retry n is `retryBackoffMs × 2ⁿ⁻¹`, capped at `retryBackoffMaxMs`. */
    retryBackoffMs: z.number().int().min(0).default(1_000),
    retryBackoffMaxMs: z.number().int().min(0).default(60_000),
    /** How long a claimed job stays with its worker without a renewal. */
    leaseMs: z.number().int().min(500).max(600_000).default(4_000),
    /**
     * Jobs a sequential processor takes at once (one transaction for the lot; processed in order).
     * A crash may run up to this many again; 1 runs at most one again.
     */
    batchSize: z.number().int().min(1).max(500).default(16),
    /** Run events of different projects in parallel (in order within each project). */
    parallelProjects: z.boolean().default(false),
    /** Jobs at once when `parallelProjects` is on. */
    concurrency: z.number().int().min(1).max(64).default(4),
  }).prefault({}),
  /** Handler settings by settings key. */
  handlers: z.record(z.string(), HandlerSettingsSchema).default({}),
});

/** The resolved settings document. */
export type Settings = z.output<typeof SettingsSchema>;

/** A stored settings document: any part of the full one. */
export type SettingsDocument = Record<string, unknown>;

/**
 * Merges `override` into `base`: objects key by key, everything else replaced.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mergeSettings } from "./settings.ts";
 *
 * const merged = mergeSettings({ processor: { maxRetries: 3, leaseMs: 4000 } }, { processor: { maxRetries: 5 } });
 * ok(JSON.stringify(merged) === '{"processor":{"maxRetries":5,"leaseMs":4000}}');
 * ```
 */
export function mergeSettings(base: SettingsDocument, override: SettingsDocument): SettingsDocument {
  const merged: SettingsDocument = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeSettings(current, value) : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is SettingsDocument {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Validates a settings document, naming each bad field with its value.
 * Throws a `TypeError` when it does not fit.
 *
 * @example
 * ```ts
 * import { ok, throws } from "node:assert/strict";
 * import { parseSettings } from "./settings.ts";
 *
 * ok(parseSettings({}, "production").processor.maxRetries === 3);
 * throws(() => parseSettings({ processor: { leaseMs: 5 } }, "production"), /processor\.leaseMs 5/);
 * ```
 */
export function parseSettings(document: SettingsDocument, where: string): Settings {
  const result = SettingsSchema.safeParse(document);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    let value: unknown = document;
    for (const key of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
    return `${issue.path.join(".") || "(document)"}${
      value === undefined ? "" : ` ${JSON.stringify(value)}`
    }: ${issue.message}`;
  });
  throw new TypeError(`Invalid settings for ${where}: ${problems.join("; ")}`);
}
