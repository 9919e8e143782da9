import { Collection, DEFAULT_FORMAT } from "./collection.ts";
import { parseFormatPattern } from "./_format_fields.ts";

const FIELD_EXPRESSIONS: Record<string, string> = {
  head: "(?<head>.*)",
  tail: "(?<tail>.*)",
  padding: String.raw`%(?<padding>\d*)d`,
  range: String.raw`(?<range>\d+-\d+)?`,
  ranges: String.raw`(?<ranges>[\d ,\-]+)?`,
  holes: String.raw`(?<holes>[\d ,\-]+)`,
};

/**
 * Reads a collection back from its formatted text: clique's `parse`. The pattern uses the fields
 * of {@linkcode Collection.format}; `{head}` is greedy, so `file.%d.%04d.exr [1]` has the head
 * `file.%d.`. Throws a `SyntaxError` naming the value when it does not match the pattern or a
 * range is malformed.
 *
 * @param value Text such as `/shots/sh010/beauty.%04d.exr [1001-1100]`.
 * @param pattern The pattern it was written with. @default {"{head}{padding}{tail} [{ranges}]"}
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parse } from "./mod.ts";
 *
 * const beauty = parse("/shots/sh010/beauty.%04d.exr [1001-1003, 1005]");
 * ok(beauty.head === "/shots/sh010/beauty." && beauty.padding === 4);
 * ok(beauty.indexes.join() === "1001,1002,1003,1005");
 *
 * const withHoles = parse("/p/file.%d.ext 1-8 [2, 4-6]", "{head}{padding}{tail} {range} [{holes}]");
 * ok(withHoles.indexes.join() === "1,3,7,8");
 * ```
 */
export function parse(value: string, pattern: string = DEFAULT_FORMAT): Collection {
  const seen = new Set<string>();
  let source = "";
  for (const piece of parseFormatPattern(pattern)) {
    if (piece.kind === "text") {
      source += escapeRegExp(piece.text);
      continue;
    }
    const expression = FIELD_EXPRESSIONS[piece.name];
    if (expression === undefined) {
      throw new RangeError(`Cannot parse with pattern '${pattern}': unknown field '${piece.name}'`);
    }
    if (seen.has(piece.name)) {
      throw new SyntaxError(`Cannot parse with pattern '${pattern}': field '${piece.name}' appears twice`);
    }
    seen.add(piece.name);
    source += expression;
  }
  const match = new RegExp(`^${source}$`).exec(value);
  if (match === null) throw new SyntaxError(`Cannot parse '${value}': it does not match the pattern '${pattern}'`);
  const groups = match.groups ?? {};
  const collection = new Collection({
    head: groups.head ?? "",
    tail: groups.tail ?? "",
    padding: groups.padding ? Number(groups.padding) : 0,
  });
  const frames = new Set<number>();
  if (groups.range !== undefined) {
    const [start, end] = groups.range.split("-").map(Number) as [number, number];
    addRange(frames, start, end, value);
  }
  if (groups.ranges !== undefined) {
    for (const [start, end] of readRanges(groups.ranges, value)) addRange(frames, start, end, value);
  }
  if (groups.holes !== undefined) {
    for (const [start, end] of readRanges(groups.holes, value)) {
      for (let frame = start; frame <= end; frame++) {
        if (!frames.delete(frame)) {
          throw new SyntaxError(`Cannot parse '${value}': hole ${frame} is not inside the range`);
        }
      }
    }
  }
  for (const frame of [...frames].sort((a, b) => a - b)) collection.addIndex(frame);
  return collection;
}

/** `1-3, 5` → [[1, 3], [5, 5]]; an empty or malformed part is a `SyntaxError`. */
function readRanges(text: string, value: string): Array<[number, number]> {
  return text.split(",").map((raw) => {
    const part = raw.trim();
    const bounds = part.split("-", 3);
    if (bounds.some((bound) => !/^\d+$/.test(bound))) {
      throw new SyntaxError(`Cannot parse '${value}': '${part}' is not a frame or a range of frames`);
    }
    const start = Number(bounds[0]);
    return [start, bounds.length > 1 ? Number(bounds[1]) : start];
  });
}

function addRange(frames: Set<number>, start: number, end: number, value: string): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
    throw new SyntaxError(`Cannot parse '${value}': frame numbers beyond ${Number.MAX_SAFE_INTEGER}`);
  }
  for (let frame = start; frame <= end; frame++) frames.add(frame);
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|\/-]/g, "\\$&");
}
