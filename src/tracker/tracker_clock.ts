/**
 * The tracker server's clock, seen from this machine: the offset between the local clock and the
 * server's, measured from the HTTP `Date` header of a cheap request, so that times written by one
 * machine and read by another (publish heartbeats) are compared on one clock.
 *
 * @module
 */

/** What {@linkcode trackerOffset} needs of a session: the server it talks to. */
export interface ClockSession {
  serverUrl: string;
}

/** Options of {@linkcode trackerOffset}, {@linkcode trackerNow} and {@linkcode trackerAge}. */
export interface TrackerClockOptions {
  /** The local clock, in ms since the epoch (default `Date.now`); injectable to simulate skew. */
  now?: () => number;
  /** How requests are made (default the global `fetch`). */
  fetch?: typeof fetch;
  /** How long a measured offset is kept, in ms (default 5 min). */
  lifeMs?: number;
  /** Where a failed measurement is reported (default `console.debug`). */
  debug?: (message: string) => void;
}

/** Offsets smaller than this are within the `Date` header's 1 s resolution and the request's time: taken as 0. */
export const NEGLIGIBLE_OFFSET_MS = 2_000;

const DEFAULT_LIFE_MS = 5 * 60_000;

interface Measured {
  offset: number;
  at: number;
}

/** Measured offsets, per session and per local clock (one entry per `now` function). */
const offsets = new WeakMap<object, Map<() => number, Measured | Promise<number>>>();

/**
 * The tracker server's clock minus the local clock, in ms (positive when the local clock is
 * behind). Measured from the `Date` header of a `HEAD` request to `${serverUrl}/api`, against the
 * midpoint of the request's send and receive times; the header's second is taken at its middle
 * (+500 ms). Offsets under {@linkcode NEGLIGIBLE_OFFSET_MS} are 0. Kept per session for `lifeMs`;
 * concurrent callers share one request. Unknown (no header, the request failed) is 0, reported
 * through `debug`, and measured again after 30 s.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { trackerOffset } from "./tracker_clock.ts";
 *
 * // A server whose clock is 60 s ahead of this (simulated) local clock.
 * const server = Date.now() + 60_000;
 * const fetchWithDate: typeof fetch = () =>
 *   Promise.resolve(new Response(null, { headers: { date: new Date(server).toUTCString() } }));
 * const offset = await trackerOffset({ serverUrl: "https://studio.example" }, { fetch: fetchWithDate });
 * ok(Math.abs(offset - 60_000) < 2_000);
 * ```
 */
export function trackerOffset(session: ClockSession, options: TrackerClockOptions = {}): Promise<number> {
  const now = options.now ?? Date.now;
  let perClock = offsets.get(session);
  if (!perClock) offsets.set(session, perClock = new Map());
  const cached = perClock.get(now);
  if (cached instanceof Promise) return cached;
  if (cached && now() - cached.at < (options.lifeMs ?? DEFAULT_LIFE_MS)) return Promise.resolve(cached.offset);
  const measuring = measureOffset(session, options).then((offset) => {
    // An unknown offset is retried sooner than a measured one is renewed.
    const life = options.lifeMs ?? DEFAULT_LIFE_MS;
    perClock.set(now, {
      offset: offset ?? 0,
      at: offset === undefined ? now() - life + Math.min(life, 30_000) : now(),
    });
    return offset ?? 0;
  });
  perClock.set(now, measuring);
  return measuring;
}

/** One measurement; undefined when unknown (reported through `debug`). */
async function measureOffset(session: ClockSession, options: TrackerClockOptions): Promise<number | undefined> {
  const now = options.now ?? Date.now;
  const debug = options.debug ?? ((message: string) => console.debug(message));
  const url = `${session.serverUrl.replace(/\/+$/, "")}/api`;
  try {
    const sent = now();
    const response = await (options.fetch ?? fetch)(url, { method: "HEAD", redirect: "manual" });
    const received = now();
    await response.body?.cancel();
    const header = response.headers.get("date");
    const server = header ? Date.parse(header) : NaN;
    if (!Number.isFinite(server)) {
      debug(`Tracker clock unknown: ${url} answered without a usable Date header (${header ?? "none"}); offset 0`);
      return undefined;
    }
    const offset = server + 500 - (sent + received) / 2;
    return Math.abs(offset) < NEGLIGIBLE_OFFSET_MS ? 0 : Math.round(offset);
  } catch (error) {
    debug(`Tracker clock unknown: ${url} failed (${(error as Error)?.message ?? error}); offset 0`);
    return undefined;
  }
}

/**
 * Now on the tracker's clock, in ms since the epoch: the local clock plus {@linkcode trackerOffset}.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { trackerNow } from "./tracker_clock.ts";
 *
 * // A local clock 60 s behind a server with the right time.
 * const fetchWithDate: typeof fetch = () =>
 *   Promise.resolve(new Response(null, { headers: { date: new Date().toUTCString() } }));
 * const behind = () => Date.now() - 60_000;
 * const at = await trackerNow({ serverUrl: "https://studio.example" }, { fetch: fetchWithDate, now: behind });
 * ok(Math.abs(at - Date.now()) < 2_000);
 * ```
 */
export async function trackerNow(session: ClockSession, options: TrackerClockOptions = {}): Promise<number> {
  const offset = await trackerOffset(session, options);
  return (options.now ?? Date.now)() + offset;
}

/**
 * How long ago, in seconds on the tracker's clock, an ISO time written on the tracker's clock was
 * (never negative); `Infinity` when the time is missing or unreadable.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { trackerAge } from "./tracker_clock.ts";
 *
 * const fetchWithDate: typeof fetch = () =>
 *   Promise.resolve(new Response(null, { headers: { date: new Date().toUTCString() } }));
 * const written = new Date(Date.now() - 30_000).toISOString();
 * const age = await trackerAge({ serverUrl: "https://studio.example" }, written, { fetch: fetchWithDate });
 * ok(Math.abs(age - 30) < 2);
 * ok((await trackerAge({ serverUrl: "https://studio.example" }, undefined)) === Infinity);
 * ```
 */
export async function trackerAge(
  session: ClockSession,
  iso: string | undefined,
  options: TrackerClockOptions = {},
): Promise<number> {
  const at = Date.parse(iso ?? "");
  if (!Number.isFinite(at)) return Infinity;
  return Math.max(0, (await trackerNow(session, options) - at) / 1000);
}
