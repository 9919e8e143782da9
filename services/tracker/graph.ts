import { concreteTypes, entityType, findAttribute, isA, TrackerError } from "./schema/catalog.ts";
import { DERIVED_TABLES, ENTITY_TYPES } from "./schema/definitions.ts";
import { SecurityRoleRows } from "./security_roles.ts";
import type { Attribute, EntityType } from "./schema/model.ts";
import { type EntityStore, type Row, rowKey } from "./store/entity_store.ts";

/** What an attribute of a row resolves to: plain values, or entities. */
export type Resolved = { kind: "values"; values: unknown[] } | { kind: "entities"; rows: Row[]; many: boolean };

/** Builds URLs for component data; the server knows its own address and the caller's keys. */
export interface UrlBuilder {
  componentUrl(componentId: string): string;
  thumbnailUrl(componentId: string | undefined): string;
}

const HIERARCHICAL_ENTITY_TYPES = new Set(["show", "task", "assetversion", "asset"]);

/**
 * Navigates stored entities through the schema: references, reverse-foreign-key collections,
 * id-list associations and computed attributes (`link`, `ancestors`, dense `custom_attributes`, …).
 */
export class Graph {
  readonly store: EntityStore;
  urls: UrlBuilder = {
    componentUrl: (id) => `/component/get?id=${id}`,
    thumbnailUrl: (id) => (id ? `/component/thumbnail?id=${id}` : "/img/thumbnail2.png"),
  };
  #concrete = new Map<string, Set<string>>();
  #securityRoles: SecurityRoleRows | undefined;

  constructor(store: EntityStore) {
    this.store = store;
  }

  /** The rows of the derived security role types (`SecurityRole`, …): worked out from the stored roles, not stored. */
  get #roles(): SecurityRoleRows {
    return this.#securityRoles ??= new SecurityRoleRows(this.store.database, {
      users: () => this.store.rows("User"),
      userCount: () => this.store.count("User"),
      projectExists: (id) => this.byKey("Project", id) !== undefined,
    });
  }

  /** The schema of a row. */
  typeOf(row: Row): EntityType {
    return ENTITY_TYPES.get(row.__type)!;
  }

  /** The key of a row in its table. */
  keyOf(row: Row): string {
    return rowKey(this.typeOf(row).primaryKey.map((name) => row[name]));
  }

  /** The row of type `typeId` (or a subtype) with this key, if any. */
  byKey(typeId: string, key: string): Row | undefined {
    const type = entityType(typeId);
    if (DERIVED_TABLES.has(type.table)) return this.#roles.byKey(type.id, key);
    const row = this.store.get(type.table, key);
    return row !== undefined && this.#isOf(row, typeId) ? row : undefined;
  }

  /** Every row of `typeId` and its subtypes, in creation order. */
  *rowsOf(typeId: string): Generator<Row> {
    const type = entityType(typeId);
    if (DERIVED_TABLES.has(type.table)) {
      yield* this.#roles.rows(type.id);
      return;
    }
    for (const row of this.store.rows(type.table)) if (this.#isOf(row, typeId)) yield row;
  }

  /** Rows of `typeId` whose indexed `column` is `value`; undefined when the column has no index. */
  lookup(typeId: string, column: string, value: unknown): Row[] | undefined {
    const type = entityType(typeId);
    if (DERIVED_TABLES.has(type.table)) return this.#roles.lookup(type.id, column, value);
    const found = this.store.lookup(type.table, column, value);
    if (found === undefined) return undefined;
    const rows: Row[] = [];
    for (const row of found) if (this.#isOf(row, typeId)) rows.push(row);
    return rows.sort((a, b) => a.__seq - b.__seq);
  }

  /** Resolves attribute `name` of `row`; `ValidationError` for an unknown attribute. */
  resolve(row: Row, name: string): Resolved {
    const type = this.typeOf(row);
    const attribute = type.attributes[name];
    if (attribute === undefined) {
      // Asked through a base type for an attribute only other subtypes have: no value here.
      if (findAttribute(entityType(type.base ?? type.id), name) !== undefined) return { kind: "values", values: [] };
      throw new TrackerError("ValidationError", `Entity type '${type.id}' has no attribute '${name}'.`);
    }
    return this.#resolveAttribute(row, type, name, attribute);
  }

  #resolveAttribute(row: Row, type: EntityType, name: string, attribute: Attribute): Resolved {
    switch (attribute.kind) {
      case "scalar":
        return { kind: "values", values: [row[name] ?? null] };
      case "reference": {
        const id = row[attribute.key];
        const target = typeof id === "string" ? this.byKey(attribute.target, id) : undefined;
        return { kind: "entities", rows: target ? [target] : [], many: false };
      }
      case "collection": {
        const id = row[type.primaryKey[0]!];
        let rows = this.lookup(attribute.target, attribute.via, id) ??
          [...this.rowsOf(attribute.target)].filter((r) => r[attribute.via] === id);
        if (attribute.filter) rows = rows.filter((r) => r[attribute.filter!.attribute] === attribute.filter!.value);
        return { kind: "entities", rows, many: true };
      }
      case "association": {
        const ids = Array.isArray(row[name]) ? (row[name] as string[]) : [];
        const rows = ids.map((id) => this.byKey(attribute.target, id)).filter((r): r is Row => r !== undefined);
        return { kind: "entities", rows, many: true };
      }
      case "computed":
        return this.#computed(row, type, attribute.compute);
      default: {
        const _exhaustive: never = attribute;
        return _exhaustive;
      }
    }
  }

  /** The parent chain of a context, nearest first (not including itself). */
  parents(row: Row): Row[] {
    const chain: Row[] = [];
    const seen = new Set<string>();
    let current: Row | undefined = row;
    while (current !== undefined && typeof current.parent_id === "string" && !seen.has(current.parent_id)) {
      seen.add(current.parent_id);
      current = this.byKey("Context", current.parent_id);
      if (current) chain.push(current);
    }
    return chain;
  }

  /** The project a row belongs to, if any. */
  projectOf(row: Row): Row | undefined {
    if (row.__type === "Project") return row;
    if (typeof row.project_id === "string") return this.byKey("Project", row.project_id);
    if (typeof row.context_id === "string") {
      const context = this.byKey("Context", row.context_id);
      return context ? this.projectOf(context) : undefined;
    }
    if (typeof row.asset_id === "string") {
      const asset = this.byKey("Asset", row.asset_id);
      return asset ? this.projectOf(asset) : undefined;
    }
    if (typeof row.version_id === "string") {
      const version = this.byKey("AssetVersion", row.version_id);
      return version ? this.projectOf(version) : undefined;
    }
    return undefined;
  }

  #computed(row: Row, type: EntityType, compute: Extract<Attribute, { kind: "computed" }>["compute"]): Resolved {
    switch (compute) {
      case "link":
        return { kind: "values", values: [this.link(row)] };
      case "thumbnail_url":
        return { kind: "values", values: [{ url: this.urls.thumbnailUrl(row.thumbnail_id as string | undefined) }] };
      case "component_url":
        return { kind: "values", values: [{ url: this.urls.componentUrl(String(row.component_id)) }] };
      case "ancestors":
        return { kind: "entities", rows: this.parents(row).filter((r) => r.__type !== "Project"), many: true };
      case "descendants": {
        // Breadth first, each row once: a stored cycle (refused on write since) cannot loop.
        const found: Row[] = [];
        const seen = new Set<Row>([row]);
        for (let next = 0, parent: Row | undefined = row; parent !== undefined; parent = found[next++]) {
          for (const child of this.lookup("Context", "parent_id", parent[type.primaryKey[0]!]) ?? []) {
            if (seen.has(child)) continue;
            seen.add(child);
            found.push(child);
          }
        }
        return { kind: "entities", rows: found, many: true };
      }
      case "latest_version":
      case "is_latest_version": {
        const assetId = compute === "latest_version" ? row.id : row.asset_id;
        const versions = this.lookup("AssetVersion", "asset_id", assetId) ?? [];
        const latest = versions.reduce<Row | undefined>(
          (best, version) => (best === undefined || Number(version.version) > Number(best.version) ? version : best),
          undefined,
        );
        if (compute === "is_latest_version") return { kind: "values", values: [latest?.id === row.id] };
        return { kind: "entities", rows: latest ? [latest] : [], many: false };
      }
      case "custom_attributes":
        return { kind: "entities", rows: this.customAttributeValues(row), many: true };
      default: {
        const _exhaustive: never = compute;
        return _exhaustive;
      }
    }
  }

  /** `link`: the project down to the entity, each `{id, name, type}`; versions end with themselves. */
  link(row: Row): Array<{ id: string; name: string; type: string }> {
    const item = (r: Row) => ({
      id: String(r.id),
      name: String(r.name ?? ""),
      type: r.__type === "Project" ? "Project" : "TypedContext",
    });
    if (row.__type === "AssetVersion") {
      const asset = typeof row.asset_id === "string" ? this.byKey("Asset", row.asset_id) : undefined;
      const context = asset && typeof asset.context_id === "string"
        ? this.byKey("Context", asset.context_id)
        : undefined;
      const chain = context ? [...this.parents(context).reverse(), context].map(item) : [];
      const name = `${asset?.name ?? ""} v${String(row.version ?? 0).padStart(3, "0")}`;
      return [...chain, { id: String(row.id), name, type: "AssetVersion" }];
    }
    if (row.__type === "Asset") {
      const context = typeof row.context_id === "string" ? this.byKey("Context", row.context_id) : undefined;
      const chain = context ? [...this.parents(context).reverse(), context].map(item) : [];
      return [...chain, { id: String(row.id), name: String(row.name ?? ""), type: "Asset" }];
    }
    return [...this.parents(row).reverse(), row].map(item);
  }

  /** The custom attribute configurations that apply to a row. */
  configurationsFor(row: Row): Row[] {
    const entityKind = customAttributeKind(row.__type);
    if (entityKind === undefined) return [];
    const projectId = this.projectOf(row)?.id;
    return [...this.rowsOf("CustomAttributeConfiguration")].filter((configuration) => {
      if (configuration.project_id && configuration.project_id !== projectId) return false;
      if (configuration.is_hierarchical) return HIERARCHICAL_ENTITY_TYPES.has(entityKind);
      if (configuration.entity_type !== entityKind) return false;
      if (entityKind === "task") return configuration.object_type_id === row.object_type_id;
      return true;
    });
  }

  /**
   * The dense custom attribute values of a row: one per applicable configuration, holding the
   * stored value, else (hierarchical attributes) the nearest parent's, else the default.
   */
  customAttributeValues(row: Row): Row[] {
    const valueType = customAttributeValueType(row.__type);
    if (valueType === undefined) return [];
    // The parents are found once for all the hierarchical attributes, and only if one needs them.
    let chain: Row[] | undefined;
    const parents = () => chain ??= this.#inheritedFrom(row);
    return this.configurationsFor(row).map((configuration) => {
      const value = this.#storedValue(configuration, row, parents) ?? configuration.default ?? null;
      return {
        __type: valueType,
        __seq: 0,
        configuration_id: configuration.id,
        entity_id: row.id,
        key: configuration.key,
        value,
      } satisfies Row;
    });
  }

  /** The stored value of one configuration on a row (inherited through parents when hierarchical). */
  storedValue(configuration: Row, row: Row): unknown {
    return this.#storedValue(configuration, row, () => this.#inheritedFrom(row));
  }

  #storedValue(configuration: Row, row: Row, parents: () => Row[]): unknown {
    const own = this.store.get("CustomAttributeValue", rowKey([configuration.id, row.id]));
    if (own !== undefined && own.value !== undefined && own.value !== null) return own.value;
    if (!configuration.is_hierarchical) return undefined;
    for (const parent of parents()) {
      const inherited = this.store.get("CustomAttributeValue", rowKey([configuration.id, parent.id]));
      if (inherited !== undefined && inherited.value !== undefined && inherited.value !== null) return inherited.value;
    }
    return undefined;
  }

  /** Where a row's hierarchical attribute values come from when it has none: its contexts, nearest first. */
  #inheritedFrom(row: Row): Row[] {
    return row.__type === "AssetVersion" || row.__type === "Asset" ? this.#contextChainOf(row) : this.parents(row);
  }

  #contextChainOf(row: Row): Row[] {
    const asset = row.__type === "Asset"
      ? row
      : typeof row.asset_id === "string"
      ? this.byKey("Asset", row.asset_id)
      : undefined;
    const context = asset && typeof asset.context_id === "string" ? this.byKey("Context", asset.context_id) : undefined;
    return context ? [context, ...this.parents(context)] : [];
  }

  #isOf(row: Row, typeId: string): boolean {
    let set = this.#concrete.get(typeId);
    if (set === undefined) this.#concrete.set(typeId, set = new Set(concreteTypes(typeId)));
    return set.has(row.__type) || isA(row.__type, typeId) || ENTITY_TYPES.get(typeId)!.sameAs === row.__type;
  }
}

/** The `entity_type` of custom attribute configurations that apply to a type. */
export function customAttributeKind(typeId: string): string | undefined {
  if (typeId === "Project") return "show";
  if (isA(typeId, "TypedContext")) return "task";
  if (typeId === "AssetVersion") return "assetversion";
  if (typeId === "Asset") return "asset";
  if (typeId === "User") return "user";
  if (isA(typeId, "List")) return "list";
  return undefined;
}

/** The schema of the custom attribute values of a type. */
export function customAttributeValueType(typeId: string): string | undefined {
  const kind = customAttributeKind(typeId);
  switch (kind) {
    case "show":
    case "task":
      return "ContextCustomAttributeValue";
    case "assetversion":
      return "AssetVersionCustomAttributeValue";
    case "asset":
      return "AssetCustomAttributeValue";
    case "user":
      return "UserCustomAttributeValue";
    case "list":
      return "ListCustomAttributeValue";
    default:
      return undefined;
  }
}
