/**
 * Values on the wire: datetimes as `{"__type__": "datetime", "value": …}` (naive UTC going out,
 * with or without an offset coming in), everything else as plain JSON.
 *
 * @module
 */
import { TrackerError } from "./schema/catalog.ts";

const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/;

/**
 * Stored form of a datetime: naive UTC ISO text with microseconds (`2024-01-01T10:00:00.123456`),
 * which sorts as text. `fraction` gives the sub-second digits when they are finer than the Date's
 * milliseconds.
 */
export function canonicalDate(date: Date, fraction?: string): string {
  const digits = fraction === undefined ? String(date.getUTCMilliseconds()).padStart(3, "0") : fraction;
  return `${date.toISOString().slice(0, 19)}.${digits.slice(0, 6).padEnd(6, "0")}`;
}

let lastNow = { ms: Number.NaN, text: "" };

/** The current time in stored form (written once per millisecond: a batch stamps many rows in one). */
export function now(): string {
  const ms = Date.now();
  if (ms !== lastNow.ms) lastNow = { ms, text: canonicalDate(new Date(ms)) };
  return lastNow.text;
}

const ISO_DATETIME = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?$/i;

/**
 * Reads a datetime the clients send (`2024-01-01T10:00:00+02:00`, `…Z`, naive `…T10:00:00.123456`
 * taken as UTC, or a bare date) into stored form; `ValidationError` naming the value for anything
 * else, a date that is not in the calendar (`2024-02-30`) included.
 */
export function parseDate(value: string): string {
  const text = value.trim();
  const match = ISO_DATETIME.exec(text);
  const [, year, month, day, hour = "00", minute = "00", second = "00", fraction = "", offset = "Z"] = match ?? [];
  const fields = [year, month, day, hour, minute, second].map(Number);
  const [y, mo, d, h, mi, s] = fields as [number, number, number, number, number, number];
  const calendar = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (
    match === null || calendar.getUTCFullYear() !== y || calendar.getUTCMonth() !== mo - 1 ||
    calendar.getUTCDate() !== d || calendar.getUTCHours() !== h || calendar.getUTCMinutes() !== mi ||
    calendar.getUTCSeconds() !== s
  ) {
    throw new TrackerError("ValidationError", `Cannot read '${value}' as a datetime (ISO 8601 expected).`);
  }
  const zone = offset.toUpperCase() === "Z" ? "Z" : offset.replace(/^([+-]\d\d)(\d\d)$/, "$1:$2");
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${zone}`);
  if (Number.isNaN(date.getTime())) {
    throw new TrackerError("ValidationError", `Cannot read '${value}' as a datetime (ISO 8601 expected).`);
  }
  return canonicalDate(date, fraction.slice(1));
}

/** Whether a stored value is a datetime in stored form. */
export function isStoredDate(value: unknown): value is string {
  return typeof value === "string" && CANONICAL.test(value);
}

/** Decodes one incoming JSON value: datetimes to stored form, other values unchanged. */
export function decodeValue(value: unknown): unknown {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const typed = value as { __type__?: unknown; value?: unknown };
    if (typed.__type__ === "datetime" && typeof typed.value === "string") return parseDate(typed.value);
    if (typed.__type__ === "date" && typeof typed.value === "string") return parseDate(typed.value);
  }
  return value;
}

/**
 * Encodes a stored datetime for the wire: naive UTC with its microseconds, written as Python's
 * `isoformat()` writes them (six digits, none when they are all zero).
 */
export function encodeDate(value: string): { __type__: "datetime"; value: string } {
  const fraction = value.slice(20, 26).padEnd(6, "0");
  return {
    __type__: "datetime",
    value: /^0*$/.test(fraction) ? value.slice(0, 19) : `${value.slice(0, 19)}.${fraction}`,
  };
}
