/**
 * Tracker look-ups the transmitter's appliers share: one row, a status the entity's workflow
 * allows (from `workflowStatuses`, which the status automations use too), users by email then
 * username, the custom attribute configuration a mapped attribute is written to, what kind of tracker entity an id is.
 *
 * @module
 */
import type { Session } from "@ftrack/api";
import { workflowStatuses } from "../../src/tracker/workflow_statuses.ts";
import {
  type AttributeConfiguration,
  type AttributeTarget,
  configurationFor,
  mappingApplies,
  versionConfigurationFor,
} from "../../src/sync/attribute_mapping.ts";
import type { AttributeMapping } from "../../src/sync/sync_settings.ts";
import { readAttributeConfigurations } from "../../src/sync/tracker_project.ts";
import { UnappliableChange } from "./unappliable_change.ts";

/** A tracker row as the client returns it. */
export type Row = Record<string, unknown>;

/** A value safe inside a query's double quotes. */
export const q = (value: unknown): string => String(value).replace(/["\\]/g, "");

/** The first row of a query, or undefined. */
export async function one(session: Session, expression: string): Promise<Row | undefined> {
  return (await session.query(expression)).data[0] as Row | undefined;
}

/** The tracker entity types an id can be, tried in this order by {@linkcode trackerTypeOf}. */
const KINDS = ["TypedContext", "AssetVersion", "Project", "Asset"] as const;

/** Which kind of tracker entity an id is (`Project`, `TypedContext`'s own type, `AssetVersion`, `Asset`), or undefined. */
export async function trackerTypeOf(session: Session, id: string): Promise<string | undefined> {
  for (const kind of KINDS) {
    const row = await one(session, `select id from ${kind} where id is "${q(id)}"`);
    if (row) return String(row.__entity_type__ ?? kind);
  }
  return undefined;
}

/** The status id of `name` among those the entity's workflow allows; an {@linkcode UnappliableChange} listing them when it has none. */
export async function allowedStatusId(session: Session, trackerId: string, name: string): Promise<string> {
  const allowed = await workflowStatuses(session, trackerId);
  const status = allowed.get(name.toLowerCase());
  if (!status) {
    if (allowed.size === 0 && (await trackerTypeOf(session, trackerId)) === undefined) {
      throw new UnappliableChange(`tracker entity ${trackerId} is gone`);
    }
    throw new UnappliableChange(
      `status '${name}' is not one the workflow of tracker entity ${trackerId} allows (${
        [...allowed.keys()].join(", ")
      })`,
    );
  }
  return status.id;
}

/** A tracker user's id by email, then username; undefined when none has either. */
export async function findUserId(session: Session, name: string): Promise<string | undefined> {
  const user = await one(session, `select id from User where email is "${q(name)}"`) ??
    await one(session, `select id from User where username is "${q(name)}"`);
  return user ? String(user.id) : undefined;
}

/** Tracker user ids by email, then username; an {@linkcode UnappliableChange} naming the first missing one. */
export async function userIds(session: Session, names: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const name of names) {
    const id = await findUserId(session, name);
    if (!id) throw new UnappliableChange(`no tracker user has the email or username '${name}'`);
    found.set(name, id);
  }
  return found;
}

/** The tracker entity kinds mapped attributes are written on. */
export type AttributeHolder = "Project" | "TypedContext" | "AssetVersion";

/**
 * Which custom attribute configuration a mapped pipeline attribute is written to on a tracker
 * entity, by the sync's attribute mapping (`handlers.sync-from-tracker.attributes`): the
 * hierarchical one, or the per-object-type one of the entity's own object type (see
 * {@linkcode configurationFor}). Configurations and entities are read once per lookup: make one
 * per job.
 */
export class AttributeLookup {
  readonly #session: Session;
  readonly #mappings: AttributeMapping[];
  readonly #configurations = new Map<string, Promise<AttributeConfiguration[]>>();
  readonly #targets = new Map<string, Promise<AttributeTarget>>();

  constructor(session: Session, mappings: AttributeMapping[]) {
    this.#session = session;
    this.#mappings = mappings;
  }

  /** Whether a pipeline attribute has a mapping at all. */
  mapped(pipeline: string): boolean {
    return this.#mappings.some((mapping) => mapping.pipeline === pipeline);
  }

  /**
   * The configuration id a pipeline attribute is written to on a tracker entity; undefined when
   * the attribute is not mapped; an {@linkcode UnappliableChange} naming the attribute, the key
   * and the object type when no mapping of it has a configuration for the entity.
   */
  async configurationId(pipeline: string, trackerId: string, holder: AttributeHolder): Promise<string | undefined> {
    const mappings = this.#mappings.filter((mapping) => mapping.pipeline === pipeline);
    if (mappings.length === 0) return undefined;
    const target = await this.#target(trackerId, holder);
    // The reason of a mapping that applies to the object type says more than that of one limited to others.
    let applying: string | undefined;
    let other: string | undefined;
    let versionMappings = 0;
    for (const mapping of mappings) {
      const configurations = await this.#ofKey(mapping.tracker);
      if (holder === "AssetVersion") {
        // Versions follow the rule the sync reads them with: a mapping naming no object types is a
        // version's only where its key has an AssetVersion configuration (the default `fps` is a
        // shot's), one naming others is not a version's at all.
        const choice = versionConfigurationFor(mapping, configurations, target);
        if ("configuration" in choice) return choice.configuration.id;
        if (mapping.objectTypes === undefined || !mappingApplies(mapping, target.objectType)) continue;
        versionMappings++;
        applying ??= choice.reason;
        continue;
      }
      const choice = configurationFor(mapping, configurations, target);
      if ("configuration" in choice) return choice.configuration.id;
      if (mappingApplies(mapping, target.objectType)) applying ??= choice.reason;
      else other ??= choice.reason;
    }
    if (holder === "AssetVersion" && versionMappings === 0) return undefined;
    throw new UnappliableChange((applying ?? other)!);
  }

  /** The hierarchical configuration id of a key (the pipeline's id and path attributes), or undefined. */
  async hierarchicalId(key: string): Promise<string | undefined> {
    return (await this.#ofKey(key)).find((configuration) => configuration.isHierarchical)?.id;
  }

  #ofKey(key: string): Promise<AttributeConfiguration[]> {
    let found = this.#configurations.get(key);
    if (!found) this.#configurations.set(key, found = readAttributeConfigurations(this.#session, [key]));
    return found;
  }

  #target(trackerId: string, holder: AttributeHolder): Promise<AttributeTarget> {
    const cacheKey = `${holder}:${trackerId}`;
    let found = this.#targets.get(cacheKey);
    if (!found) this.#targets.set(cacheKey, found = this.#read(trackerId, holder));
    return found;
  }

  async #read(trackerId: string, holder: AttributeHolder): Promise<AttributeTarget> {
    if (holder === "Project") {
      return { entityType: "show", objectType: "Project", objectTypeId: null, projectId: trackerId };
    }
    if (holder === "AssetVersion") {
      return { entityType: "assetversion", objectType: "AssetVersion", objectTypeId: null, projectId: null };
    }
    const row = await one(
      this.#session,
      `select object_type_id, object_type.name, project_id from TypedContext where id is "${q(trackerId)}"`,
    );
    if (!row) throw new UnappliableChange(`tracker entity ${trackerId} is gone`);
    const objectType = (row.object_type as Row | null | undefined)?.name;
    return {
      entityType: "task",
      objectType: typeof objectType === "string" ? objectType : String(row.__entity_type__ ?? "TypedContext"),
      objectTypeId: typeof row.object_type_id === "string" ? row.object_type_id : null,
      projectId: typeof row.project_id === "string" ? row.project_id : null,
    };
  }
}
