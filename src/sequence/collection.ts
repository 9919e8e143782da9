import { CollectionError } from "./collection_error.ts";
import { parseFormatPattern } from "./_format_fields.ts";
import { formatIndex, isDigitCode, readIndex, sortedHas, sortUnique } from "./_index_text.ts";

/** What a {@linkcode Collection} is made from. */
export interface CollectionInit {
  /** The text before the frame number, e.g. `"/shots/sh010/beauty."`. */
  head: string;
  /** The text after the frame number, e.g. `".exr"`. */
  tail: string;
  /**
   * The width frame numbers are zero-padded to; `0` means unpadded (any width, no leading zeros).
   * @default {0}
   */
  padding?: number;
  /** The frame numbers in the collection, in any order; duplicates are ignored. */
  indexes?: Iterable<number>;
}

/** The default pattern of {@linkcode Collection.format}, as in clique. */
export const DEFAULT_FORMAT = "{head}{padding}{tail} [{ranges}]";

/**
 * Items that differ only by one frame number: an image sequence. The port of clique's
 * `Collection`: same fields, same matching rules, same formatting.
 *
 * Frame numbers are safe integers. Negative numbers are allowed in a collection made by hand and
 * are written as Python writes them (`-005` at padding 4), but {@linkcode Collection.match} never
 * reads a minus sign as part of the number, as in clique.
 *
 * @example A padded sequence with a hole
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Collection } from "./mod.ts";
 *
 * const beauty = new Collection({ head: "beauty.", tail: ".exr", padding: 4, indexes: [1, 2, 3, 5] });
 * ok(beauty.format() === "beauty.%04d.exr [1-3, 5]");
 * ok(beauty.match("beauty.0005.exr") === 5);
 * ok(beauty.holes().format("{ranges}") === "4");
 * ok([...beauty][0] === "beauty.0001.exr");
 * ```
 */
export class Collection implements Iterable<string> {
  #head: string;
  #tail: string;
  #padding = 0;
  #indexes: number[];

  /** Creates a collection; throws `RangeError` for a bad padding or frame number. */
  constructor(init: CollectionInit) {
    const { head, tail, padding = 0, indexes = [] } = init;
    if (typeof head !== "string") throw new TypeError(`Cannot create collection: head '${head}' is not a string`);
    if (typeof tail !== "string") throw new TypeError(`Cannot create collection: tail '${tail}' is not a string`);
    this.#head = head;
    this.#tail = tail;
    this.padding = padding;
    const values = Array.isArray(indexes) ? indexes.slice() : [...indexes];
    for (const value of values) checkIndex(value);
    this.#indexes = sortUnique(values);
  }

  /** The text before the frame number. */
  get head(): string {
    return this.#head;
  }
  set head(value: string) {
    this.#head = value;
  }

  /** The text after the frame number. */
  get tail(): string {
    return this.#tail;
  }
  set tail(value: string) {
    this.#tail = value;
  }

  /** The padding width; `0` for unpadded. */
  get padding(): number {
    return this.#padding;
  }
  set padding(value: number) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`Cannot set collection padding to '${value}': it must be a whole number ≥ 0`);
    }
    this.#padding = value;
  }

  /** The frame numbers, ascending and unique. Change them with the methods, not in place. */
  get indexes(): readonly number[] {
    return this.#indexes;
  }

  /** How many frames the collection holds. */
  get size(): number {
    return this.#indexes.length;
  }

  /** The first frame, or `undefined` when empty. */
  get first(): number | undefined {
    return this.#indexes[0];
  }

  /** The last frame, or `undefined` when empty. */
  get last(): number | undefined {
    return this.#indexes[this.#indexes.length - 1];
  }

  /**
   * The frame number of `item` when it has this collection's head, tail and padding (whether or
   * not the frame is in the collection), else `null`. Unpadded collections refuse leading zeros;
   * padded ones need exactly `padding` digits.
   */
  match(item: string): number | null {
    const head = this.#head;
    const tail = this.#tail;
    const start = head.length;
    const end = item.length - tail.length;
    if (end <= start || !item.startsWith(head) || !item.endsWith(tail)) return null;
    for (let i = start; i < end; i++) if (!isDigitCode(item.charCodeAt(i))) return null;
    const digits = end - start;
    if (this.#padding === 0) {
      if (digits > 1 && item.charCodeAt(start) === 48) return null;
    } else if (digits !== this.#padding) {
      return null;
    }
    return readIndex(item, start, end);
  }

  /** Whether `item` matches and its frame is in the collection (clique's `item in collection`). */
  contains(item: string): boolean {
    const index = this.match(item);
    return index !== null && sortedHas(this.#indexes, index);
  }

  /** Whether the frame number is in the collection. */
  hasIndex(index: number): boolean {
    return sortedHas(this.#indexes, index);
  }

  /** Adds the frame of `item`; `CollectionError` when the item does not match. */
  add(item: string): void {
    const index = this.match(item);
    if (index === null) {
      throw new CollectionError(`Cannot add '${item}' to '${this.format()}': it does not match the collection`);
    }
    this.addIndex(index);
  }

  /** Removes the frame of `item`; `CollectionError` when it does not match or is not a member. */
  remove(item: string): void {
    const index = this.match(item);
    if (index === null || !sortedHas(this.#indexes, index)) {
      throw new CollectionError(`Cannot remove '${item}' from '${this.format()}': it is not a member`);
    }
    this.removeIndex(index);
  }

  /** Adds a frame number (no-op when present). */
  addIndex(index: number): void {
    checkIndex(index);
    const at = insertionPoint(this.#indexes, index);
    if (this.#indexes[at] !== index) this.#indexes.splice(at, 0, index);
  }

  /** Removes a frame number; returns whether it was there. */
  removeIndex(index: number): boolean {
    const at = insertionPoint(this.#indexes, index);
    if (this.#indexes[at] !== index) return false;
    this.#indexes.splice(at, 1);
    return true;
  }

  /** The member names, ascending by frame. */
  *[Symbol.iterator](): Iterator<string> {
    for (const index of this.#indexes) yield this.#head + formatIndex(index, this.#padding) + this.#tail;
  }

  /** The member name for one frame number, whether or not it is a member. */
  name(index: number): string {
    return this.#head + formatIndex(index, this.#padding) + this.#tail;
  }

  /**
   * Formats the collection. Fields: `{head}`, `{tail}`, `{padding}` (`%04d` or `%d`), `{range}`
   * (`1-12`), `{ranges}` (`1-3, 7, 9-12`), `{holes}` (`4-6, 8`); `{{` and `}}` are braces.
   *
   * @param pattern The pattern. @default {"{head}{padding}{tail} [{ranges}]"}
   */
  format(pattern: string = DEFAULT_FORMAT): string {
    let out = "";
    for (const piece of parseFormatPattern(pattern)) {
      if (piece.kind === "text") {
        out += piece.text;
        continue;
      }
      switch (piece.name) {
        case "head":
          out += this.#head;
          break;
        case "tail":
          out += this.#tail;
          break;
        case "padding":
          out += this.#padding > 0 ? `%0${this.#padding}d` : "%d";
          break;
        case "range":
          out += this.#range();
          break;
        case "ranges":
          out += rangesText(this.#indexes);
          break;
        case "holes":
          out += rangesText(this.holes().#indexes);
          break;
        default:
          throw new RangeError(`Cannot format collection with '${pattern}': unknown field '${piece.name}'`);
      }
    }
    return out;
  }

  /** Same as `format()`. */
  toString(): string {
    return this.format();
  }

  /** Whether the frames form one unbroken run (empty and single-frame collections do). */
  isContiguous(): boolean {
    const indexes = this.#indexes;
    return indexes.length < 2 || indexes[indexes.length - 1]! - indexes[0]! + 1 === indexes.length;
  }

  /** A collection with the same head, tail and padding holding the frames missing between first and last. */
  holes(): Collection {
    const missing: number[] = [];
    const indexes = this.#indexes;
    for (let i = 1; i < indexes.length; i++) {
      for (let frame = indexes[i - 1]! + 1; frame < indexes[i]!; frame++) missing.push(frame);
    }
    return this.#derive(missing);
  }

  /** One collection per contiguous run of frames; an empty collection gives one empty collection. */
  separate(): Collection[] {
    const indexes = this.#indexes;
    if (indexes.length === 0) return [this.#derive([])];
    const parts: Collection[] = [];
    let start = 0;
    for (let i = 1; i <= indexes.length; i++) {
      if (i === indexes.length || indexes[i]! !== indexes[i - 1]! + 1) {
        parts.push(this.#derive(indexes.slice(start, i)));
        start = i;
      }
    }
    return parts;
  }

  /** Whether `other` is a collection with the same head, tail and padding. */
  isCompatible(other: Collection): boolean {
    return other instanceof Collection && other.#head === this.#head && other.#tail === this.#tail &&
      other.#padding === this.#padding;
  }

  /** Adds every frame of a compatible collection; `CollectionError` when incompatible. */
  merge(other: Collection): void {
    if (!this.isCompatible(other)) {
      throw new CollectionError(`Cannot merge '${other}' into '${this}': head, tail or padding differ`);
    }
    this.#indexes = sortUnique(this.#indexes.concat(other.#indexes));
  }

  /** Whether head, tail, padding and frames are all equal (clique's `==`). */
  equals(other: Collection): boolean {
    if (!this.isCompatible(other) || other.#indexes.length !== this.#indexes.length) return false;
    return this.#indexes.every((value, i) => value === other.#indexes[i]);
  }

  /** A copy that shares nothing with this one. */
  clone(): Collection {
    return this.#derive(this.#indexes.slice());
  }

  /**
   * clique's ordering: by head, then tail, then padding, then number of frames. Use it to sort
   * collections the way clique's `sorted()` does.
   */
  static compare(a: Collection, b: Collection): number {
    if (a.#head !== b.#head) return a.#head < b.#head ? -1 : 1;
    if (a.#tail !== b.#tail) return a.#tail < b.#tail ? -1 : 1;
    if (a.#padding !== b.#padding) return a.#padding - b.#padding;
    return a.#indexes.length - b.#indexes.length;
  }

  #range(): string {
    const indexes = this.#indexes;
    if (indexes.length === 0) return "";
    if (indexes.length === 1) return String(indexes[0]);
    return `${indexes[0]}-${indexes[indexes.length - 1]}`;
  }

  #derive(sortedUnique: number[]): Collection {
    const result = new Collection({ head: this.#head, tail: this.#tail, padding: this.#padding });
    result.#indexes = sortedUnique;
    return result;
  }
}

/** `1-3, 7, 9-12` for ascending unique frames. */
function rangesText(indexes: readonly number[]): string {
  const parts: string[] = [];
  let start = 0;
  for (let i = 1; i <= indexes.length; i++) {
    if (i === indexes.length || indexes[i]! !== indexes[i - 1]! + 1) {
      const first = indexes[start]!;
      const last = indexes[i - 1]!;
      parts.push(first === last ? String(first) : `${first}-${last}`);
      start = i;
    }
  }
  return parts.join(", ");
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index)) {
    throw new RangeError(
      `Cannot use frame number '${index}': frame numbers must be integers within ±Number.MAX_SAFE_INTEGER`,
    );
  }
}

function insertionPoint(values: readonly number[], value: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
