/**
 * How a mapped attribute ({@linkcode AttributeMapping}) meets the tracker's custom attribute
 * configurations: which value of an entity the sync reads, which configuration the transmitter
 * writes. Pure functions: the callers read the tracker.
 *
 * @module
 */
import type { AttributeMapping } from "./sync_settings.ts";

/** An entity's custom attribute values split by configuration: hierarchical ones, and its own object type's. */
export interface AttributeSources {
  /** Hierarchical values by key (dense: inherited and defaults included). */
  hierarchical: Record<string, unknown>;
  /** The values of the per-object-type ("standard") configurations of the entity's own object type, by key. */
  standard: Record<string, unknown>;
}

/** A custom attribute configuration as the mapping needs it. */
export interface AttributeConfiguration {
  id: string;
  key: string;
  isHierarchical: boolean;
  /** `show`, `task` (every TypedContext), `assetversion` … */
  entityType: string;
  /** The object type of a `task` configuration (Shot, Asset Build, Task …). */
  objectTypeId: string | null;
  /** Set when the configuration belongs to one project only. */
  projectId: string | null;
}

/** The tracker entity an attribute is written on. */
export interface AttributeTarget {
  /** The configurations' `entity_type` of it: `show`, `task`, `assetversion` … */
  entityType: string;
  /** Its object type's name (Shot, Asset Build …; `Project`, `AssetVersion`). */
  objectType: string;
  /** Its object type's id (TypedContext only). */
  objectTypeId: string | null;
  projectId: string | null;
}

/** An object type's name as mappings compare them: lower case, spaces left out. */
export const objectTypeKey = (name: unknown): string => String(name).replace(/\s+/g, "").toLowerCase();

const empty = (value: unknown) => value === undefined || value === null || value === "";

/**
 * Whether a mapping applies to an entity of `objectType` (its `objectTypes`, when given, name it).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mappingApplies } from "./attribute_mapping.ts";
 *
 * ok(mappingApplies({ pipeline: "frameStart", tracker: "fstart", objectTypes: ["Asset Build"] }, "AssetBuild"));
 * ok(!mappingApplies({ pipeline: "frameStart", tracker: "fstart", objectTypes: ["Shot"] }, "Sequence"));
 * ```
 */
export function mappingApplies(mapping: AttributeMapping, objectType: string): boolean {
  return mapping.objectTypes === undefined ||
    mapping.objectTypes.some((name) => objectTypeKey(name) === objectTypeKey(objectType));
}

/**
 * The object type names of mappings' `objectTypes` that none of `known` matches (typos such as
 * `Shoot`), each with the pipeline attribute naming it.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { unknownObjectTypes } from "./attribute_mapping.ts";
 *
 * const mappings = [{ pipeline: "frameStart", tracker: "fstart", objectTypes: ["Shoot", "Asset Build"] }];
 * deepStrictEqual(unknownObjectTypes(mappings, ["Shot", "AssetBuild"]), [{ pipeline: "frameStart", objectType: "Shoot" }]);
 * ```
 */
export function unknownObjectTypes(
  mappings: AttributeMapping[],
  known: string[],
): Array<{ pipeline: string; objectType: string }> {
  const names = new Set(known.map(objectTypeKey));
  return mappings.flatMap((mapping) =>
    (mapping.objectTypes ?? []).filter((name) => !names.has(objectTypeKey(name))).map((objectType) => ({
      pipeline: mapping.pipeline,
      objectType,
    }))
  );
}

/**
 * The tracker value one mapping reads on an entity: the hierarchical value (`kind:
 * "hierarchical"`), the entity's own object type's value (`kind: "standard"`), or the
 * hierarchical value when set, else the per-object-type one (no kind). Undefined when the mapping
 * does not apply to the entity's object type. An entity read without `sources` gives its value
 * of the key, whatever the configuration.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mappedValue } from "./attribute_mapping.ts";
 *
 * const shot = { objectType: "Shot", values: {}, sources: { hierarchical: { fstart: 1001 }, standard: { fstart: 990 } } };
 * ok(mappedValue({ pipeline: "frameStart", tracker: "fstart" }, shot) === 1001);
 * ok(mappedValue({ pipeline: "frameStart", tracker: "fstart", kind: "standard" }, shot) === 990);
 * ok(mappedValue({ pipeline: "frameStart", tracker: "fstart", objectTypes: ["Asset Build"] }, shot) === undefined);
 * ```
 */
export function mappedValue(
  mapping: AttributeMapping,
  entity: { objectType: string; values: Record<string, unknown>; sources?: AttributeSources },
): unknown {
  if (!mappingApplies(mapping, entity.objectType)) return undefined;
  const key = mapping.tracker;
  if (entity.sources === undefined) return entity.values[key];
  const hierarchical = entity.sources.hierarchical[key];
  const standard = entity.sources.standard[key];
  if (mapping.kind === "hierarchical") return hierarchical;
  if (mapping.kind === "standard") return standard;
  return empty(hierarchical) && standard !== undefined ? standard : hierarchical;
}

/**
 * The pipeline attributes of an entity's tracker values, by the mappings: for each pipeline
 * attribute the first mapping that applies and has a value (empty values left out).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mappedAttributes } from "./attribute_mapping.ts";
 *
 * const mappings = [
 *   { pipeline: "frameStart", tracker: "fstart", kind: "standard" as const, objectTypes: ["Shot"] },
 *   { pipeline: "frameStart", tracker: "ab_fstart", kind: "standard" as const },
 * ];
 * const build = { objectType: "Asset Build", values: {}, sources: { hierarchical: {}, standard: { ab_fstart: 1 } } };
 * ok(mappedAttributes(mappings, build).frameStart === 1);
 * ```
 */
export function mappedAttributes(
  mappings: AttributeMapping[],
  entity: { objectType: string; values: Record<string, unknown>; sources?: AttributeSources },
): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const mapping of mappings) {
    if (attributes[mapping.pipeline] !== undefined) continue;
    const value = mappedValue(mapping, entity);
    if (!empty(value)) attributes[mapping.pipeline] = value;
  }
  return attributes;
}

/**
 * Splits an entity's dense custom attribute values (`custom_attributes` rows with their
 * `configuration_id`) by configuration: hierarchical, per-object-type; and all by key, the
 * hierarchical value winning where a key has both.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { splitValues } from "./attribute_mapping.ts";
 *
 * const hierarchical = new Set(["c1"]);
 * const { values, sources } = splitValues(
 *   [{ configuration_id: "c2", key: "fstart", value: 990 }, { configuration_id: "c1", key: "fstart", value: 1001 }],
 *   (id) => hierarchical.has(id),
 * );
 * ok(values.fstart === 1001 && sources.standard.fstart === 990);
 * ```
 */
export function splitValues(
  rows: Array<Record<string, unknown>>,
  isHierarchical: (configurationId: string) => boolean,
): { values: Record<string, unknown>; sources: AttributeSources } {
  const sources: AttributeSources = { hierarchical: {}, standard: {} };
  for (const row of rows) {
    if (typeof row.key !== "string") continue;
    const side = isHierarchical(String(row.configuration_id)) ? sources.hierarchical : sources.standard;
    if (side[row.key] === undefined || !empty(row.value)) side[row.key] = row.value ?? null;
  }
  const values: Record<string, unknown> = { ...sources.standard };
  for (const [key, value] of Object.entries(sources.hierarchical)) {
    if (!empty(value) || values[key] === undefined) values[key] = value;
  }
  return { values, sources };
}

/** The configuration a mapping writes for an entity, or the reason there is none. */
export type ConfigurationChoice = { configuration: AttributeConfiguration } | { reason: string };

/**
 * The configuration one mapping writes on a tracker entity: the hierarchical configuration of its
 * key (`kind: "hierarchical"`), the per-object-type one of the entity's object type (`kind:
 * "standard"`), or the hierarchical one when there is one, else the per-object-type one (no
 * kind). Configurations of another project are left out. The reason names the key, the pipeline
 * attribute and the object type.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { configurationFor } from "./attribute_mapping.ts";
 *
 * const shotFstart = { id: "c1", key: "fstart", isHierarchical: false, entityType: "task", objectTypeId: "shot", projectId: null };
 * const mapping = { pipeline: "frameStart", tracker: "fstart", kind: "standard" as const };
 * const shot = { entityType: "task", objectType: "Shot", objectTypeId: "shot", projectId: "p1" };
 * const chosen = configurationFor(mapping, [shotFstart], shot);
 * ok("configuration" in chosen && chosen.configuration.id === "c1");
 * const none = configurationFor(mapping, [shotFstart], { ...shot, objectType: "Sequence", objectTypeId: "seq" });
 * ok("reason" in none && none.reason.includes("no custom attribute 'fstart' for object type 'Sequence'"));
 * ```
 */
export function configurationFor(
  mapping: AttributeMapping,
  configurations: AttributeConfiguration[],
  target: AttributeTarget,
): ConfigurationChoice {
  const what = `(pipeline attribute '${mapping.pipeline}'${mapping.kind ? `, mapped ${mapping.kind}` : ""})`;
  if (!mappingApplies(mapping, target.objectType)) {
    return {
      reason: `custom attribute '${mapping.tracker}' ${what} is mapped for object types ${
        mapping.objectTypes!.join(", ")
      } only, not for object type '${target.objectType}'`,
    };
  }
  const ofKey = configurations.filter((configuration) =>
    configuration.key === mapping.tracker &&
    (configuration.projectId === null || target.projectId === null || configuration.projectId === target.projectId)
  );
  const hierarchical = ofKey.find((configuration) => configuration.isHierarchical);
  const standard = ofKey.find((configuration) =>
    !configuration.isHierarchical && configuration.entityType === target.entityType &&
    (target.entityType !== "task" || configuration.objectTypeId === target.objectTypeId)
  );
  if (mapping.kind === "hierarchical") {
    return hierarchical
      ? { configuration: hierarchical }
      : { reason: `no hierarchical custom attribute '${mapping.tracker}' ${what}` };
  }
  const chosen = mapping.kind === "standard" ? standard : hierarchical ?? standard;
  if (chosen) return { configuration: chosen };
  return {
    reason: `no custom attribute '${mapping.tracker}' for object type '${target.objectType}' ${what}${
      mapping.kind === undefined ? ": neither a hierarchical nor a per-object-type one" : ""
    }`,
  };
}

/** The object type name mappings give versions (`objectTypes: ["AssetVersion"]`). */
export const VERSION_OBJECT_TYPE = "AssetVersion";

/**
 * Whether a mapping applies to tracker AssetVersions: when its `objectTypes` name `AssetVersion`;
 * when it names none, only when the key has an AssetVersion configuration of its own (a
 * per-object-type value among the version's `sources.standard`). So the default, type-less
 * mappings (`fps`, `frameStart` … hierarchical on the shots) do not stamp every version with the
 * value it inherits from its shot, while a studio's version attribute is read without listing it.
 * Which value an applying mapping reads is {@linkcode mappedValue}'s rule, the one
 * {@linkcode configurationFor} writes by (hierarchical when no kind and the key has one), so what
 * the transmitter writes is what the sync reads back.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { versionMappingApplies } from "./attribute_mapping.ts";
 *
 * const sources = { hierarchical: { fps: 25 }, standard: { intent: "wip" } };
 * ok(versionMappingApplies({ pipeline: "intent", tracker: "intent" }, sources));
 * ok(!versionMappingApplies({ pipeline: "fps", tracker: "fps" }, sources), "hierarchical only: not the version's own");
 * ok(versionMappingApplies({ pipeline: "fps", tracker: "fps", objectTypes: ["AssetVersion"] }, sources));
 * ok(!versionMappingApplies({ pipeline: "intent", tracker: "intent", objectTypes: ["Shot"] }, sources));
 * ```
 */
export function versionMappingApplies(mapping: AttributeMapping, sources: AttributeSources): boolean {
  if (mapping.objectTypes !== undefined) return mappingApplies(mapping, VERSION_OBJECT_TYPE);
  return Object.hasOwn(sources.standard, mapping.tracker);
}

/**
 * The pipeline attributes of a tracker AssetVersion's custom attribute values, by the mappings
 * that apply to versions ({@linkcode versionMappingApplies}), read as
 * {@linkcode mappedAttributes} reads them (first applying mapping with a value wins, empty values
 * left out).
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { versionAttributes } from "./attribute_mapping.ts";
 *
 * const sources = { hierarchical: { fps: 25 }, standard: { intent: "wip" } };
 * const version = { values: { fps: 25, intent: "wip" }, sources };
 * const mappings = [{ pipeline: "fps", tracker: "fps" }, { pipeline: "intent", tracker: "intent" }];
 * deepStrictEqual(versionAttributes(mappings, version), { intent: "wip" });
 * ```
 */
export function versionAttributes(
  mappings: AttributeMapping[],
  version: { values: Record<string, unknown>; sources: AttributeSources },
): Record<string, unknown> {
  return mappedAttributes(
    mappings.filter((mapping) => versionMappingApplies(mapping, version.sources)),
    { objectType: VERSION_OBJECT_TYPE, ...version },
  );
}

/**
 * The configuration one mapping writes on a tracker AssetVersion, by the rule the sync reads
 * versions with ({@linkcode versionMappingApplies}): a mapping without `objectTypes` whose key
 * has no AssetVersion configuration (`entity_type: "assetversion"`) is not the version's, and
 * the reason says so; otherwise {@linkcode configurationFor}'s choice. A transmitter using it
 * writes on versions exactly what the sync reads back.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { versionConfigurationFor } from "./attribute_mapping.ts";
 *
 * const fps = { id: "h", key: "fps", isHierarchical: true, entityType: "show", objectTypeId: null, projectId: null };
 * const vfps = { ...fps, id: "v", key: "vfps", isHierarchical: false, entityType: "assetversion" };
 * const version = { entityType: "assetversion", objectType: "AssetVersion", objectTypeId: null, projectId: null };
 * const own = versionConfigurationFor({ pipeline: "fps", tracker: "vfps" }, [fps, vfps], version);
 * ok("configuration" in own && own.configuration.id === "v");
 * const inherited = versionConfigurationFor({ pipeline: "fps", tracker: "fps" }, [fps, vfps], version);
 * ok("reason" in inherited && inherited.reason.includes("no AssetVersion configuration"));
 * const mapping = { pipeline: "fps", tracker: "fps", objectTypes: ["AssetVersion"] };
 * const named = versionConfigurationFor(mapping, [fps], version);
 * ok("configuration" in named && named.configuration.id === "h");
 * ```
 */
export function versionConfigurationFor(
  mapping: AttributeMapping,
  configurations: AttributeConfiguration[],
  target: AttributeTarget,
): ConfigurationChoice {
  const own = configurations.some((configuration) =>
    configuration.key === mapping.tracker && !configuration.isHierarchical &&
    configuration.entityType === "assetversion" &&
    (configuration.projectId === null || target.projectId === null || configuration.projectId === target.projectId)
  );
  if (mapping.objectTypes === undefined && !own) {
    return {
      reason:
        `custom attribute '${mapping.tracker}' (pipeline attribute '${mapping.pipeline}') has no AssetVersion configuration and the mapping does not name AssetVersion in objectTypes: not a version's attribute`,
    };
  }
  return configurationFor(mapping, configurations, target);
}
