/**
 * How ferry describes the tracker's entity types: enough to answer `query_schemas` in the shape
 * the official clients read, and to drive storage, queries, defaults and relations.
 *
 * @module
 */

/** Scalar value types, as in ftrack's schemas. */
export type ScalarType = "string" | "integer" | "number" | "boolean" | "variable" | "object";

/** A stored scalar (a column). */
export interface ScalarAttribute {
  kind: "scalar";
  type: ScalarType;
  format?: "date-time" | "json" | "foreign_key";
  /** Schema default; `"{uid}"` means a fresh uuid. */
  default?: unknown;
  /** The legacy column name (`alias_for`), used in `ftrack.update` events' `keys`/`changes`. */
  legacy?: string;
  /** For foreign keys: the type the id points at. */
  target?: string;
  /** Stored and queryable, but not listed in `query_schemas` (internal links). */
  hidden?: boolean;
  /** The only values allowed (`enum` in `query_schemas`), e.g. a Job's status. */
  enum?: readonly string[];
  /**
   * A name that structures turn into a folder or file name: `.`, `..`, path separators and NUL
   * are refused.
   */
  segment?: boolean;
  /** Numbers and booleans are stored as their text (metadata values: ftrack keeps strings). */
  textual?: boolean;
}

/** A reference to one entity whose id is in a local foreign key (`parent` → `parent_id`). */
export interface ReferenceAttribute {
  kind: "reference";
  target: string;
  key: string;
  legacy?: string;
}

/** The entities whose foreign key `via` holds this entity's id (`children` ← `Context.parent_id`). */
export interface CollectionAttribute {
  kind: "collection";
  target: string;
  via: string;
  /** Only those whose `filter` attribute has this value (e.g. appointments by type). */
  filter?: { attribute: string; value: string };
  /** `mapped_array` of key/value entities (metadata). */
  mapped?: boolean;
  legacy?: string;
}

/** A many-to-many collection stored as a list of ids on this entity (`WorkflowSchema.statuses`). */
export interface AssociationAttribute {
  kind: "association";
  target: string;
  legacy?: string;
}

/** Values derived on read. */
export interface ComputedAttribute {
  kind: "computed";
  compute:
    | "link"
    | "thumbnail_url"
    | "component_url"
    | "ancestors"
    | "descendants"
    | "latest_version"
    | "is_latest_version"
    | "custom_attributes";
  /** The schema shape of the value: a scalar type, or a target type for entities. */
  type?: ScalarType;
  target?: string;
  many?: boolean;
  mapped?: boolean;
}

/** Any attribute. */
export type Attribute =
  | ScalarAttribute
  | ReferenceAttribute
  | CollectionAttribute
  | AssociationAttribute
  | ComputedAttribute;

/** An entity type. */
export interface EntityType {
  /** Schema id, e.g. `Shot`. */
  id: string;
  /** Storage family: types sharing a table (every context, every component). */
  table: string;
  /** `ftrack.update`'s `entityType`: the legacy table name (`task`, `show`, `assetversion`). */
  legacy: string;
  /** The base type when this is a concrete subtype (`Shot` → `TypedContext`). */
  base?: string;
  /** True for base types that are never stored as such (`Context`, `Component`). */
  abstract?: boolean;
  primaryKey: string[];
  defaultProjections: string[];
  systemProjections?: string[];
  /** `alias_for` of the schema (classifiers for typed contexts and lists). */
  aliasFor?: string | { id: string; classifiers: Record<string, string> };
  /** For typed contexts: the object type id (classifier) stored in `object_type_id`. */
  objectTypeId?: string;
  /**
   * The attributes by name, in an object without a prototype: `constructor`, `toString` or
   * `__proto__` are unknown names like any other, for writes and queries alike.
   */
  attributes: Record<string, Attribute>;
  /**
   * Another schema id for the same stored rows (ftrack's `NoteLabel` and `NoteCategory` are one
   * table): rows of either are found as both.
   */
  sameAs?: string;
  /** Attributes clients may not change after creation. */
  immutable: string[];
  /** Attributes the server requires (after defaults). */
  required: string[];
}
