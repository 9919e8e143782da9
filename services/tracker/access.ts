/**
 * Who sees and changes what: the permission model of the embedded tracker. A user's security role
 * (administrator, normal user, read-only API user) and their access to private projects decide,
 * for every read (queries, searches, events, downloads) and every write.
 *
 * @module
 */
import type { Graph } from "./graph.ts";
import { isA, TrackerError } from "./schema/catalog.ts";
import type { ApiKeys, SecurityRole } from "./store/api_keys.ts";
import type { Row } from "./store/entity_store.ts";

/** Foreign keys followed (in this order) to find the project a row belongs to, with the types they name. */
const TOWARDS_PROJECT: ReadonlyArray<[string, readonly string[]]> = [
  ["project_id", ["Project"]],
  ["context_id", ["Context"]],
  ["asset_id", ["Asset"]],
  ["version_id", ["AssetVersion"]],
  ["task_id", ["Context"]],
  ["container_id", ["Component"]],
  ["component_id", ["Component"]],
  ["note_id", ["Note"]],
  ["in_reply_to_id", ["Note"]],
  ["parent_id", ["Context", "AssetVersion", "Asset", "Component", "Note"]],
  ["entity_id", ["Context", "AssetVersion", "Asset"]],
  ["list_id", ["List"]],
  // Links (TypedContextLink, AssetVersionLink): the project of what they link from.
  ["from_id", ["Context", "AssetVersion"]],
  ["to_id", ["Context", "AssetVersion"]],
];

/** The ids of the private projects (`Project.is_private`), read from every context. */
export function privateProjectIds(graph: Graph): Set<string> {
  const ids = new Set<string>();
  for (const project of graph.rowsOf("Project")) if (project.is_private === true) ids.add(String(project.id));
  return ids;
}

/** How many links are followed at most (a reply to a note on a component of a version, …). */
const MAX_HOPS = 12;

/**
 * One user's view of the tracker for one request. Private projects (`Project.is_private`) are
 * seen only by administrators and the users given access to them; everything in a project (its
 * contexts, assets, versions, components, notes, metadata, custom attribute values, …) goes with
 * it. A read-only user may read what they see and write nothing.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Tracker } from "./tracker.ts";
 * import { Access, privateProjectIds } from "./access.ts";
 *
 * const tracker = await Tracker.open({ data: ":memory:" });
 * const { user } = tracker.addUser({ username: "viewer" }, { role: "read_only" });
 * const access = new Access(tracker.graph, tracker.keys, String(user.id), privateProjectIds(tracker.graph));
 * ok(access.role === "read_only" && access.sees(tracker.graph.rowsOf("Location").next().value!));
 * await tracker.close();
 * ```
 */
export class Access {
  readonly userId: string;
  readonly role: SecurityRole;
  #graph: Graph;
  #hidden: Set<string>;
  #projectOf = new WeakMap<Row, string | null>();

  /**
   * `privateProjects`: the ids of the private projects (see {@linkcode privateProjectIds}; a
   * tracker keeps them between writes rather than reading every context per request).
   */
  constructor(graph: Graph, keys: ApiKeys, userId: string, privateProjects: Iterable<string>) {
    this.#graph = graph;
    this.userId = userId;
    this.role = keys.role(userId);
    this.#hidden = new Set();
    if (this.role !== "administrator") {
      let granted: Set<string> | undefined;
      for (const project of privateProjects) {
        granted ??= keys.projectsOf(userId);
        if (!granted.has(project)) this.#hidden.add(project);
      }
    }
  }

  /** Whether everything is visible (no private project is hidden from this user). */
  get seesAll(): boolean {
    return this.#hidden.size === 0;
  }

  /** Whether the user may see the row: it belongs to no project the user has no access to. */
  sees(row: Row): boolean {
    if (this.#hidden.size === 0) return true;
    const project = this.projectIdOf(row);
    return project === null || !this.#hidden.has(project);
  }

  /** A row filter for queries, or undefined when every row is visible. */
  get filter(): ((row: Row) => boolean) | undefined {
    return this.#hidden.size === 0 ? undefined : (row) => this.sees(row);
  }

  /** The id of the project a row belongs to, or null for rows of no project (users, statuses, …). */
  projectIdOf(row: Row): string | null {
    const known = this.#projectOf.get(row);
    if (known !== undefined) return known;
    let current: Row | undefined = row;
    let found: string | null = null;
    for (let hop = 0; current !== undefined && hop < MAX_HOPS; hop++) {
      if (current.__type === "Project") {
        found = String(current.id);
        break;
      }
      if (isA(current.__type, "Context") && typeof current.project_id === "string") {
        found = current.project_id;
        break;
      }
      current = this.#next(current);
    }
    this.#projectOf.set(row, found);
    return found;
  }

  #next(row: Row): Row | undefined {
    for (const [key, types] of TOWARDS_PROJECT) {
      const id = row[key];
      if (typeof id !== "string" || id === row.id) continue;
      for (const type of types) {
        const found = this.#graph.byKey(type, id);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }

  /** `PermissionError` when the user may not write at all (a read-only API user). */
  mayWrite(what: string): void {
    if (this.role === "read_only") {
      throw new TrackerError(
        "PermissionError",
        `Permission denied: '${what}' is a write, and this user has the read-only API role.`,
      );
    }
  }

  /** `PermissionError` when the user may not change the row (it is in a project they cannot see). */
  mayChange(row: Row, what: string): void {
    // Worked out afresh: the batch may have moved the row since it was last looked at.
    this.#projectOf.delete(row);
    if (!this.sees(row)) {
      throw new TrackerError(
        "PermissionError",
        `Permission denied: cannot ${what} ${row.__type} '${row.id ?? this.#graph.keyOf(row)}': ` +
          "it is in a private project this user has no access to.",
      );
    }
  }
}
