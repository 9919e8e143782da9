/** Why a tracker could not be used. */
export type TrackerProblem =
  /** Nothing answers at the address, or the host name does not resolve. */
  | "unreachable"
  /** The server took longer than the timeout to answer. */
  | "timeout"
  /** The API user or key was refused. */
  | "credentials"
  /** Something answers, but not as an ftrack server. */
  | "not-ftrack";

/**
 * A tracker could not be reached or used: unreachable, too slow, credentials refused, or not an
 * ftrack server. The message names the server; commands exit with code 3.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { TrackerConnectionError } from "./tracker_connection_error.ts";
 *
 * const error = new TrackerConnectionError("http://127.0.0.1:9", "unreachable", "nothing is listening");
 * ok(error.message === "Cannot reach the tracker at 'http://127.0.0.1:9': nothing is listening");
 * ok(error.exitCode === 3 && error.problem === "unreachable");
 * ```
 */
export class TrackerConnectionError extends Error {
  /** The tracker's URL. */
  readonly server: string;
  readonly problem: TrackerProblem;
  /** Commands exit with 3 (configuration or connection problem). */
  readonly exitCode = 3 as const;

  constructor(server: string, problem: TrackerProblem, reason: string, options?: ErrorOptions) {
    const verb = problem === "credentials" ? "use" : "reach";
    super(`Cannot ${verb} the tracker at '${server}': ${reason}`, options);
    this.name = "TrackerConnectionError";
    this.server = server;
    this.problem = problem;
  }
}
