/**
 * JSON text exactly as Python's `json.dumps(value, sort_keys=True)` writes it, for values that
 * came from JSON: separators `", "` and `": "`, keys sorted by code point, every character outside
 * printable ASCII escaped as `\uXXXX` (`ensure_ascii`), and numbers as Python reads them back from
 * the JSON text JavaScript writes (integers unchanged, other numbers in Python's `repr` of a float).
 *
 * @module
 */

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** A string as Python's `ensure_ascii` encoder writes it (UTF-16 code units, lowercase hex). */
function pythonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    const code = text.charCodeAt(i);
    if (SHORT_ESCAPES[char] !== undefined) out += SHORT_ESCAPES[char];
    else if (code >= 0x20 && code <= 0x7e) out += char;
    else out += `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return `${out}"`;
}

/**
 * A number as Python writes it after reading JavaScript's JSON text for it: a token without `.`
 * or `e` is a Python int (same digits); any other is a float, written by `repr` (the shortest
 * round-trip digits, fixed notation for exponents -4 to 15, else `d.ddde±XX`).
 */
export function pythonNumber(value: number): string {
  const token = JSON.stringify(value);
  if (!/[.eE]/.test(token)) return token;
  const [mantissa, exponentText] = value.toExponential().split("e") as [string, string];
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
    const fraction = digits.slice(exponent + 1) || "0";
    return `${sign}${whole}.${fraction}`;
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const magnitude = String(Math.abs(exponent)).padStart(2, "0");
  return `${sign}${head}e${exponent < 0 ? "-" : "+"}${magnitude}`;
}

/** Compares strings by code point, as Python sorts `str` keys. */
function byCodePoint(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const difference = left[i]!.codePointAt(0)! - right[i]!.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

function dump(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return pythonNumber(value);
  if (typeof value === "string") return pythonString(value);
  if (Array.isArray(value)) return `[${value.map(dump).join(", ")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort(byCodePoint);
  return `{${keys.map((key) => `${pythonString(key)}: ${dump(record[key])}`).join(", ")}}`;
}

/**
 * Python's `json.dumps(value, sort_keys=True)` of what Python reads from `JSON.stringify(value)`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { pythonJsonDumps } from "./python_json.ts";
 *
 * ok(pythonJsonDumps({ b: [1, 0.5, 1e-7], a: "é" }) === '{"a": "\\u00e9", "b": [1, 0.5, 1e-07]}');
 * ```
 */
export function pythonJsonDumps(value: unknown): string {
  return dump(JSON.parse(JSON.stringify(value)));
}
