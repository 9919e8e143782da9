import { Collection } from "./collection.ts";
import { type AssemblePattern, type CompiledPattern, compilePattern } from "./patterns.ts";
import { AffixHasher, groupHash } from "./_affix_hasher.ts";
import { GroupTable } from "./_group_table.ts";
import { formatIndex, indexWidth, isDigitCode, readIndex, sortedHas, sortUnique } from "./_index_text.ts";

/** Options of {@linkcode assemble}; the names are clique's, in camelCase. */
export interface AssembleOptions {
  /**
   * Where frame numbers may be: presets (`"digits"`, `"frames"`, `"versions"`) or strings / RegExps
   * containing {@linkcode DIGITS_PATTERN} exactly once. An empty list assembles nothing.
   * @default {["digits"]}
   */
  patterns?: readonly AssemblePattern[];
  /**
   * Collections with fewer frames go back to the remainder.
   * @default {2}
   */
  minimumItems?: number;
  /**
   * When false, names that differ only in case are grouped, and collections (and the remainder
   * members they give back) are lower-cased, as in clique.
   * @default {true}
   */
  caseSensitive?: boolean;
  /**
   * Give an unpadded collection whose first and last frame have the same width that width as
   * padding (`1000-1002` becomes `%04d`).
   * @default {false}
   */
  assumePaddedWhenAmbiguous?: boolean;
}

/** What {@linkcode assemble} returns. */
export interface AssembleResult {
  /** The collections, in the order their first member was seen. */
  collections: Collection[];
  /** Items in no collection: unmatched items in input order, then members of dropped collections. */
  remainder: string[];
}

/**
 * Groups names into image sequences: clique 1.5's `assemble`, with the same collections in the
 * same order and the same remainder, quirks included (padded/unpadded merging across the padding
 * boundary, overlapping membership, lower-cased remainder members when case-insensitive).
 *
 * Unlike clique, no step is quadratic: grouping, merging and the remainder use hash indexes, so a
 * million names take well under two seconds on one core.
 *
 * Decisions: digits are ASCII only; a digit run whose value exceeds `Number.MAX_SAFE_INTEGER`
 * (a hash or timestamp, say) is not a frame number, so a name with only such runs is a stray.
 * A minus sign is never part of a frame number (`shot.-001.exr` has the head `shot.-`).
 *
 * @example Frames and strays
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { assemble } from "./mod.ts";
 *
 * const { collections, remainder } = assemble([
 *   "beauty.1001.exr", "beauty.1002.exr", "beauty.1004.exr", "notes.txt",
 * ]);
 * ok(collections.length === 1);
 * ok(collections[0]!.format() === "beauty.%d.exr [1001-1002, 1004]");
 * ok(remainder[0] === "notes.txt");
 * ```
 */
export function assemble(items: Iterable<string>, options: AssembleOptions = {}): AssembleResult {
  const { patterns, minimumItems = 2, caseSensitive = true, assumePaddedWhenAmbiguous = false } = options;
  if (!Number.isSafeInteger(minimumItems) || minimumItems < 0) {
    throw new RangeError(`Cannot assemble with minimumItems '${minimumItems}': it must be a whole number ≥ 0`);
  }
  if (patterns !== undefined && patterns.length === 0) return { collections: [], remainder: [...items] };
  const compiled = (patterns ?? ["digits"]).map((pattern) => compilePattern(pattern, caseSensitive));

  const { table, remainder } = collectGroups(items, compiled, caseSensitive);
  mergeAcrossPadding(table);

  const kept: number[] = [];
  const dropped: number[] = [];
  for (let id = 0; id < table.count; id++) {
    if (table.isFullyMerged(id)) continue;
    (table.size(id) >= minimumItems ? kept : dropped).push(id);
  }
  if (dropped.length > 0) returnMembersToRemainder(table, dropped, kept, remainder);

  if (assumePaddedWhenAmbiguous) {
    for (const id of kept) {
      const indexes = table.indexes(id);
      if (table.padding(id) !== 0 || indexes.length === 0) continue;
      const width = indexWidth(indexes[0]!);
      if (width === indexWidth(indexes[indexes.length - 1]!)) table.setPadding(id, width);
    }
  }
  const collections = kept.map((id) =>
    new Collection({
      head: table.head(id),
      tail: table.tail(id),
      padding: table.padding(id),
      indexes: table.indexes(id),
    })
  );
  return { collections, remainder };
}

/** A digit run found in an item: where it is, its padding and its value. */
interface Run {
  start: number;
  end: number;
  padding: number;
  index: number;
}

/** A reusable list of runs: `count` valid entries; the objects are kept to spare the garbage collector. */
interface Runs {
  count: number;
  items: Run[];
}

function pushRun(runs: Runs, start: number, end: number, padding: number, index: number): void {
  const run = runs.items[runs.count];
  if (run === undefined) {
    runs.items.push({ start, end, padding, index });
  } else {
    run.start = start;
    run.end = end;
    run.padding = padding;
    run.index = index;
  }
  runs.count++;
}

/** Finds every match of every pattern in `item` into `runs` (emptied first). */
function findRuns(item: string, patterns: CompiledPattern[], runs: Runs): void {
  runs.count = 0;
  for (const pattern of patterns) {
    if (pattern.kind === "digits") {
      const length = item.length;
      let start = 0;
      while (start < length) {
        if (!isDigitCode(item.charCodeAt(start))) {
          start++;
          continue;
        }
        let end = start + 1;
        while (end < length && isDigitCode(item.charCodeAt(end))) end++;
        const index = readIndex(item, start, end);
        if (index !== null) {
          const padding = end - start > 1 && item.charCodeAt(start) === 48 ? end - start : 0;
          pushRun(runs, start, end, padding, index);
        }
        start = end;
      }
      continue;
    }
    const regexp = pattern.regexp;
    regexp.lastIndex = 0;
    for (let match = regexp.exec(item); match !== null; match = regexp.exec(item)) {
      if (match[0].length === 0) regexp.lastIndex++;
      const span = match.indices?.groups?.index;
      const text = match.groups?.index;
      if (span === undefined || text === undefined) continue;
      const index = readIndex(text, 0, text.length);
      if (index === null) continue;
      pushRun(runs, span[0], span[1], match.groups?.padding ? text.length : 0, index);
    }
  }
}

/**
 * Step 1: one group per (head, tail, padding) for every match of every pattern in every item.
 * Groups are found by prefix/suffix hashes of the item itself, so a name that joins an existing
 * group allocates nothing.
 */
function collectGroups(
  items: Iterable<string>,
  patterns: CompiledPattern[],
  caseSensitive: boolean,
): { table: GroupTable; remainder: string[] } {
  const table = new GroupTable();
  const remainder: string[] = [];
  const hasher = new AffixHasher();
  const runs: Runs = { count: 0, items: [] };
  // Names of one sequence usually arrive together: the previous item's group for the same run
  // position is tried before any hashing.
  const previous: number[] = [];

  const record = (source: string, position: number, run: Run, hashed: boolean): boolean => {
    const { start, end, padding, index } = run;
    const guess = previous[position] ?? -1;
    if (guess >= 0 && table.padding(guess) === padding && table.hasAffixes(guess, source, start, end)) {
      table.add(guess, index);
      return hashed;
    }
    if (!hashed) hasher.load(source);
    const pair = hasher.pair(start, end);
    const hash = groupHash(pair, padding);
    let id = table.find(source, start, end, padding, hash);
    if (id < 0) id = table.create(source, start, end, padding, pair, hash, index);
    else table.add(id, index);
    previous[position] = id;
    return true;
  };

  for (const item of items) {
    if (typeof item !== "string") {
      throw new TypeError(`Cannot assemble item '${String(item)}': items must be strings`);
    }
    findRuns(item, patterns, runs);
    if (runs.count === 0) {
      remainder.push(item);
      continue;
    }
    const source = caseSensitive ? item : item.toLowerCase();
    if (source.length === item.length) {
      let hashed = false;
      for (let position = 0; position < runs.count; position++) {
        hashed = record(source, position, runs.items[position]!, hashed);
      }
      continue;
    }
    // Lower-casing changed the length (e.g. 'İ'): lower head and tail separately, as clique does.
    for (let position = 0; position < runs.count; position++) {
      const run = runs.items[position]!;
      const head = item.slice(0, run.start).toLowerCase();
      const lowered = head + item.slice(run.start, run.end) + item.slice(run.end).toLowerCase();
      const shifted = { ...run, start: head.length, end: head.length + run.end - run.start };
      record(lowered, position, shifted, false);
    }
  }
  table.finish();
  return { table, remainder };
}

/** Group ids by (head, tail), found through their pair hash and confirmed by comparing text. */
class PairIndex {
  #byPair = new Map<number, number[]>();
  #table: GroupTable;

  constructor(table: GroupTable) {
    this.#table = table;
  }

  add(id: number): void {
    const pair = this.#table.pair(id);
    const list = this.#byPair.get(pair);
    if (list) list.push(id);
    else this.#byPair.set(pair, [id]);
  }

  get size(): number {
    return this.#byPair.size;
  }

  /** The groups whose head is `text[0, start)` and tail `text[end, …)`; `pair` is their pair hash. */
  *around(text: string, start: number, end: number, pair: number): Generator<number> {
    for (const id of this.#byPair.get(pair) ?? []) if (this.#table.hasAffixes(id, text, start, end)) yield id;
  }

  /** The groups with the same head and tail as group `id`. */
  *sameAffixes(id: number): Generator<number> {
    for (const other of this.#byPair.get(this.#table.pair(id)) ?? []) {
      if (this.#table.sameAffixes(other, id)) yield other;
    }
  }
}

/**
 * Step 2, clique's merge across the padding boundary: each padded group takes the frames of the
 * unpadded group with the same head and tail whose width equals its padding; an unpadded group all
 * of whose frames went into one padded group is dropped. Indexed by (head, tail), not O(P × U).
 */
function mergeAcrossPadding(table: GroupTable): void {
  const unpadded = new PairIndex(table);
  for (let id = 0; id < table.count; id++) if (table.padding(id) === 0) unpadded.add(id);
  if (unpadded.size === 0) return;
  for (let id = 0; id < table.count; id++) {
    const padding = table.padding(id);
    if (padding === 0) continue;
    for (const candidate of unpadded.sameAffixes(id)) {
      const frames = table.indexes(candidate);
      const taken = frames.filter((index) => indexWidth(index) === padding);
      if (taken.length > 0) table.setIndexes(id, sortUnique(table.indexes(id).concat(taken)));
      if (taken.length === frames.length) table.markFullyMerged(candidate);
    }
  }
}

/**
 * Step 3: members of dropped groups join the remainder unless already there or members of a kept
 * collection. A set for the remainder and a (head, tail) index of kept collections replace
 * clique's linear scans; membership tries exactly the splits clique's collection regex accepts.
 */
function returnMembersToRemainder(table: GroupTable, dropped: number[], kept: number[], remainder: string[]): void {
  const keptByPair = new PairIndex(table);
  let headsEndInDigit = false;
  let tailsStartWithDigit = false;
  for (const id of kept) {
    keptByPair.add(id);
    const head = table.head(id);
    const tail = table.tail(id);
    if (head.length > 0 && isDigitCode(head.charCodeAt(head.length - 1))) headsEndInDigit = true;
    if (tail.length > 0 && isDigitCode(tail.charCodeAt(0))) tailsStartWithDigit = true;
  }
  const hasher = new AffixHasher();

  const isKeptMember = (name: string): boolean => {
    if (keptByPair.size === 0) return false;
    hasher.load(name);
    const length = name.length;
    let runStart = 0;
    while (runStart < length) {
      if (!isDigitCode(name.charCodeAt(runStart))) {
        runStart++;
        continue;
      }
      let runEnd = runStart + 1;
      while (runEnd < length && isDigitCode(name.charCodeAt(runEnd))) runEnd++;
      const lastStart = headsEndInDigit ? runEnd - 1 : runStart;
      for (let start = runStart; start <= lastStart; start++) {
        const firstEnd = tailsStartWithDigit ? start + 1 : runEnd;
        for (let end = runEnd; end >= firstEnd; end--) {
          const digits = end - start;
          const leadingZero = digits > 1 && name.charCodeAt(start) === 48;
          for (const id of keptByPair.around(name, start, end, hasher.pair(start, end))) {
            const padding = table.padding(id);
            if (padding === 0 ? leadingZero : digits !== padding) continue;
            const index = readIndex(name, start, end);
            if (index !== null && sortedHas(table.indexes(id), index)) return true;
          }
        }
      }
      runStart = runEnd;
    }
    return false;
  };

  const judged = new Set(remainder);
  for (const id of dropped) {
    if (table.size(id) === 1) {
      const name = table.sources[id]!;
      if (judged.has(name)) continue;
      judged.add(name);
      if (!isKeptMember(name)) remainder.push(name);
      continue;
    }
    const sourceIndex = table.sourceIndex(id);
    const padding = table.padding(id);
    let head: string | undefined;
    let tail: string | undefined;
    for (const index of table.indexes(id)) {
      let name: string;
      if (index === sourceIndex) {
        name = table.sources[id]!;
      } else {
        head ??= table.head(id);
        tail ??= table.tail(id);
        name = head + formatIndex(index, padding) + tail;
      }
      if (judged.has(name)) continue;
      judged.add(name);
      if (!isKeptMember(name)) remainder.push(name);
    }
  }
}
