/**
 * Values on the wire: datetimes as `{"__type__": "datetime", "value": …}` (naive UTC going out,
 * with or without an offset coming in), everything else as plain JSON.
 *
 * @module
 */
import { TrackerError } from "./schema/catalog.ts";

const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/;

/** Stored form of a datetime: naive UTC ISO text with milliseconds, which sorts as text. */
export function canonicalDate(date: Date): string {
  return date.toISOString().slice(0, 23);
}

/** The current time in stored form. */
export function now(): string {
  return canonicalDate(new Date());
}

/**
 * Reads a datetime the clients send (`2024-01-01T10:00:00+02:00`, `…Z`, naive `…T10:00:00.123456`
 * taken as UTC, or a bare date) into stored form; `ValidationError` naming the value otherwise.
 */
export function parseDate(value: string): string {
  let text = value.trim();
  if (/^\d{4}-\d\d-\d\d$/.test(text)) text += "T00:00:00Z";
  else if (/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(text)) text = text.replace(" ", "T") + "Z";
  const date = new Date(text.replace(/(\.\d{3})\d+/, "$1"));
  if (Number.isNaN(date.getTime())) throw new TrackerError("ValidationError", `Cannot read '${value}' as a datetime.`);
  return canonicalDate(date);
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

/** Encodes a stored datetime for the wire. */
export function encodeDate(value: string): { __type__: "datetime"; value: string } {
  return { __type__: "datetime", value: value.slice(0, 19) };
}
