import { createHash } from "node:crypto";
import { DERIVED_TABLES, ENTITY_TYPES } from "./definitions.ts";
import { pythonJsonDumps } from "./python_json.ts";
import type { Attribute, EntityType, ScalarAttribute } from "./model.ts";

/** An error the API answers with `{exception, content}`. `content` never holds braces (Python formats it). */
export class TrackerError extends Error {
  /** The `exception` name clients map: `ValidationError`, `PermissionError`, `ServerError`, … */
  readonly exception: string;

  constructor(exception: string, content: string) {
    super(content.replaceAll("{", "(").replaceAll("}", ")"));
    this.name = "TrackerError";
    this.exception = exception;
  }
}

/** The entity type with this schema id; `ValidationError` naming it otherwise. */
export function entityType(id: string): EntityType {
  const found = ENTITY_TYPES.get(id);
  if (found === undefined) throw new TrackerError("ValidationError", `Entity type '${id}' does not exist.`);
  return found;
}

/** Whether `id` is `base` or derives from it. */
export function isA(id: string, base: string): boolean {
  for (let current: string | undefined = id; current !== undefined; current = ENTITY_TYPES.get(current)?.base) {
    if (current === base) return true;
  }
  return false;
}

const concreteCache = new Map<string, string[]>();

/** The stored (non-abstract) types that are `id` or derive from it. */
export function concreteTypes(id: string): string[] {
  let list = concreteCache.get(id);
  if (list === undefined) {
    list = [...ENTITY_TYPES.values()].filter((type) => !type.abstract && isA(type.id, id)).map((type) => type.id);
    concreteCache.set(id, list);
  }
  return list;
}

/**
 * The attribute `name` of `type`, or of any of its subtypes (a query on `Context` may filter on
 * `object_type_id`, which only typed contexts have); undefined when none has it.
 */
export function findAttribute(type: EntityType, name: string): Attribute | undefined {
  const own = type.attributes[name];
  if (own !== undefined) return own;
  for (const concrete of concreteTypes(type.id)) {
    const attribute = ENTITY_TYPES.get(concrete)!.attributes[name];
    if (attribute !== undefined) return attribute;
  }
  return undefined;
}

/** Every indexed column of a storage table: foreign keys and the names handlers look up by. */
export function indexedColumns(table: string): string[] {
  const columns = new Set<string>();
  for (const type of ENTITY_TYPES.values()) {
    if (type.table !== table || DERIVED_TABLES.has(table)) continue;
    for (const [name, attribute] of Object.entries(type.attributes)) {
      if (attribute.kind !== "scalar") continue;
      if (attribute.format === "foreign_key" || name.endsWith("_id") || ["name", "username", "key"].includes(name)) {
        columns.add(name);
      }
    }
  }
  return [...columns];
}

/** The legacy column name of an attribute (`status_id` → `statusid`), for `ftrack.update` events. */
export function legacyName(type: EntityType, attribute: string): string {
  const found = type.attributes[attribute];
  return (found && "legacy" in found && found.legacy) || attribute;
}

/** Attributes the server always returns with an entity besides its primary key. */
export function systemAttributes(type: EntityType): string[] {
  const result: string[] = [];
  for (const name of type.systemProjections ?? []) {
    const modern = Object.entries(type.attributes).find(([key, attribute]) =>
      key === name || ("legacy" in attribute && attribute.legacy === name)
    )?.[0];
    if (modern && type.attributes[modern]?.kind === "scalar" && !result.includes(modern)) result.push(modern);
  }
  if (type.table === "Context" && type.attributes.object_type_id && !result.includes("object_type_id")) {
    result.push("object_type_id");
  }
  return result;
}

function scalarJson(name: string, attribute: ScalarAttribute): Record<string, unknown> {
  const json: Record<string, unknown> = { type: attribute.type };
  if (attribute.format) json.format = attribute.format;
  if (attribute.default !== undefined) json.default = attribute.default;
  if (attribute.enum) json.enum = [...attribute.enum];
  if (attribute.legacy) json.alias_for = attribute.legacy;
  if (attribute.format === "foreign_key" && attribute.target) {
    json.description = `Foreign key(s): ${attribute.target}.id`;
  }
  if (name === "parent_type" && attribute.type === "string") {
    json.transform = { client: "(schema_id)", server: "(table_name)" };
  }
  return json;
}

function attributeJson(name: string, attribute: Attribute): Record<string, unknown> | undefined {
  switch (attribute.kind) {
    case "scalar":
      return attribute.hidden ? undefined : scalarJson(name, attribute);
    case "reference":
      return { $ref: attribute.target, ...(attribute.legacy ? { alias_for: attribute.legacy } : {}) };
    case "collection":
      return attribute.mapped
        ? {
          type: "mapped_array",
          items: { $ref: attribute.target },
          key_value_attributes: { key: "key", value: "value" },
        }
        : { type: "array", items: { $ref: attribute.target } };
    case "association":
      return { type: "array", items: { $ref: attribute.target } };
    case "computed":
      if (attribute.mapped) {
        return {
          type: "mapped_array",
          items: { $ref: attribute.target },
          key_value_attributes: { key: "key", value: "value" },
        };
      }
      if (attribute.many) return { type: "array", items: { $ref: attribute.target } };
      if (attribute.target) return { $ref: attribute.target };
      return { type: attribute.compute === "link" ? "string" : attribute.type ?? "object" };
    default: {
      const _exhaustive: never = attribute;
      return _exhaustive;
    }
  }
}

/** The `query_schemas` element of one type, in the real server's shape. */
export function schemaJson(type: EntityType): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const computed: string[] = [];
  for (const [name, attribute] of Object.entries(type.attributes)) {
    const json = attributeJson(name, attribute);
    if (json === undefined) continue;
    properties[name] = json;
    if (attribute.kind === "computed" && !attribute.many && !attribute.target) computed.push(name);
  }
  return {
    id: type.id,
    type: "object",
    primary_key: type.primaryKey,
    required: type.required,
    immutable: [...new Set([...type.immutable, ...computed])],
    computed,
    default_projections: type.defaultProjections,
    system_projections: type.systemProjections ?? [],
    ...(type.aliasFor ? { alias_for: type.aliasFor } : {}),
    properties,
  };
}

let schemasCache: { schemas: Record<string, unknown>[]; hash: string } | undefined;

/**
 * Every schema, and their hash as the Python client computes it for its schema cache (the MD5 of
 * `json.dumps(schemas, sort_keys=True)`), so a client whose cache holds these schemas keeps it.
 */
export function allSchemas(): { schemas: Record<string, unknown>[]; hash: string } {
  if (schemasCache === undefined) {
    const schemas = [...ENTITY_TYPES.values()].map(schemaJson);
    const hash = createHash("md5").update(pythonJsonDumps(schemas), "utf8").digest("hex");
    schemasCache = { schemas, hash };
  }
  return schemasCache;
}
