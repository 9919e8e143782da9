/**
 * The `search` action (the JavaScript client's `session.search`): a query whose rows must also
 * hold every search term, optionally under a context and of some object types.
 *
 * @module
 */
import type { Graph } from "./graph.ts";
import { entityType, isA, TrackerError } from "./schema/catalog.ts";
import type { Row } from "./store/entity_store.ts";

/** The text attributes a search term is looked for in (besides the names on the entity's `link`). */
const SEARCHED = [
  "name",
  "full_name",
  "description",
  "comment",
  "username",
  "first_name",
  "last_name",
  "email",
  "content",
];

/** What `search` asks besides its query expression. */
export interface SearchTerms {
  /** The schema id searched; the expression's type must be it or derive from it. */
  entityType: string;
  /** Words every row must contain (case-insensitive), in one of its names or its path's names. */
  terms: readonly string[];
  /** Only the context itself and what is under it. */
  contextId?: string | null | undefined;
  /** Only rows of these object types (typed contexts). */
  objectTypeIds?: readonly string[] | null | undefined;
}

/**
 * A row filter for `search`: every term in the row's text attributes or the names on its `link`
 * (so a shot's name finds its versions), under `contextId`, of `objectTypeIds`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Tracker } from "./tracker.ts";
 * import { searchFilter } from "./search.ts";
 *
 * const tracker = await Tracker.open({ data: ":memory:" });
 * const accept = searchFilter(tracker.graph, { entityType: "Location", terms: ["SERVER"] });
 * ok([...tracker.graph.rowsOf("Location")].filter(accept).length === 1);
 * await tracker.close();
 * ```
 */
export function searchFilter(graph: Graph, search: SearchTerms): (row: Row) => boolean {
  entityType(search.entityType);
  const terms = search.terms.map((term) => term.trim().toLowerCase()).filter((term) => term.length > 0);
  const objectTypes = search.objectTypeIds && search.objectTypeIds.length > 0
    ? new Set(search.objectTypeIds)
    : undefined;
  const { contextId } = search;
  if (contextId != null && graph.byKey("Context", contextId) === undefined) {
    throw new TrackerError("ValidationError", `Cannot search under context '${contextId}': it does not exist.`);
  }
  return (row) => {
    if (objectTypes !== undefined && !objectTypes.has(String(row.object_type_id))) return false;
    const path = isA(row.__type, "Context") || row.__type === "AssetVersion" || row.__type === "Asset"
      ? graph.link(row)
      : [];
    if (contextId != null && row.id !== contextId && !path.some((item) => item.id === contextId)) return false;
    if (terms.length === 0) return true;
    const texts = SEARCHED.map((name) => row[name]).filter((value): value is string => typeof value === "string");
    const haystack = [...texts, ...path.map((item) => item.name)].join("\n").toLowerCase();
    return terms.every((term) => haystack.includes(term));
  };
}
