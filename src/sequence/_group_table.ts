import { sortUnique } from "./_index_text.ts";

/**
 * The (head, tail, padding) groups of one `assemble` call, stored column-wise. Most groups of
 * real folders are singletons that end up in the remainder (a shot or version number seen with
 * one frame), so a group costs no object, no array and no string until it is kept: its head and
 * tail are the parts of the item that created it around `[start, end)`.
 */
export class GroupTable {
  count = 0;
  /** The item (lower-cased when case-insensitive) that created each group. */
  readonly sources: string[] = [];
  #start = new Int32Array(1024);
  #end = new Int32Array(1024);
  #padding = new Int32Array(1024);
  #pair = new Int32Array(1024);
  #next = new Int32Array(1024);
  #first = new Float64Array(1024);
  #merged = new Uint8Array(1024);
  /** Every frame of groups with more than one (sorted and unique after `finish()`); singletons have none. */
  #more: Array<number[] | undefined> = [];
  #byHash = new Map<number, number>();

  /** The group of (text before `start`, text from `end`, padding) with this hash, or -1. */
  find(text: string, start: number, end: number, padding: number, hash: number): number {
    let id = this.#byHash.get(hash) ?? -1;
    while (id >= 0 && !(this.#padding[id] === padding && this.hasAffixes(id, text, start, end))) id = this.#next[id]!;
    return id;
  }

  /** Creates a group holding one frame; returns its id. */
  create(text: string, start: number, end: number, padding: number, pair: number, hash: number, index: number): number {
    const id = this.count++;
    if (id === this.#start.length) this.#grow();
    this.sources.push(text);
    this.#start[id] = start;
    this.#end[id] = end;
    this.#padding[id] = padding;
    this.#pair[id] = pair;
    this.#first[id] = index;
    this.#next[id] = this.#byHash.get(hash) ?? -1;
    this.#byHash.set(hash, id);
    this.#more.push(undefined);
    return id;
  }

  /** Adds a frame to a group (duplicates are removed by `finish()`). */
  add(id: number, index: number): void {
    const more = this.#more[id];
    if (more === undefined) this.#more[id] = [this.#first[id]!, index];
    else more.push(index);
  }

  /** Sorts and de-duplicates every group's frames; call once, after the last `add`. */
  finish(): void {
    for (const more of this.#more) if (more !== undefined) sortUnique(more);
  }

  /** How many unique frames group `id` has (after `finish()`). */
  size(id: number): number {
    return this.#more[id]?.length ?? 1;
  }

  /** Whether `text` has group `id`'s head before `start` and its tail from `end` on. */
  hasAffixes(id: number, text: string, start: number, end: number): boolean {
    const source = this.sources[id]!;
    const ownStart = this.#start[id]!;
    const ownEnd = this.#end[id]!;
    if (ownStart !== start || source.length - ownEnd !== text.length - end) return false;
    if (source === text) return true;
    for (let i = 0; i < start; i++) if (source.charCodeAt(i) !== text.charCodeAt(i)) return false;
    for (let i = ownEnd, j = end; i < source.length; i++, j++) {
      if (source.charCodeAt(i) !== text.charCodeAt(j)) return false;
    }
    return true;
  }

  /** Whether groups `a` and `b` have the same head and tail. */
  sameAffixes(a: number, b: number): boolean {
    return this.hasAffixes(a, this.sources[b]!, this.#start[b]!, this.#end[b]!);
  }

  head(id: number): string {
    return this.sources[id]!.slice(0, this.#start[id]!);
  }

  tail(id: number): string {
    return this.sources[id]!.slice(this.#end[id]!);
  }

  padding(id: number): number {
    return this.#padding[id]!;
  }

  setPadding(id: number, padding: number): void {
    this.#padding[id] = padding;
  }

  pair(id: number): number {
    return this.#pair[id]!;
  }

  /** The frame `sources[id]` carries. */
  sourceIndex(id: number): number {
    return this.#first[id]!;
  }

  /** Ascending unique frames (after `finish()`). */
  indexes(id: number): number[] {
    return this.#more[id] ?? [this.#first[id]!];
  }

  /** Replaces the frames of group `id` with ascending unique `indexes` (at least one). */
  setIndexes(id: number, indexes: number[]): void {
    this.#more[id] = indexes;
  }

  isFullyMerged(id: number): boolean {
    return this.#merged[id] === 1;
  }

  markFullyMerged(id: number): void {
    this.#merged[id] = 1;
  }

  #grow(): void {
    const size = this.#start.length * 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const bigger = make(size);
      bigger.set(old);
      return bigger;
    };
    this.#start = grow(this.#start, (n) => new Int32Array(n));
    this.#end = grow(this.#end, (n) => new Int32Array(n));
    this.#padding = grow(this.#padding, (n) => new Int32Array(n));
    this.#pair = grow(this.#pair, (n) => new Int32Array(n));
    this.#next = grow(this.#next, (n) => new Int32Array(n));
    this.#first = grow(this.#first, (n) => new Float64Array(n));
    this.#merged = grow(this.#merged, (n) => new Uint8Array(n));
  }
}
