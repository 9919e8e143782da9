import { isStoredDate, parseDate } from "../codec.ts";
import type { Graph } from "../graph.ts";
import { entityType, findAttribute, TrackerError } from "../schema/catalog.ts";
import type { Attribute, EntityType } from "../schema/model.ts";
import type { Row } from "../store/entity_store.ts";
import { compileLike, type LikeMatcher } from "./match_like.ts";
import { type Condition, type Literal, type Query, quoteQuery } from "./parse_query.ts";

/** The rows of one page, and where the next page starts (null when there is none). */
export interface QueryPage {
  rows: Row[];
  next: number | null;
  type: EntityType;
  /** How many candidate rows the query tested (fewer than the table when a page ends early). */
  scanned: number;
}

const NULL_WORDS = new Set(["none", "null", "undefined"]);

/**
 * Checks that `path` exists from `type` (attributes of subtypes count, as a query on `Context`
 * may filter on `object_type_id`); `ValidationError` naming the first unknown part.
 */
export function checkPath(type: EntityType, path: string[], query: string): void {
  let current: EntityType | undefined = type;
  for (let i = 0; i < path.length; i++) {
    const name = path[i]!;
    if (current === undefined) {
      throw new TrackerError(
        "ValidationError",
        `Cannot query ${quoteQuery(query)}: '${path.slice(0, i).join(".")}' is a value, not an entity.`,
      );
    }
    const attribute = findAttribute(current, name);
    if (attribute === undefined) {
      throw new TrackerError(
        "ValidationError",
        `Cannot query ${quoteQuery(query)}: entity type '${current.id}' has no attribute '${name}'.`,
      );
    }
    switch (attribute.kind) {
      case "scalar":
        current = undefined;
        break;
      case "computed":
        current = attribute.target ? entityType(attribute.target) : undefined;
        break;
      default:
        current = entityType(attribute.target);
    }
  }
}

function checkCondition(type: EntityType, condition: Condition | undefined, query: string): void {
  if (condition === undefined) return;
  switch (condition.kind) {
    case "and":
    case "or":
      for (const operand of condition.operands) checkCondition(type, operand, query);
      return;
    case "not":
      return checkCondition(type, condition.operand, query);
    case "compare":
      return checkPath(type, condition.path, query);
    case "in":
      checkPath(type, condition.path, query);
      if (!Array.isArray(condition.values)) checkQuery(condition.values, query);
      return;
    case "has":
    case "any": {
      checkPath(type, condition.path, query);
      const target = targetOf(type, condition.path);
      if (target === undefined) {
        throw new TrackerError(
          "ValidationError",
          `Cannot query ${quoteQuery(query)}: '${condition.path.join(".")}' is not a relation.`,
        );
      }
      return checkCondition(target, condition.condition, query);
    }
  }
}

function targetOf(type: EntityType, path: string[]): EntityType | undefined {
  let current: EntityType | undefined = type;
  for (const name of path) {
    const attribute = current && findAttribute(current, name);
    if (attribute === undefined || attribute.kind === "scalar") return undefined;
    if (attribute.kind === "computed") {
      if (!attribute.target) return undefined;
      current = entityType(attribute.target);
    } else {
      current = entityType(attribute.target);
    }
  }
  return current;
}

/** Validates every path of a parsed query against the schemas. */
export function checkQuery(query: Query, text: string): EntityType {
  const type = entityType(query.type);
  for (const path of query.select ?? []) checkPath(type, path, text);
  for (const { path } of query.orderBy) checkPath(type, path, text);
  checkCondition(type, query.where, text);
  return type;
}

/**
 * The most steps one query may take: each candidate row tested and each row, value or entity a
 * path reaches counts one (about 0.1 to 0.2 µs each). Far above what a query of a large project
 * needs (a condition through two relations on 130,000 shots takes under a million), it stops a
 * query whose cost multiplies (`parent.children any (parent.children any (…))` over a big
 * sequence) from holding the tracker, and every client waiting on it, for minutes.
 */
export const MAX_QUERY_STEPS = 10_000_000;

/** Options of {@linkcode runQuery}. */
export interface RunQueryOptions {
  /** The most steps the query may take before it is refused. @default {MAX_QUERY_STEPS} */
  maxSteps?: number;
  /** Rows the query may return besides matching it (search terms); not applied to subqueries. */
  accept?: (row: Row) => boolean;
  /** Rows the asking user may see: no query or subquery returns others. */
  visible?: (row: Row) => boolean;
  /**
   * Find candidate rows through indexes where the condition allows; false tests every row of the
   * type (the same answer, slower: for comparing the two). @default {true}
   */
  useIndexes?: boolean;
}

/** What a query may still spend; shared with its subqueries. */
class Budget {
  readonly max: number;
  readonly text: string;
  readonly visible: ((row: Row) => boolean) | undefined;
  readonly useIndexes: boolean;
  left: number;

  constructor(max: number, text: string, visible: ((row: Row) => boolean) | undefined, useIndexes: boolean) {
    this.max = max;
    this.left = max;
    this.text = text;
    this.visible = visible;
    this.useIndexes = useIndexes;
  }

  spend(steps: number): void {
    this.left -= steps;
    if (this.left < 0) {
      throw new TrackerError(
        "ValidationError",
        `Cannot query ${quoteQuery(this.text)}: it needs more than ${this.max} steps (rows and relations visited); ` +
          "narrow it with a condition on an id, a name or a parent, or split it.",
      );
    }
  }
}

/**
 * Runs a parsed query: candidates from an index when the condition allows, then filter, order, page.
 * Without `order by`, a page stops the scan one match after its end (that match tells whether
 * there is a next page), so `limit 1` on a large table touches only as many rows as it needs.
 * A query that would take more than `maxSteps` steps is refused with a `ValidationError`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Tracker } from "../tracker.ts";
 * import { parseQuery } from "./parse_query.ts";
 * import { runQuery } from "./run_query.ts";
 *
 * const tracker = await Tracker.open({ data: ":memory:" });
 * const text = "select name from Location order by name limit 2";
 * const page = runQuery(tracker.graph, parseQuery(text), text);
 * ok(page.rows.length === 2 && page.next === 2);
 * await tracker.close();
 * ```
 */
export function runQuery(graph: Graph, query: Query, text: string, options: RunQueryOptions = {}): QueryPage {
  const { maxSteps = MAX_QUERY_STEPS, accept, visible, useIndexes = true } = options;
  return runWithin(graph, query, text, new Budget(maxSteps, text, visible, useIndexes), accept);
}

function runWithin(
  graph: Graph,
  query: Query,
  text: string,
  budget: Budget,
  accept?: (row: Row) => boolean,
): QueryPage {
  const type = checkQuery(query, text);
  const evaluator = new Evaluator(graph, budget);
  const candidates = (budget.useIndexes ? plan(graph, type, query.where) : undefined) ?? graph.rowsOf(type.id);
  const { where, limit } = query;
  const offset = query.offset ?? 0;
  if (query.orderBy.length === 0) {
    const rows: Row[] = [];
    let matched = 0;
    let scanned = 0;
    for (const row of candidates) {
      scanned++;
      budget.spend(1);
      if (where !== undefined && !evaluator.test(row, where)) continue;
      if (budget.visible !== undefined && !budget.visible(row)) continue;
      if (accept !== undefined && !accept(row)) continue;
      if (limit !== undefined && matched >= offset + limit) {
        return { rows, next: offset + rows.length, type, scanned };
      }
      if (matched >= offset) rows.push(row);
      matched++;
    }
    return { rows, next: null, type, scanned };
  }
  const matches: Array<{ row: Row; key: unknown[] }> = [];
  let scanned = 0;
  for (const row of candidates) {
    scanned++;
    budget.spend(1);
    if (where !== undefined && !evaluator.test(row, where)) continue;
    if (budget.visible !== undefined && !budget.visible(row)) continue;
    if (accept !== undefined && !accept(row)) continue;
    matches.push({ row, key: query.orderBy.map(({ path }) => evaluator.values(row, path)[0] ?? null) });
  }
  const compare = (a: { row: Row; key: unknown[] }, b: { row: Row; key: unknown[] }): number => {
    for (let i = 0; i < query.orderBy.length; i++) {
      const order = compareValues(a.key[i], b.key[i]);
      if (order !== 0) return query.orderBy[i]!.descending ? -order : order;
    }
    return a.row.__seq - b.row.__seq;
  };
  // A page near the start needs only the first offset + limit rows in order, not all of them.
  const ordered = limit !== undefined && offset + limit < matches.length
    ? smallest(matches, offset + limit, compare)
    : matches.sort(compare);
  const page = (limit === undefined ? ordered.slice(offset) : ordered.slice(offset, offset + limit)).map((m) => m.row);
  const end = offset + page.length;
  return { rows: page, next: limit !== undefined && end < matches.length ? end : null, type, scanned };
}

/**
 * The `count` first items in the order of `compare` (a total order), sorted: a bounded max-heap,
 * O(n log count) instead of sorting all n.
 */
function smallest<T>(items: readonly T[], count: number, compare: (a: T, b: T) => number): T[] {
  const heap: T[] = [];
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let largest = i;
      if (left < heap.length && compare(heap[left]!, heap[largest]!) > 0) largest = left;
      if (right < heap.length && compare(heap[right]!, heap[largest]!) > 0) largest = right;
      if (largest === i) return;
      [heap[i], heap[largest]] = [heap[largest]!, heap[i]!];
      i = largest;
    }
  };
  for (const item of items) {
    if (heap.length < count) {
      heap.push(item);
      for (let i = heap.length - 1; i > 0;) {
        const parent = (i - 1) >> 1;
        if (compare(heap[i]!, heap[parent]!) <= 0) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    } else if (count > 0 && compare(item, heap[0]!) < 0) {
      heap[0] = item;
      siftDown(0);
    }
  }
  return heap.sort(compare);
}

/** Values of a subquery's first projection (or the primary key), for `in (select …)`. */
function subqueryValues(graph: Graph, query: Query, budget: Budget): Set<unknown> {
  const page = runWithin(graph, query, budget.text, budget);
  const path = query.select?.[0] ?? [page.type.primaryKey[0]!];
  const evaluator = new Evaluator(graph, budget);
  const values = new Set<unknown>();
  for (const row of page.rows) for (const value of evaluator.values(row, path)) values.add(value);
  return values;
}

/** A way to find a condition's candidate rows through indexes, and about how many it finds. */
interface Candidates {
  /** About how many rows it finds (index sizes, before types are told apart); past `cap`, any larger number. */
  estimate: number;
  /** The rows, each once, in creation order. */
  rows(): Row[];
}

/**
 * Candidate rows through indexes: every row the condition may hold for, in creation order, or
 * undefined when the whole table must be scanned. Uses `id is X`, `fk is X`, `name is X`,
 * `x in (…)` and chains of references ending in one (`parent.id is X`, `configuration.key is X`);
 * of the operands of an `and`, the one with the fewest rows (`entity_id in (…)` before
 * `configuration.key is …`, which every value of a configuration shares); an `or` whose every
 * operand has candidates, their union. The rows are candidates only: the whole condition is
 * tested on each.
 */
function plan(graph: Graph, type: EntityType, condition: Condition | undefined): Iterable<Row> | undefined {
  return candidates(graph, type, condition, Number.POSITIVE_INFINITY)?.rows();
}

function candidates(
  graph: Graph,
  type: EntityType,
  condition: Condition | undefined,
  cap: number,
): Candidates | undefined {
  if (condition === undefined) return undefined;
  switch (condition.kind) {
    case "and": {
      let best: Candidates | undefined;
      for (const operand of condition.operands) {
        // Counting stops past the best so far: a broad operand costs no more than the narrowest one.
        const found = candidates(graph, type, operand, Math.min(cap, best?.estimate ?? cap));
        if (found !== undefined && (best === undefined || found.estimate < best.estimate)) best = found;
        if (best?.estimate === 0) break;
      }
      return best;
    }
    case "or": {
      const parts: Candidates[] = [];
      let estimate = 0;
      for (const operand of condition.operands) {
        const found = candidates(graph, type, operand, cap - estimate);
        if (found === undefined) return undefined;
        parts.push(found);
        estimate += found.estimate;
      }
      return {
        estimate,
        rows: () => inCreationOrder(parts.flatMap((part) => part.rows())),
      };
    }
    case "compare":
    case "in": {
      const literals = condition.kind === "compare"
        ? (condition.operator === "is" ? [condition.value] : undefined)
        : (!condition.negated && Array.isArray(condition.values) ? condition.values : undefined);
      if (literals === undefined) return undefined;
      if (literals.some((literal) => !literal.quoted && NULL_WORDS.has(literal.text.toLowerCase()))) return undefined;
      const values = literals.map((literal) => literal.text);
      const estimate = countPath(graph, type, condition.path, values, cap);
      if (estimate === undefined) return undefined;
      return {
        estimate,
        rows: () => {
          const rows = planPath(graph, type, condition.path, values)!;
          // One value of one indexed attribute: the lookup is already unique and in creation order.
          return values.length === 1 && condition.path.length === 1 ? rows : inCreationOrder(rows);
        },
      };
    }
    default:
      return undefined;
  }
}

/** Rows each once, in creation order. */
function inCreationOrder(rows: Row[]): Row[] {
  return [...new Set(rows)].sort((a, b) => a.__seq - b.__seq);
}

/** Whether `path` (one attribute) of `type` is its single primary key. */
function isSingleKey(type: EntityType, name: string): boolean {
  return name === type.primaryKey[0] && type.primaryKey.length === 1;
}

/**
 * About how many rows of `type` {@linkcode planPath} finds, from index sizes, without collecting
 * them; undefined when indexes cannot answer. Stops counting (and following chains) once past `cap`.
 */
function countPath(graph: Graph, type: EntityType, path: string[], values: string[], cap: number): number | undefined {
  if (!plannable(graph, type, path)) return undefined;
  const name = path[0]!;
  if (path.length === 1) {
    if (isSingleKey(type, name)) return values.length;
    let count = 0;
    for (const value of values) {
      count += graph.store.lookup(type.table, name, value)!.size;
      if (count > cap) break;
    }
    return count;
  }
  const attribute = findAttribute(type, name) as Extract<Attribute, { kind: "reference" }>;
  const target = entityType(attribute.target);
  // Each target row costs a step, found or not: a chain through many rows that lead nowhere is not cheap either.
  let count = 0;
  for (const targetRow of pathRows(graph, target, path.slice(1), values, { unordered: true })) {
    count += 1 + graph.store.lookup(type.table, attribute.key, targetRow[target.primaryKey[0]!])!.size;
    if (count > cap) break;
  }
  return count;
}

/**
 * The rows {@linkcode planPath} finds, one at a time (repeats and any order); the path must be
 * plannable. `unordered` (for counting) takes each index's rows as they are: not sorted, and the
 * rows of other types sharing the table included.
 */
function* pathRows(
  graph: Graph,
  type: EntityType,
  path: string[],
  values: string[],
  { unordered = false }: { unordered?: boolean } = {},
): Generator<Row> {
  const lookup = (column: string, value: unknown): Iterable<Row> =>
    (unordered ? graph.store.lookup(type.table, column, value) : graph.lookup(type.id, column, value)) ?? [];
  const name = path[0]!;
  if (path.length === 1) {
    for (const value of values) {
      if (isSingleKey(type, name)) {
        const row = graph.byKey(type.id, value);
        if (row) yield row;
      } else {
        yield* lookup(name, value);
      }
    }
    return;
  }
  const attribute = findAttribute(type, name) as Extract<Attribute, { kind: "reference" }>;
  const target = entityType(attribute.target);
  for (const targetRow of pathRows(graph, target, path.slice(1), values, { unordered })) {
    yield* lookup(attribute.key, targetRow[target.primaryKey[0]!]);
  }
}

/** Whether indexes can find the rows of `type` whose `path` has a given value. */
function plannable(graph: Graph, type: EntityType, path: string[]): boolean {
  const name = path[0]!;
  const attribute = findAttribute(type, name);
  if (path.length === 1) {
    return isSingleKey(type, name) || (attribute?.kind === "scalar" && graph.store.isIndexed(type.table, name));
  }
  return attribute?.kind === "reference" && graph.store.isIndexed(type.table, attribute.key) &&
    plannable(graph, entityType(attribute.target), path.slice(1));
}

/** Rows of `type` whose `path` has one of `values`, through indexes only; undefined when that is not possible. */
function planPath(graph: Graph, type: EntityType, path: string[], values: string[]): Row[] | undefined {
  return plannable(graph, type, path) ? [...pathRows(graph, type, path, values)] : undefined;
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const left = String(a);
  const right = String(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Reads a literal as the kind of value it is compared with. */
function coerce(literal: Literal, sample: unknown): unknown {
  if (!literal.quoted && NULL_WORDS.has(literal.text.toLowerCase())) return null;
  if (typeof sample === "number") {
    const value = Number(literal.text);
    return Number.isNaN(value) ? literal.text : value;
  }
  if (typeof sample === "boolean") {
    const lower = literal.text.toLowerCase();
    if (lower === "true" || lower === "1") return true;
    if (lower === "false" || lower === "0") return false;
    return literal.text;
  }
  if (isStoredDate(sample)) {
    try {
      return parseDate(literal.text);
    } catch {
      return literal.text;
    }
  }
  if (sample === null && !literal.quoted) {
    const lower = literal.text.toLowerCase();
    if (lower === "true") return true;
    if (lower === "false") return false;
  }
  return literal.text;
}

/** The kinds of stored value a literal is read differently for (see `coerce`). */
function kindOf(value: unknown): "number" | "boolean" | "null" | "date" | "other" {
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  if (value === null) return "null";
  return isStoredDate(value) ? "date" : "other";
}

/** Evaluates conditions on rows. */
class Evaluator {
  #graph: Graph;
  #subqueries = new Map<Query, Set<unknown>>();
  #likes = new Map<string, LikeMatcher>();
  /** Each literal read as each kind of value, so rows do not re-parse the same literal. */
  #coerced = new Map<Literal, Map<string, unknown>>();
  /** The values of an `in (…)` list as each kind of value reads them: one lookup per row value. */
  #inSets = new Map<Literal[], Map<string, Set<unknown>>>();

  #budget: Budget;

  constructor(graph: Graph, budget: Budget) {
    this.#graph = graph;
    this.#budget = budget;
  }

  /**
   * The values at the end of a path: scalars, or primary keys of entities; through collections, all
   * of them. Each step keeps an entity once, so paths that come back (`children.parent.children…`)
   * cost the size of each step, not the product of the collections' sizes.
   */
  values(row: Row, path: string[]): unknown[] {
    let current: Iterable<Row> = [row];
    const values: unknown[] = [];
    for (let i = 0; i < path.length; i++) {
      const last = i === path.length - 1;
      const next = new Set<Row>();
      for (const entity of current) {
        const resolved = this.#graph.resolve(entity, path[i]!);
        this.#budget.spend(1 + (resolved.kind === "values" ? resolved.values.length : resolved.rows.length));
        if (resolved.kind === "values") {
          if (last) { for (const value of resolved.values) values.push(value); }
        } else if (last) {
          if (resolved.rows.length === 0 && !resolved.many) values.push(null);
          for (const target of resolved.rows) values.push(target[this.#graph.typeOf(target).primaryKey[0]!]);
        } else {
          if (resolved.rows.length === 0 && !resolved.many) values.push(null);
          for (const target of resolved.rows) next.add(target);
        }
      }
      current = next;
    }
    return values;
  }

  /** The entities at the end of a path, each once. */
  entities(row: Row, path: string[]): Row[] {
    let current = new Set<Row>([row]);
    for (const name of path) {
      const next = new Set<Row>();
      for (const entity of current) {
        const resolved = this.#graph.resolve(entity, name);
        this.#budget.spend(1 + (resolved.kind === "values" ? resolved.values.length : resolved.rows.length));
        if (resolved.kind === "entities") { for (const target of resolved.rows) next.add(target); }
      }
      current = next;
    }
    return [...current];
  }

  test(row: Row, condition: Condition): boolean {
    switch (condition.kind) {
      case "and":
        return condition.operands.every((operand) => this.test(row, operand));
      case "or":
        return condition.operands.some((operand) => this.test(row, operand));
      case "not":
        return !this.test(row, condition.operand);
      case "has":
      case "any": {
        const targets = this.entities(row, condition.path);
        return condition.condition === undefined
          ? targets.length > 0
          : targets.some((target) => this.test(target, condition.condition!));
      }
      case "in": {
        const values = this.values(row, condition.path);
        let found: boolean;
        if (Array.isArray(condition.values)) {
          found = values.some((value) => this.#inSet(condition.values as Literal[], value).has(value));
        } else {
          let set = this.#subqueries.get(condition.values);
          if (set === undefined) {
            set = subqueryValues(this.#graph, condition.values, this.#budget);
            this.#subqueries.set(condition.values, set);
          }
          found = values.some((value) => set!.has(value));
        }
        return condition.negated ? !found : found;
      }
      case "compare": {
        const values = this.values(row, condition.path);
        const { operator, value: literal } = condition;
        if (operator === "is_not" || operator === "not_like") {
          // "not equal" holds when no value equals (so an empty collection passes).
          const positive = { ...condition, operator: operator === "is_not" ? "is" : "like" } as Condition;
          return !this.test(row, positive);
        }
        return values.some((value) => {
          const expected = this.#coerce(literal, value);
          switch (operator) {
            case "is":
              return value === expected || (value !== null && expected !== null && String(value) === String(expected));
            case "like": {
              if (value === null) return false;
              let matcher = this.#likes.get(literal.text);
              if (matcher === undefined) this.#likes.set(literal.text, matcher = compileLike(literal.text));
              return matcher(String(value));
            }
            default: {
              if (value === null || expected === null) return false;
              const order = compareValues(value, expected);
              return operator === ">"
                ? order > 0
                : operator === "<"
                ? order < 0
                : operator === ">="
                ? order >= 0
                : order <= 0;
            }
          }
        });
      }
    }
  }

  #coerce(literal: Literal, value: unknown): unknown {
    let byKind = this.#coerced.get(literal);
    if (byKind === undefined) this.#coerced.set(literal, byKind = new Map());
    const kind = kindOf(value);
    if (!byKind.has(kind)) byKind.set(kind, coerce(literal, value));
    return byKind.get(kind);
  }

  #inSet(literals: Literal[], value: unknown): Set<unknown> {
    let byKind = this.#inSets.get(literals);
    if (byKind === undefined) this.#inSets.set(literals, byKind = new Map());
    const kind = kindOf(value);
    let set = byKind.get(kind);
    if (set === undefined) byKind.set(kind, set = new Set(literals.map((literal) => coerce(literal, value))));
    return set;
  }
}
