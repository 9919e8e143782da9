/**
 * What a scalar attribute may hold: every value a client writes is checked against the attribute's
 * schema type before it is stored, and refused with a `ValidationError` naming the attribute and
 * the value.
 *
 * @module
 */
import { parseDate } from "../codec.ts";
import { TrackerError } from "./catalog.ts";
import type { ScalarAttribute } from "./model.ts";

/**
 * How a value is quoted in messages: short, JSON-like, in single quotes (the tracker's error
 * objects turn braces into parentheses, as the Python client formats messages).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { quoteValue } from "./check_scalar.ts";
 *
 * ok(quoteValue("sh010") === "'sh010'");
 * ok(quoteValue([1, 2]) === "'[1,2]'");
 * ```
 */
export function quoteValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length > 80) text = `${text.slice(0, 77)}…`;
  return `'${text.replaceAll("'", '"')}'`;
}

/**
 * The reason a name cannot be a folder or file name, or undefined when it can.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { segmentProblem } from "./check_scalar.ts";
 *
 * ok(segmentProblem("sh010") === undefined);
 * ok(segmentProblem("..") !== undefined);
 * ok(segmentProblem("a/b") !== undefined);
 * ```
 */
export function segmentProblem(name: string): string | undefined {
  if (name === "." || name === "..") return "it would name a folder above or beside it";
  if (/[/\\]/.test(name)) return "it holds a path separator";
  if (name.includes("\0")) return "it holds a NUL character";
  return undefined;
}

function refuse(where: string, value: unknown, expected: string): never {
  throw new TrackerError("ValidationError", `Cannot set '${where}' to ${quoteValue(value)}: ${expected}.`);
}

function isTyped(value: unknown): value is { __type__: string; value: unknown } {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    typeof (value as { __type__?: unknown }).__type__ === "string";
}

/**
 * The stored form of `raw`, a value a client sent for the scalar attribute `where`
 * (`Type.attribute`), or a `ValidationError` naming both. `null` clears any attribute (required
 * ones are checked when the batch ends).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { checkScalar } from "./check_scalar.ts";
 *
 * ok(checkScalar("Shot.bid", { kind: "scalar", type: "number" }, 2.5) === 2.5);
 * ok(checkScalar("Shot.start_date", { kind: "scalar", type: "string", format: "date-time" }, {
 *   __type__: "datetime",
 *   value: "2026-11-22T10:00:00+01:00",
 * }) === "2026-11-22T09:00:00.000000");
 * let refused = false;
 * try {
 *   checkScalar("User.is_active", { kind: "scalar", type: "boolean" }, "yes");
 * } catch {
 *   refused = true;
 * }
 * ok(refused);
 * ```
 */
export function checkScalar(where: string, attribute: ScalarAttribute, raw: unknown): unknown {
  if (raw === null) return null;
  if (attribute.format === "date-time") {
    const text = isTyped(raw) && (raw.__type__ === "datetime" || raw.__type__ === "date") ? raw.value : raw;
    if (typeof text !== "string") return refuse(where, raw, "expected a datetime");
    try {
      return parseDate(text);
    } catch {
      return refuse(where, text, "expected an ISO 8601 datetime such as '2026-11-22T10:00:00Z'");
    }
  }
  if (attribute.format === "json") {
    if (typeof raw === "string") return raw;
    if (typeof raw === "object") return JSON.stringify(raw);
    return refuse(where, raw, "expected JSON text or a JSON object");
  }
  switch (attribute.type) {
    case "string": {
      // The JavaScript client sends strings that look like ISO dates as datetimes: keep the text.
      let value = isTyped(raw) && raw.__type__ === "datetime" ? raw.value : raw;
      if (attribute.textual && (typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value)))) {
        value = String(value);
      }
      if (typeof value !== "string") return refuse(where, raw, "expected a string");
      if (attribute.format === "foreign_key" && value === "") return refuse(where, raw, "expected an id");
      if (attribute.enum && !attribute.enum.includes(value)) {
        return refuse(where, value, `expected one of ${attribute.enum.map((item) => `'${item}'`).join(", ")}`);
      }
      if (attribute.segment) {
        const problem = segmentProblem(value);
        if (problem) return refuse(where, value, `${problem}; names become folder and file names`);
      }
      return value;
    }
    case "integer":
      return Number.isSafeInteger(raw) ? raw : refuse(where, raw, "expected an integer");
    case "number":
      return typeof raw === "number" && Number.isFinite(raw) ? raw : refuse(where, raw, "expected a number");
    case "boolean":
      return typeof raw === "boolean" ? raw : refuse(where, raw, "expected true or false");
    case "variable":
      if (isTyped(raw) && (raw.__type__ === "datetime" || raw.__type__ === "date")) {
        return checkScalar(where, { kind: "scalar", type: "string", format: "date-time" }, raw);
      }
      return raw;
    case "object":
      return typeof raw === "object" ? raw : refuse(where, raw, "expected an object");
    default: {
      const _exhaustive: never = attribute.type;
      return _exhaustive;
    }
  }
}
