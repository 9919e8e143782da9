import { randomUUID } from "node:crypto";
import { decodeValue, now } from "./codec.ts";
import type { Graph } from "./graph.ts";
import { customAttributeValueType } from "./graph.ts";
import { entityType, isA, TrackerError } from "./schema/catalog.ts";
import { checkScalar, quoteValue } from "./schema/check_scalar.ts";
import { bareRecord, DERIVED_TABLES, LOCATION_IDS } from "./schema/definitions.ts";
import type { EntityType, ScalarAttribute } from "./schema/model.ts";
import type { Access } from "./access.ts";
import { refuseSecurityRoleWrite } from "./security_roles.ts";
import { type Row, rowKey } from "./store/entity_store.ts";

/** Who is writing: the authenticated user, for `user_id`, `created_by`, defaults and permissions. */
export interface WriteContext {
  userId: string;
  /** Administrators may create, change and delete other users. @default false */
  administrator?: boolean;
  /** What the user may see and change (private projects); unchecked when undefined (the tracker itself). */
  access?: Access;
}

/**
 * Foreign keys that make a tree within their own table: following one from an entity must never
 * lead back to it (a shot under its own sequence, a note replying to its reply).
 */
const TREE_LINKS: ReadonlyArray<{ table: string; key: string; typeId: string; relation: string }> = [
  { table: "Context", key: "parent_id", typeId: "Context", relation: "its own ancestor" },
  { table: "Note", key: "in_reply_to_id", typeId: "Note", relation: "a reply to itself" },
  { table: "Component", key: "container_id", typeId: "Component", relation: "a member of itself" },
];

const BUILT_IN_LOCATIONS: ReadonlySet<string> = new Set(Object.values(LOCATION_IDS));

/** Collections whose members belong to their owner and go with it when it is deleted. */
const OWNED: Record<string, string[]> = {
  Context: ["children", "assets", "notes", "metadata", "appointments", "timelogs", "incoming_links", "outgoing_links"],
  Asset: ["versions", "metadata"],
  AssetVersion: ["components", "notes", "metadata"],
  Component: ["component_locations", "members", "metadata"],
  Note: ["replies", "recipients", "note_components", "note_label_links", "metadata"],
  Job: ["job_components"],
  ProjectSchema: ["_schemas", "_overrides"],
  Schema: ["statuses", "types"],
  User: ["metadata", "timelogs", "appointments"],
};

/** The rows a batch wrote, each once, in the order first written (later ones join while being read). */
class TouchedRows implements Iterable<{ table: string; key: string }> {
  #rows: Array<{ table: string; key: string }> = [];
  #seen = new Map<string, Set<string>>();

  add(table: string, key: string): void {
    let keys = this.#seen.get(table);
    if (keys === undefined) this.#seen.set(table, keys = new Set());
    if (keys.has(key)) return;
    keys.add(key);
    this.#rows.push({ table, key });
  }

  [Symbol.iterator](): Iterator<{ table: string; key: string }> {
    return this.#rows[Symbol.iterator]();
  }
}

/** The attributes of a type each write looks at, found once per type. */
interface WrittenAttributes {
  /** Scalars with a schema default, in schema order. */
  defaulted: Array<[string, ScalarAttribute]>;
  /** Foreign keys outside the primary key, with the type they name, in schema order. */
  foreignKeys: Array<[string, string]>;
}

const writtenAttributes = new WeakMap<EntityType, WrittenAttributes>();

function attributesOf(type: EntityType): WrittenAttributes {
  let found = writtenAttributes.get(type);
  if (found === undefined) {
    found = { defaulted: [], foreignKeys: [] };
    for (const [name, attribute] of Object.entries(type.attributes)) {
      if (attribute.kind !== "scalar") continue;
      if (attribute.default !== undefined) found.defaulted.push([name, attribute]);
      if (attribute.format === "foreign_key" && attribute.target && !type.primaryKey.includes(name)) {
        found.foreignKeys.push([name, attribute.target]);
      }
    }
    writtenAttributes.set(type, found);
  }
  return found;
}

/** Reads the entity key clients send: a list of primary-key values, or one id as a string. */
export function readEntityKey(type: EntityType, key: unknown): string {
  const values = Array.isArray(key) ? key : [key];
  if (
    values.length !== type.primaryKey.length ||
    values.some((value) => typeof value !== "string" && typeof value !== "number")
  ) {
    throw new TrackerError(
      "ValidationError",
      `Entity key '${JSON.stringify(key).replaceAll('"', "'")}' does not fit the primary key of '${type.id}' (${
        type.primaryKey.join(", ")
      }).`,
    );
  }
  return rowKey(values);
}

/** An entity reference or id sent by a client: `{__entity_type__, id}`, `{id}`, or the id itself. */
function referencedKey(value: unknown, target: EntityType): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    const type = typeof record.__entity_type__ === "string" && isA(record.__entity_type__, target.id)
      ? entityType(record.__entity_type__)
      : target;
    return rowKey(type.primaryKey.map((name) => record[name]));
  }
  throw new TrackerError(
    "ValidationError",
    `Cannot read an entity reference of '${target.id}' from '${String(value)}'.`,
  );
}

/**
 * Applies create / update / delete operations with the server-side behaviour clients rely on
 * (defaults, version numbering, statuses from workflows, links from collection updates, custom
 * attribute upserts, cascading deletes) and ftrack's refusals: values of the wrong type
 * (`ValidationError` naming attribute and value), names that are not folder names, entities that
 * would be their own ancestor, duplicate usernames, built-in locations, and changes to other
 * users by non-administrators (`PermissionError`). Use inside one store transaction per batch and
 * call `finish()` before it commits: checks that may only hold once the whole batch is in
 * (required attributes, foreign keys, cycles, links to entities created later in the batch) run
 * there.
 */
export class Writer {
  #graph: Graph;
  #context: WriteContext;
  #touched = new TouchedRows();
  #pendingLinks: Array<() => boolean> = [];
  #createdNotes: string[] = [];

  constructor(graph: Graph, context: WriteContext) {
    this.#graph = graph;
    this.#context = context;
  }

  /** Creates an entity; returns its row. */
  create(typeId: string, data: Record<string, unknown>): Row {
    const type = entityType(typeId);
    if (type.abstract) {
      throw new TrackerError(
        "ValidationError",
        `Cannot create '${typeId}': it is an abstract type, create a concrete subtype.`,
      );
    }
    if (DERIVED_TABLES.has(type.table)) refuseSecurityRoleWrite(typeId, "create");
    if (type.table === "User") this.#mayChangeUser(undefined, "create users");
    if (type.table === "CustomAttributeValue") return this.#upsertCustomAttribute(type, data, undefined);
    const { scalars, deferred } = this.#decode(type, data);
    for (const [name, attribute] of attributesOf(type).defaulted) {
      if (scalars[name] !== undefined) continue;
      scalars[name] = attribute.default === "{uid}" ? randomUUID() : structuredClone(attribute.default);
    }
    for (const name of type.primaryKey) {
      if (scalars[name] === undefined || scalars[name] === null || scalars[name] === "") {
        if (type.primaryKey.length === 1 && name === "id") scalars[name] = randomUUID();
        else throw new TrackerError("ValidationError", `Cannot create '${typeId}': '${name}' is required.`);
      }
    }
    for (const link of TREE_LINKS) {
      if (link.table === type.table && scalars[link.key] != null && scalars[link.key] === scalars.id) {
        throw new TrackerError(
          "ValidationError",
          `Cannot create '${typeId}' '${scalars.id}': '${link.key}' names itself; it cannot be ${link.relation}.`,
        );
      }
    }
    this.#applyCreationRules(type, scalars);
    const key = rowKey(type.primaryKey.map((name) => scalars[name]));
    if (this.#graph.store.get(type.table, key) !== undefined) {
      throw new TrackerError(
        "DuplicateEntryError",
        `DuplicateEntryError: '${typeId}' with key '${key}' already exists.`,
      );
    }
    // The store keeps its own copy of the record: the decoded one is handed over as it is.
    scalars.__type = type.id;
    const row = this.#graph.store.insert(type.table, key, scalars as Omit<Row, "__seq">);
    this.#touched.add(type.table, key);
    if (type.table === "Note") this.#createdNotes.push(key);
    for (const apply of deferred) apply(row);
    return row;
  }

  /** Updates an entity (custom attribute values are upserted); returns its row and the attributes set. */
  update(typeId: string, entityKey: unknown, data: Record<string, unknown>): { row: Row; changed: string[] } {
    const type = entityType(typeId);
    if (DERIVED_TABLES.has(type.table)) refuseSecurityRoleWrite(typeId, "update");
    const key = readEntityKey(type, entityKey);
    if (type.table === "CustomAttributeValue") {
      const row = this.#upsertCustomAttribute(type, data, entityKey);
      return { row, changed: Object.keys(data).filter((name) => name !== "__entity_type__") };
    }
    const row = this.#graph.byKey(typeId, key);
    if (row === undefined) {
      throw new TrackerError("NotFoundError", `Cannot update '${typeId}' '${key}': it does not exist.`);
    }
    this.#context.access?.mayChange(row, "update");
    const actual = this.#graph.typeOf(row);
    if (actual.table === "User" && row.id !== this.#context.userId) this.#mayChangeUser(row, "change");
    const { scalars, deferred } = this.#decode(actual, data);
    for (const name of Object.keys(scalars)) {
      if (actual.primaryKey.includes(name) && String(scalars[name]) !== String(row[name])) {
        throw new TrackerError(
          "ValidationError",
          `Cannot update '${typeId}' '${key}': '${name}' is part of its key and cannot change.`,
        );
      }
    }
    if (
      isA(actual.id, "TypedContext") && scalars.object_type_id !== undefined &&
      scalars.object_type_id !== row.object_type_id
    ) {
      throw new TrackerError("ValidationError", `Cannot update '${typeId}' '${key}': 'object_type_id' cannot change.`);
    }
    if (actual.table === "User" && scalars.username !== undefined && scalars.username !== row.username) {
      if (scalars.username === "") {
        throw new TrackerError(
          "ValidationError",
          `Cannot set 'User.username' of '${row.username}' to '': it is empty.`,
        );
      }
      this.#uniqueUsername(scalars.username);
    }
    if (actual.table === "Location" && BUILT_IN_LOCATIONS.has(String(row.id)) && "name" in scalars) {
      if (scalars.name !== row.name) {
        throw new TrackerError(
          "ValidationError",
          `Cannot rename Location '${row.name}' to ${quoteValue(scalars.name)}: it is built in.`,
        );
      }
    }
    if (scalars.parent_id !== undefined && isA(actual.id, "TypedContext")) {
      const parent = typeof scalars.parent_id === "string"
        ? this.#graph.byKey("Context", scalars.parent_id)
        : undefined;
      if (parent) scalars.project_id = parent.__type === "Project" ? parent.id : parent.project_id;
    }
    if (actual.table === "Schema") this.#sameObjectType(scalars, row);
    this.#graph.store.update(actual.table, key, scalars);
    this.#touched.add(actual.table, key);
    for (const apply of deferred) apply(row);
    return { row, changed: Object.keys(data).filter((name) => name !== "__entity_type__") };
  }

  /** Deletes an entity and what it owns; `ValidationError` when something still needs it. */
  delete(typeId: string, entityKey: unknown): void {
    const type = entityType(typeId);
    if (DERIVED_TABLES.has(type.table)) refuseSecurityRoleWrite(typeId, "delete");
    const key = readEntityKey(type, entityKey);
    const row = this.#graph.byKey(typeId, key);
    if (row === undefined) {
      throw new TrackerError("NotFoundError", `Cannot delete '${typeId}' '${key}': it does not exist.`);
    }
    this.#context.access?.mayChange(row, "delete");
    if (row.__type === "User") this.#mayChangeUser(row, "delete");
    if (row.__type === "Metadata") this.#guardUserData(row.parent_id);
    if (type.table === "CustomAttributeValue") this.#guardUserData(row.entity_id);
    if (
      row.__type === "Location" && (this.#graph.lookup("ComponentLocation", "location_id", row.id)?.length ?? 0) > 0
    ) {
      throw new TrackerError(
        "ValidationError",
        `Cannot delete Location '${row.name}': components are still in it; remove them from the location first.`,
      );
    }
    if (row.__type === "Location" && BUILT_IN_LOCATIONS.has(String(row.id))) {
      throw new TrackerError("ValidationError", `Cannot delete Location '${row.name}': it is built in.`);
    }
    this.#remove(row);
  }

  /** Runs the checks that need the whole batch; throws `ValidationError` naming the first problem. */
  finish(): void {
    for (const link of this.#pendingLinks) {
      if (!link()) throw new TrackerError("ValidationError", "A collection names an entity that does not exist.");
    }
    this.#noteRules();
    const acyclic = new Set<Row>();
    for (const { table, key } of this.#touched) {
      const row = this.#graph.store.get(table, key);
      if (row === undefined) continue;
      const type = this.#graph.typeOf(row);
      if (isA(type.id, "TypedContext") && (row.status_id == null || row.type_id == null || row.project_id == null)) {
        // The Python client sets `parent` in an update after the create: derive what needed it now.
        const scalars: Record<string, unknown> = { ...row };
        this.#contextRules(type, scalars);
        const missing = ["status_id", "type_id", "project_id"].filter((name) =>
          row[name] == null && scalars[name] != null
        );
        if (missing.length > 0) {
          this.#graph.store.update(table, key, Object.fromEntries(missing.map((name) => [name, scalars[name]])));
        }
      }
      this.#context.access?.mayChange(row, "save");
      this.#refuseCycle(table, row, acyclic);
      if (table === "Context") this.#followProject(row);
      if (table === "Metadata") this.#guardUserData(row.parent_id);
      for (const name of type.required) {
        if (row[name] === undefined || row[name] === null) {
          throw new TrackerError("ValidationError", `Cannot save '${type.id}' '${key}': '${name}' is required.`);
        }
      }
      for (const [name, target] of attributesOf(type).foreignKeys) {
        const value = row[name];
        if (value === undefined || value === null) continue;
        if (this.#graph.byKey(target, String(value)) === undefined) {
          throw new TrackerError(
            "ValidationError",
            `Cannot save '${type.id}' '${key}': '${name}' names '${target}' '${value}', which does not exist.`,
          );
        }
      }
    }
  }

  #decode(
    type: EntityType,
    data: Record<string, unknown>,
  ): { scalars: Record<string, unknown>; deferred: Array<(row: Row) => void> } {
    const scalars = bareRecord<unknown>();
    const deferred: Array<(row: Row) => void> = [];
    for (const [name, raw] of Object.entries(data)) {
      if (name === "__entity_type__") continue;
      const attribute = type.attributes[name];
      if (attribute === undefined) {
        throw new TrackerError("ValidationError", `Entity type '${type.id}' has no attribute '${name}'.`);
      }
      switch (attribute.kind) {
        case "scalar": {
          const value = attribute.format === "foreign_key" && raw !== null && typeof raw === "object"
            ? referencedKey(raw, entityType(attribute.target ?? type.id))
            : raw;
          scalars[name] = checkScalar(`${type.id}.${name}`, attribute, value);
          break;
        }
        case "reference":
          scalars[attribute.key] = referencedKey(raw, entityType(attribute.target));
          break;
        case "association": {
          if (raw !== null && !Array.isArray(raw)) {
            throw new TrackerError(
              "ValidationError",
              `Cannot set '${type.id}.${name}' to ${quoteValue(raw)}: expected a list of entities.`,
            );
          }
          const target = entityType(attribute.target);
          scalars[name] = (raw ?? []).map((item) => referencedKey(item, target));
          break;
        }
        case "collection": {
          if (!Array.isArray(raw)) {
            throw new TrackerError(
              "ValidationError",
              `Cannot set '${type.id}.${name}' to ${quoteValue(raw)}: expected a list of entities.`,
            );
          }
          const target = entityType(attribute.target);
          if (DERIVED_TABLES.has(target.table)) refuseSecurityRoleWrite(target.id, `set '${type.id}.${name}' and so`);
          const keys = raw.map((item) => referencedKey(item, target)).filter((key): key is string => key !== null);
          deferred.push((owner) => this.#setCollection(owner, attribute.target, attribute.via, keys));
          break;
        }
        case "computed":
          // Values derived on read (link, custom_attributes through their own entities): ignored.
          break;
      }
    }
    return { scalars, deferred };
  }

  /** Sets `via` on the listed targets to the owner's id; former members lose it (metadata rows go). */
  #setCollection(owner: Row, targetId: string, via: string, keys: string[]): void {
    const ownerId = owner.id ?? owner[this.#graph.typeOf(owner).primaryKey[0]!];
    const target = entityType(targetId);
    const wanted = new Set(keys);
    for (const former of this.#graph.lookup(targetId, via, ownerId) ?? []) {
      const formerKey = this.#graph.keyOf(former);
      if (wanted.has(formerKey)) continue;
      // Members keyed by their owner (metadata, recipients, label links) go; others are unlinked.
      if (this.#graph.typeOf(former).primaryKey.includes(via)) this.#remove(former);
      else this.#graph.store.update(target.table, formerKey, { [via]: null });
    }
    for (const key of keys) {
      const link = (): boolean => {
        const member = this.#graph.byKey(targetId, key);
        if (member === undefined) return false;
        // A key column (Metadata's parent_id) already names its owner: nothing to link.
        if (this.#graph.typeOf(member).primaryKey.includes(via)) return member[via] === ownerId;
        const changes: Record<string, unknown> = { [via]: ownerId };
        if (via === "parent_id" && "parent_type" in this.#graph.typeOf(member).attributes) {
          changes.parent_type = owner.__type;
        }
        this.#graph.store.update(this.#graph.typeOf(member).table, key, changes);
        this.#touched.add(this.#graph.typeOf(member).table, key);
        return true;
      };
      if (!link()) this.#pendingLinks.push(link);
    }
  }

  #applyCreationRules(type: EntityType, scalars: Record<string, unknown>): void {
    const stamp = now();
    if ("created_at" in type.attributes && scalars.created_at === undefined) scalars.created_at = stamp;
    if ("created_by_id" in type.attributes && scalars.created_by_id === undefined) {
      scalars.created_by_id = this.#context.userId;
    }
    if (type.table === "Context") this.#contextRules(type, scalars);
    switch (type.table) {
      case "AssetVersion": {
        if (scalars.version === undefined || scalars.version === null) {
          const versions = this.#graph.lookup("AssetVersion", "asset_id", scalars.asset_id) ?? [];
          scalars.version = versions.reduce((max, row) => Math.max(max, Number(row.version) || 0), 0) + 1;
        }
        scalars.date ??= stamp;
        scalars.user_id ??= this.#context.userId;
        if (scalars.status_id === undefined || scalars.status_id === null) {
          const asset = typeof scalars.asset_id === "string" ? this.#graph.byKey("Asset", scalars.asset_id) : undefined;
          const schema = asset ? this.#projectSchemaOf(this.#graph.projectOf(asset)) : undefined;
          const workflow = schema
            ? this.#graph.byKey("WorkflowSchema", String(schema.asset_version_workflow_schema_id))
            : undefined;
          scalars.status_id = (workflow?.statuses as string[] | undefined)?.[0] ?? null;
        }
        break;
      }
      case "Component":
        scalars.system_type = type.id === "SequenceComponent"
          ? "sequence"
          : type.id === "ContainerComponent"
          ? "container"
          : "file";
        break;
      case "Note":
        scalars.date ??= stamp;
        scalars.user_id ??= this.#context.userId;
        if (typeof scalars.parent_id === "string" && scalars.parent_type === undefined) {
          scalars.parent_type = this.#typeOfId(scalars.parent_id);
        }
        break;
      case "Metadata":
        if (
          typeof scalars.parent_id === "string" && (scalars.parent_type === undefined || scalars.parent_type === null)
        ) {
          scalars.parent_type = this.#typeOfId(scalars.parent_id);
        }
        break;
      case "User":
        scalars.is_active ??= true;
        if (scalars.username === undefined || scalars.username === null || scalars.username === "") {
          scalars.username = `user-${String(scalars.id).slice(0, 8)}`;
        }
        this.#uniqueUsername(scalars.username);
        break;
      case "Job":
        scalars.user_id ??= this.#context.userId;
        scalars.created_at ??= stamp;
        break;
      case "Timer":
        scalars.start ??= stamp;
        scalars.user_id ??= this.#context.userId;
        if ((this.#graph.lookup("Timer", "user_id", scalars.user_id)?.length ?? 0) > 0) {
          throw new TrackerError(
            "DuplicateEntryError",
            `DuplicateEntryError: user '${scalars.user_id}' already has a running timer.`,
          );
        }
        break;
      case "ComponentLocation": {
        scalars.resource_identifier ??= scalars.component_id;
        const existing = this.#graph.lookup("ComponentLocation", "component_id", scalars.component_id) ?? [];
        if (existing.some((row) => row.location_id === scalars.location_id)) {
          throw new TrackerError(
            "DuplicateEntryError",
            `DuplicateEntryError: component '${scalars.component_id}' is already in location '${scalars.location_id}'.`,
          );
        }
        break;
      }
      case "Asset": {
        // Unique (context, name, type) as an SQL unique index is: rows without a type never clash.
        const siblings = this.#graph.lookup("Asset", "context_id", scalars.context_id) ?? [];
        const typed = scalars.type_id !== undefined && scalars.type_id !== null;
        if (typed && siblings.some((row) => row.name === scalars.name && row.type_id === scalars.type_id)) {
          throw new TrackerError(
            "DuplicateEntryError",
            `DuplicateEntryError: an asset '${scalars.name}' of this type already exists in context '${scalars.context_id}'.`,
          );
        }
        break;
      }
      case "Status":
        scalars.is_active ??= true;
        break;
      case "Schema":
        this.#sameObjectType(scalars, undefined);
        break;
      case "List":
        scalars.date ??= stamp;
        scalars.user_id ??= this.#context.userId;
        break;
    }
  }

  /**
   * ftrack's rules for notes, once the batch is in: a new note's author is one of its recipients,
   * and a note whose label links changed takes its category from its first label.
   */
  #noteRules(): void {
    for (const key of this.#createdNotes) {
      const note = this.#graph.store.get("Note", key);
      if (note === undefined || typeof note.user_id !== "string") continue;
      const recipientKey = rowKey([note.id, note.user_id]);
      if (this.#graph.store.get("Recipient", recipientKey) === undefined) {
        this.#graph.store.insert("Recipient", recipientKey, {
          __type: "Recipient",
          note_id: note.id,
          resource_id: note.user_id,
        });
        this.#touched.add("Recipient", recipientKey);
      }
    }
    const notes = new Set<string>();
    for (const { table, key } of this.#touched) {
      if (table === "NoteLabelLink") {
        notes.add(String(this.#graph.store.get(table, key)?.note_id ?? JSON.parse(key)[0]));
      }
    }
    for (const noteId of notes) {
      const note = this.#graph.byKey("Note", noteId);
      const first = (this.#graph.lookup("NoteLabelLink", "note_id", noteId) ?? [])[0];
      if (note === undefined || first === undefined || note.category_id === first.label_id) continue;
      this.#graph.store.update("Note", noteId, { category_id: first.label_id });
      this.#touched.add("Note", noteId);
    }
  }

  /** A Schema's `type_id` and `object_type_id` are one value (ftrack's `typeid`): set together. */
  #sameObjectType(scalars: Record<string, unknown>, row: Row | undefined): void {
    const given = [scalars.type_id, scalars.object_type_id].filter((value) => value !== undefined);
    if (given.length === 2 && given[0] !== given[1]) {
      throw new TrackerError(
        "ValidationError",
        `Cannot save Schema '${scalars.id ?? row?.id}': 'type_id' ${quoteValue(scalars.type_id)} and ` +
          `'object_type_id' ${quoteValue(scalars.object_type_id)} must name the same ObjectType.`,
      );
    }
    if (given.length > 0) scalars.type_id = scalars.object_type_id = given[0];
  }

  #contextRules(type: EntityType, scalars: Record<string, unknown>): void {
    if (type.id === "Project") {
      scalars.context_type = "show";
      scalars.status ??= "active";
      scalars.root ??= "";
      scalars.project_id = scalars.id;
      scalars.full_name ??= scalars.name;
      if (scalars.project_schema_id === undefined || scalars.project_schema_id === null) {
        scalars.project_schema_id = this.#graph.rowsOf("ProjectSchema").next().value?.id ?? null;
      }
      return;
    }
    scalars.context_type = "task";
    scalars.object_type_id = type.objectTypeId;
    const parent = typeof scalars.parent_id === "string" ? this.#graph.byKey("Context", scalars.parent_id) : undefined;
    if (scalars.parent_id !== undefined && scalars.parent_id !== null && parent === undefined) {
      throw new TrackerError(
        "ValidationError",
        `Cannot create '${type.id}': parent '${scalars.parent_id}' does not exist.`,
      );
    }
    if (parent) scalars.project_id = parent.__type === "Project" ? parent.id : parent.project_id;
    const schema = this.#projectSchemaOf(parent ? this.#graph.projectOf(parent) : undefined);
    if (schema === undefined) return;
    const objectSchema = (this.#graph.lookup("Schema", "project_schema_id", schema.id) ?? [])
      .find((row) => row.object_type_id === type.objectTypeId);
    if (scalars.type_id === undefined || scalars.type_id === null) {
      if (type.id === "Task") {
        const types = this.#graph.byKey("TaskTypeSchema", String(schema.task_type_schema_id))?.types as
          | string[]
          | undefined;
        scalars.type_id = types?.[0] ?? null;
      } else if (objectSchema) {
        const types = (this.#graph.lookup("SchemaType", "schema_id", objectSchema.id) ?? []).sort((a, b) =>
          Number(a.sort) - Number(b.sort)
        );
        scalars.type_id = types[0]?.type_id ?? null;
      }
    }
    if (scalars.status_id === undefined || scalars.status_id === null) {
      let statuses: string[] | undefined;
      if (type.id === "Task") {
        const override = (this.#graph.lookup("ProjectSchemaOverride", "project_schema_id", schema.id) ?? [])
          .find((row) => row.type_id === scalars.type_id);
        const workflowId = override?.workflow_schema_id ?? schema.task_workflow_schema_id;
        statuses = this.#graph.byKey("WorkflowSchema", String(workflowId))?.statuses as string[] | undefined;
      } else if (objectSchema) {
        statuses = (this.#graph.lookup("SchemaStatus", "schema_id", objectSchema.id) ?? [])
          .sort((a, b) => Number(a.sort) - Number(b.sort))
          .map((row) => String(row.status_id));
      }
      scalars.status_id = statuses?.[0] ?? null;
    }
  }

  #projectSchemaOf(project: Row | undefined): Row | undefined {
    return project && typeof project.project_schema_id === "string"
      ? this.#graph.byKey("ProjectSchema", project.project_schema_id)
      : undefined;
  }

  #typeOfId(id: string): string | undefined {
    for (const typeId of ["Context", "AssetVersion", "Asset", "Component", "Note", "User", "List", "Location"]) {
      const row = this.#graph.byKey(typeId, id);
      if (row) return row.__type;
    }
    return undefined;
  }

  #upsertCustomAttribute(type: EntityType, data: Record<string, unknown>, entityKey: unknown): Row {
    let configurationId = data.configuration_id;
    let entityId = data.entity_id;
    if (Array.isArray(entityKey)) [configurationId, entityId] = entityKey;
    if (typeof configurationId !== "string" || typeof entityId !== "string") {
      throw new TrackerError(
        "ValidationError",
        `Cannot set '${type.id}': configuration_id and entity_id are required.`,
      );
    }
    const configuration = this.#graph.byKey("CustomAttributeConfiguration", configurationId);
    if (configuration === undefined) {
      throw new TrackerError("ValidationError", `Custom attribute configuration '${configurationId}' does not exist.`);
    }
    const owner = this.#typeOfId(entityId);
    this.#guardUserData(entityId);
    const valueType = owner ? customAttributeValueType(owner) : undefined;
    const key = rowKey([configurationId, entityId]);
    const value = this.#customAttributeValue(configuration, data.value);
    const existing = this.#graph.store.get("CustomAttributeValue", key);
    const row = existing
      ? this.#graph.store.update("CustomAttributeValue", key, { value })
      : this.#graph.store.insert("CustomAttributeValue", key, {
        __type: valueType ?? type.id,
        configuration_id: configurationId,
        entity_id: entityId,
        key: configuration.key,
        value,
      });
    this.#touched.add("CustomAttributeValue", key);
    return row;
  }

  /** The stored form of a custom attribute value, checked against its configuration's type. */
  #customAttributeValue(configuration: Row, raw: unknown): unknown {
    const typeName = this.#graph.byKey("CustomAttributeType", String(configuration.type_id))?.name;
    const where = `custom attribute '${configuration.key}'`;
    switch (typeName) {
      case "text":
        return checkScalar(where, { kind: "scalar", type: "string" }, raw);
      case "number":
        return checkScalar(where, { kind: "scalar", type: "number" }, raw);
      case "boolean":
        return checkScalar(where, { kind: "scalar", type: "boolean" }, raw);
      case "date":
        return checkScalar(where, { kind: "scalar", type: "string", format: "date-time" }, raw);
      case "enumerator":
        if (raw === null || (Array.isArray(raw) && raw.every((item) => typeof item === "string"))) return raw;
        throw new TrackerError(
          "ValidationError",
          `Cannot set '${where}' to ${quoteValue(raw)}: expected a list of strings.`,
        );
      default:
        return decodeValue(raw);
    }
  }

  /** `PermissionError` unless the writer is an administrator (users may change only themselves). */
  #mayChangeUser(user: Row | undefined, what: string): void {
    if (this.#context.administrator) return;
    const target = user === undefined ? "" : ` user '${user.username}'`;
    throw new TrackerError(
      "PermissionError",
      `Permission denied: only administrators may ${what}${target}.`,
    );
  }

  /**
   * A project has no parent; a typed context belongs to its parent's project, and so does everything
   * below it when it moves to another project.
   */
  #followProject(row: Row): void {
    if (row.__type === "Project") {
      if (row.parent_id != null) {
        throw new TrackerError(
          "ValidationError",
          `Cannot save Project '${row.name}': 'parent_id' ${
            quoteValue(row.parent_id)
          } would put it under another context.`,
        );
      }
      return;
    }
    const parent = typeof row.parent_id === "string" ? this.#graph.byKey("Context", row.parent_id) : undefined;
    const projectId = parent?.__type === "Project" ? parent.id : parent?.project_id;
    if (projectId == null) return;
    // Down the tree, only where the project differs: a touched context that did not move costs one lookup.
    const pending = [row];
    const seen = new Set<Row>(pending);
    while (pending.length > 0) {
      const current = pending.pop()!;
      if (current.project_id !== projectId) {
        this.#graph.store.update("Context", String(current.id), { project_id: projectId });
      }
      for (const child of this.#graph.lookup("Context", "parent_id", current.id) ?? []) {
        if (child.project_id !== projectId && !seen.has(child)) {
          seen.add(child);
          pending.push(child);
        }
      }
    }
  }

  /** Metadata and custom attribute values of another user are that user's to change. */
  #guardUserData(ownerId: unknown): void {
    if (this.#context.administrator || typeof ownerId !== "string" || ownerId === this.#context.userId) return;
    const user = this.#graph.byKey("User", ownerId);
    if (user !== undefined) this.#mayChangeUser(user, "change");
  }

  #uniqueUsername(username: unknown): void {
    if ((this.#graph.lookup("User", "username", username)?.length ?? 0) > 0) {
      throw new TrackerError(
        "DuplicateEntryError",
        `DuplicateEntryError: a user named ${quoteValue(username)} already exists.`,
      );
    }
  }

  /**
   * `ValidationError` when following a tree link up from the row comes back to a row already on
   * the way (an entity that would be its own ancestor). Rows found to lead to a root join
   * `acyclic`, so a batch of many rows in one deep tree is checked in linear time.
   */
  #refuseCycle(table: string, row: Row, acyclic: Set<Row>): void {
    for (const link of TREE_LINKS) {
      if (link.table !== table) continue;
      const path = new Set<Row>();
      let current: Row | undefined = row;
      while (current !== undefined && !acyclic.has(current)) {
        if (path.has(current)) {
          throw new TrackerError(
            "ValidationError",
            `Cannot save '${current.__type}' '${current.id}': '${link.key}' ${
              quoteValue(current[link.key])
            } would make it ${link.relation}.`,
          );
        }
        path.add(current);
        const next: unknown = current[link.key];
        current = typeof next === "string" ? this.#graph.byKey(link.typeId, next) : undefined;
      }
      for (const member of path) acyclic.add(member);
    }
  }

  /** Removes a row and everything it owns, without recursion (hierarchies may be deep). */
  #remove(first: Row): void {
    const pending = [first];
    const removed = new Set<Row>();
    while (pending.length > 0) {
      const row = pending.pop()!;
      if (removed.has(row)) continue;
      removed.add(row);
      const type = this.#graph.typeOf(row);
      for (const [base, names] of Object.entries(OWNED)) {
        if (!isA(type.id, base)) continue;
        for (const name of names) {
          if (!(name in type.attributes)) continue;
          const resolved = this.#graph.resolve(row, name);
          if (resolved.kind === "entities") { for (const owned of resolved.rows) pending.push(owned); }
        }
      }
      for (const value of this.#graph.lookup("CustomAttributeValue", "entity_id", row.id) ?? []) pending.push(value);
      this.#graph.store.remove(type.table, this.#graph.keyOf(row));
    }
  }
}
