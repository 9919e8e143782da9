/**
 * A line-by-line transcription of clique 1.5's `assemble`, quadratic steps and regex membership
 * included, used only by tests as the oracle that the fast `assemble` must agree with.
 */
import { indexWidth } from "./_index_text.ts";

export interface ReferenceCollection {
  head: string;
  tail: string;
  padding: number;
  indexes: number[];
}

function escape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|\/-]/g, "\\$&");
}

/** clique's `Collection.__contains__`, through its own regex. */
function contains(collection: ReferenceCollection, item: string): boolean {
  const expression = new RegExp(`^${escape(collection.head)}(?<index>(?<padding>0*)\\d+?)${escape(collection.tail)}$`);
  const match = expression.exec(item);
  if (!match) return false;
  const index = match.groups!.index!;
  const padded = match.groups!.padding !== "";
  if (collection.padding === 0) {
    if (padded) return false;
  } else if (index.length !== collection.padding) {
    return false;
  }
  return collection.indexes.includes(Number(index));
}

function member(collection: ReferenceCollection, index: number): string {
  return collection.head + String(index).padStart(collection.padding, "0") + collection.tail;
}

export function referenceAssemble(
  items: string[],
  options: { patterns?: RegExp[]; minimumItems?: number; caseSensitive?: boolean; assumePadded?: boolean } = {},
): { collections: ReferenceCollection[]; remainder: string[] } {
  const { minimumItems = 2, caseSensitive = true, assumePadded = false } = options;
  const patterns = options.patterns ?? [new RegExp("(?<index>(?<padding>0*)\\d+)", caseSensitive ? "g" : "gi")];
  const map = new Map<string, ReferenceCollection>();
  const remainder: string[] = [];
  for (const item of items) {
    let matched = false;
    for (const pattern of patterns) {
      const flags = new Set([...pattern.flags, "g", "d"]);
      for (const match of item.matchAll(new RegExp(pattern.source, [...flags].join("")))) {
        const index = match.groups!.index!;
        // ferry's documented decision: runs beyond Number.MAX_SAFE_INTEGER are not frame numbers.
        if (!Number.isSafeInteger(Number(index))) continue;
        const start = match.indices!.groups!.index![0];
        let head = item.slice(0, start);
        let tail = item.slice(start + index.length);
        if (!caseSensitive) {
          head = head.toLowerCase();
          tail = tail.toLowerCase();
        }
        const padding = match.groups!.padding ? index.length : 0;
        const key = JSON.stringify([head, tail, padding]);
        const entry = map.get(key) ?? { head, tail, padding, indexes: [] };
        if (!entry.indexes.includes(Number(index))) entry.indexes.push(Number(index));
        map.set(key, entry);
        matched = true;
      }
    }
    if (!matched) remainder.push(item);
  }
  let collections = [...map.values()];
  const candidates = collections.filter((c) => c.padding === 0);
  const fullyMerged: ReferenceCollection[] = [];
  for (const collection of collections) {
    if (collection.padding === 0) continue;
    for (const candidate of candidates) {
      if (candidate.head === collection.head && candidate.tail === collection.tail) {
        let count = 0;
        for (const index of candidate.indexes) {
          if (indexWidth(index) === collection.padding) {
            if (!collection.indexes.includes(index)) collection.indexes.push(index);
            count++;
          }
        }
        if (count === candidate.indexes.length) fullyMerged.push(candidate);
      }
    }
  }
  collections = collections.filter((c) => !fullyMerged.includes(c));
  for (const c of collections) c.indexes.sort((a, b) => a - b);
  const filtered: ReferenceCollection[] = [];
  const remainderCandidates: string[] = [];
  for (const collection of collections) {
    if (collection.indexes.length >= minimumItems) filtered.push(collection);
    else for (const index of collection.indexes) remainderCandidates.push(member(collection, index));
  }
  for (const candidate of remainderCandidates) {
    if (remainder.includes(candidate)) continue;
    if (filtered.some((collection) => contains(collection, candidate))) continue;
    remainder.push(candidate);
  }
  if (assumePadded) {
    for (const collection of filtered) {
      if (collection.padding === 0 && collection.indexes.length > 0) {
        const first = String(collection.indexes[0]).length;
        const last = String(collection.indexes[collection.indexes.length - 1]).length;
        if (first === last) collection.padding = first;
      }
    }
  }
  return { collections: filtered, remainder };
}
