import { type CallOptions, Session } from "@ftrack/api";
import { knownTrackerCache } from "./cached_query.ts";
import { loadSchemas } from "./schema_cache.ts";
import { DEFAULT_TRACKER_TIMEOUT_SECONDS } from "../config/tracker_timeout.ts";
import type { TrackerCredentials } from "./tracker_credentials.ts";
import { TrackerConnectionError } from "./tracker_connection_error.ts";

/** Options of {@linkcode openSession}. */
export interface OpenSessionOptions {
  /** Connect the event hub at once. @default {false} */
  eventHub?: boolean;
  /**
   * Milliseconds every API call may take (the connection included); a slower answer is a
   * {@linkcode TrackerConnectionError} naming the server. @default {60000}
   */
  timeout?: number;
  /**
   * A folder where the tracker's schemas are kept by the server's `schema_hash` (ferry uses
   * `$FERRY_HOME/cache/schemas`): a new session whose server has the same hash reads them there
   * instead of downloading them. @default {undefined (downloaded every time)}
   */
  schemaCache?: string;
}

const timeouts = new WeakMap<Session, number>();

/**
 * The API-call timeout (milliseconds) of a session made by {@linkcode openSession}; the default
 * for any other session. Uploads use it as their allowed time without progress.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Session } from "@ftrack/api";
 * import { sessionTimeout } from "./open_session.ts";
 *
 * // A session not made by openSession() has the default.
 * const elsewhere = {} as Session;
 * ok(sessionTimeout(elsewhere) === 60_000);
 * ```
 */
export function sessionTimeout(session: Session): number {
  return timeouts.get(session) ?? DEFAULT_TRACKER_TIMEOUT_SECONDS * 1000;
}

/** A session whose API calls give up after `timeout` ms and fail with errors naming the server. */
function timedSession(
  credentials: TrackerCredentials,
  timeout: number,
  eventHub: boolean,
  schemaCache: string | undefined,
): Session {
  const server = credentials.server;
  // A function, not a private method: the client's constructor makes its first call before the
  // subclass's private members exist.
  // deno-lint-ignore no-explicit-any
  const timed = async (session: Session, operations: any, options: CallOptions): Promise<any> => {
    const timer = AbortSignal.timeout(timeout);
    const signal = options.signal ? AbortSignal.any([options.signal, timer]) : timer;
    try {
      return await Session.prototype.call.call(session, operations, { ...options, signal });
    } catch (error) {
      if (timer.aborted && !options.signal?.aborted) {
        throw new TrackerConnectionError(
          server,
          "timeout",
          `it did not answer within ${
            timeout / 1000
          } s (change the limit with --timeout <seconds> or FERRY_TRACKER_TIMEOUT)`,
          { cause: error },
        );
      }
      throw classify(server, error);
    }
  };
  class TimedSession extends Session {
    // deno-lint-ignore no-explicit-any
    override async call(operations: any, options: CallOptions = {}): Promise<any> {
      // The client's first call asks for the server information and the schemas together: with a
      // schema cache, the schemas are asked only when the server's schema hash is not in it.
      const first = Array.isArray(operations) && operations.length === 2 &&
        operations[0]?.action === "query_server_information" && operations[1]?.action === "query_schemas";
      if (first && schemaCache !== undefined) {
        return await loadSchemas({
          folder: schemaCache,
          information: operations[0],
          call: (ops) => {
            // Part of the first call: the client would wait for its own initialisation.
            const initializing = this.initializing;
            (this as { initializing?: unknown }).initializing = undefined;
            try {
              return timed(this, ops, options);
            } finally {
              (this as { initializing?: unknown }).initializing = initializing;
            }
          },
        });
      }
      const result = await timed(this, operations, options);
      if (Array.isArray(operations)) knownTrackerCache(this)?.written(operations);
      return result;
    }
  }
  return new TimedSession(server, credentials.apiUser, credentials.apiKey, { autoConnectEventHub: eventHub });
}

/** Network failures and non-ftrack answers as {@linkcode TrackerConnectionError}s; others unchanged. */
function classify(server: string, error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof TrackerConnectionError) return error;
  // The official client reports fetch failures as a ServerError whose message is the cause
  // (Deno: "error sending request … dns error / Connection refused"; Node: ECONNREFUSED, ENOTFOUND).
  const network =
    /error sending request|fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|socket hang up/i;
  if (error.name === "ServerError" && network.test(error.message)) {
    const reason = /dns error|failed to lookup|ENOTFOUND|EAI_AGAIN|name or service not known/i.test(error.message)
      ? "its host name does not resolve"
      : /refused|ECONNREFUSED/i.test(error.message)
      ? "nothing is listening there (connection refused)"
      : "the connection failed";
    return new TrackerConnectionError(server, "unreachable", `${reason} (${oneLine(error.message)})`, { cause: error });
  }
  // An answer that is not JSON: something else than an ftrack server answers.
  if (error instanceof SyntaxError) {
    return new TrackerConnectionError(server, "not-ftrack", "it does not answer as an ftrack server", { cause: error });
  }
  return error;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").slice(0, 300);
}

/** What answers at `server/api`, for the message of a failed first call. */
async function describeServer(server: string, timeout: number): Promise<string | undefined> {
  try {
    const response = await fetch(`${server}/api`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: "[]",
      signal: AbortSignal.timeout(Math.min(timeout, 10_000)),
    });
    const type = response.headers.get("content-type") ?? "no content type";
    await response.body?.cancel();
    if (/json/i.test(type)) return undefined;
    return `it answers HTTP ${response.status} (${type}) at '${server}/api', not ftrack's API: is FTRACK_SERVER the site's address?`;
  } catch {
    return undefined;
  }
}

/**
 * An initialised official-client session (event hub not connected unless asked). Every API call
 * times out after `timeout` ms. Failures are {@linkcode TrackerConnectionError}s naming the server:
 * nothing listening or an unresolvable host (`unreachable`), no answer in time (`timeout`), the API
 * user or key refused (`credentials`), or something that is not an ftrack server (`not-ftrack`).
 */
export async function openSession(credentials: TrackerCredentials, options: OpenSessionOptions = {}): Promise<Session> {
  const { eventHub = false, timeout = DEFAULT_TRACKER_TIMEOUT_SECONDS * 1000, schemaCache } = options;
  if (!(timeout > 0)) throw new RangeError(`Cannot open a session with timeout '${timeout}': it must be above 0 ms`);
  const session = timedSession(credentials, timeout, eventHub, schemaCache);
  timeouts.set(session, timeout);
  try {
    await session.initializing;
  } catch (error) {
    if (error instanceof TrackerConnectionError) {
      if (error.problem !== "not-ftrack") throw error;
      const described = await describeServer(credentials.server, timeout);
      throw new TrackerConnectionError(credentials.server, "not-ftrack", described ?? error.message, { cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    if ((error as Error).name === "ServerPermissionDeniedError" || /authenticat|api key|not valid/i.test(message)) {
      throw new TrackerConnectionError(
        credentials.server,
        "credentials",
        `the API user '${credentials.apiUser}' or its key was refused (${
          oneLine(message)
        }); check FTRACK_API_USER and FTRACK_API_KEY`,
        { cause: error },
      );
    }
    const described = await describeServer(credentials.server, timeout);
    throw new TrackerConnectionError(
      credentials.server,
      "not-ftrack",
      described ?? `the first call failed: ${oneLine(message)}`,
      { cause: error },
    );
  }
  return session;
}
