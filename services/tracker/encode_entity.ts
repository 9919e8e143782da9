import { encodeDate, isStoredDate } from "./codec.ts";
import type { Graph } from "./graph.ts";
import { systemAttributes, TrackerError } from "./schema/catalog.ts";
import type { Row } from "./store/entity_store.ts";
import type { EntityType } from "./schema/model.ts";

/** The primary key and system projections of each type, worked out once (every encoded row needs them). */
const alwaysEncoded = new WeakMap<EntityType, readonly string[]>();

function alwaysEncodedOf(type: EntityType): readonly string[] {
  let names = alwaysEncoded.get(type);
  if (names === undefined) {
    alwaysEncoded.set(type, names = [...new Set([...type.primaryKey, ...systemAttributes(type)])]);
  }
  return names;
}

/**
 * A stored datetime on the wire; null for anything else a tracker of before type checks may have
 * stored (`"garbage"`), which would break every client's decoding of the whole answer.
 */
function wireDate(value: unknown): ReturnType<typeof encodeDate> | null {
  return isStoredDate(value) ? encodeDate(value) : null;
}

/** Requested projections as a tree: `parent.name` → `{ parent: { name: {} } }`. */
export type ProjectionTree = Map<string, ProjectionTree>;

/** Builds the projection tree of a `select` list. */
export function projectionTree(paths: readonly string[][]): ProjectionTree {
  const root: ProjectionTree = new Map();
  for (const path of paths) {
    let node = root;
    for (const name of path) {
      let child = node.get(name);
      if (child === undefined) node.set(name, child = new Map());
      node = child;
    }
  }
  return root;
}

/**
 * An entity on the wire: `__entity_type__` (always the concrete type), every primary-key
 * attribute, the system projections, and the requested attributes (the type's default projections
 * when none are asked for), nested as requested.
 */
export function encodeEntity(
  graph: Graph,
  row: Row,
  tree?: ProjectionTree,
  visible?: (row: Row) => boolean,
): Record<string, unknown> {
  return encodeWithin(graph, row, tree, { left: MAX_NESTED_ENTITIES, root: row, visible });
}

/**
 * The most entities one encoded entity may nest: selections that go back and forth through
 * collections (`children.parent.children.parent…`) multiply, and are refused past it.
 */
export const MAX_NESTED_ENTITIES = 1_000_000;

function encodeWithin(
  graph: Graph,
  row: Row,
  tree: ProjectionTree | undefined,
  budget: { left: number; root: Row; visible: ((row: Row) => boolean) | undefined },
): Record<string, unknown> {
  if (--budget.left < 0) {
    throw new TrackerError(
      "ValidationError",
      `Cannot answer the query: ${budget.root.__type} '${budget.root.id ?? graph.keyOf(budget.root)}' would nest ` +
        `more than ${MAX_NESTED_ENTITIES} entities; select fewer nested collections.`,
    );
  }
  const type = graph.typeOf(row);
  const out: Record<string, unknown> = { __entity_type__: row.__type };
  const names = new Set(alwaysEncodedOf(type));
  const requested = tree && tree.size > 0 ? [...tree.keys()] : type.defaultProjections;
  for (const name of requested) names.add(name);
  for (const name of names) {
    if (type.attributes[name] === undefined) continue;
    const subtree = tree?.get(name);
    const resolved = graph.resolve(row, name);
    if (resolved.kind === "values") {
      const value = resolved.values[0] ?? null;
      const attribute = type.attributes[name]!;
      out[name] = attribute.kind === "scalar" && attribute.format === "date-time" ? wireDate(value) : value;
    } else {
      // Entities of private projects the user has no access to are left out, nested ones too.
      const { visible } = budget;
      const rows = visible === undefined ? resolved.rows : resolved.rows.filter(visible);
      if (resolved.many) out[name] = rows.map((target) => encodeWithin(graph, target, subtree, budget));
      else out[name] = rows[0] ? encodeWithin(graph, rows[0], subtree, budget) : null;
    }
  }
  return out;
}

/** The visible scalar attributes of each type, in schema order, with whether each is a datetime. */
const visibleScalars = new WeakMap<EntityType, ReadonlyArray<readonly [name: string, date: boolean]>>();

function visibleScalarsOf(type: EntityType): ReadonlyArray<readonly [name: string, date: boolean]> {
  let found = visibleScalars.get(type);
  if (found === undefined) {
    found = Object.entries(type.attributes)
      .filter(([, attribute]) => attribute.kind === "scalar" && !attribute.hidden)
      .map(([name, attribute]) => [name, attribute.kind === "scalar" && attribute.format === "date-time"] as const);
    visibleScalars.set(type, found);
  }
  return found;
}

/** The stored scalar values of a row (what `create` answers with), encoded. */
export function encodeScalars(graph: Graph, row: Row, only?: Iterable<string>): Record<string, unknown> {
  const type = graph.typeOf(row);
  const out: Record<string, unknown> = { __entity_type__: row.__type };
  const names = only ? new Set([...alwaysEncodedOf(type), ...only]) : undefined;
  for (const [name, date] of visibleScalarsOf(type)) {
    if (names && !names.has(name)) continue;
    const value = row[name];
    if (value === undefined || (value === null && !names)) continue;
    out[name] = date ? wireDate(value) : value;
  }
  return out;
}

/**
 * The collections among `names` (`metadata`, `components`, `replies`, `scopes`, …) as lists of
 * entity references (`{__entity_type__, <primary key>}`), as ftrack answers an update that set them.
 */
export function encodeCollections(graph: Graph, row: Row, names: Iterable<string>): Record<string, unknown> {
  const type = graph.typeOf(row);
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const attribute = type.attributes[name];
    if (attribute?.kind !== "collection" && attribute?.kind !== "association") continue;
    const resolved = graph.resolve(row, name);
    if (resolved.kind !== "entities") continue;
    out[name] = resolved.rows.map((member) => {
      const reference: Record<string, unknown> = { __entity_type__: member.__type };
      for (const key of graph.typeOf(member).primaryKey) reference[key] = member[key];
      return reference;
    });
  }
  return out;
}
