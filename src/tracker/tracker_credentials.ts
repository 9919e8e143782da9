import { z } from "zod";
import { ConfigurationError } from "../config/configuration_error.ts";

/** Where a tracker is and who talks to it. */
export interface TrackerCredentials {
  server: string;
  apiUser: string;
  apiKey: string;
}

const EnvSchema = z.object({
  FTRACK_SERVER: z.url({ error: "must be the site's URL, e.g. https://studio.ftrackapp.com" }),
  FTRACK_API_USER: z.string({ error: "is required with FTRACK_SERVER" }).min(1, "is empty"),
  FTRACK_API_KEY: z.string({ error: "is required with FTRACK_SERVER" }).min(1, "is empty"),
});

/**
 * The tracker the environment names: `FTRACK_SERVER`, `FTRACK_API_USER`, `FTRACK_API_KEY` (the
 * variables every ftrack tool reads), or undefined when `FTRACK_SERVER` is not set. A set but
 * incomplete or malformed environment is a `ConfigurationError` (a `TypeError`) naming each bad
 * variable.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { trackerFromEnv } from "./tracker_credentials.ts";
 *
 * const credentials = trackerFromEnv({ FTRACK_SERVER: "http://127.0.0.1:8070", FTRACK_API_USER: "ferry", FTRACK_API_KEY: "k" });
 * ok(credentials?.apiUser === "ferry");
 * ok(trackerFromEnv({}) === undefined);
 * ```
 */
export function trackerFromEnv(env: Record<string, string | undefined>): TrackerCredentials | undefined {
  if (!env.FTRACK_SERVER) return undefined;
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name}${env[name] === undefined ? "" : ` '${env[name]}'`} ${issue.message}`;
    });
    throw new ConfigurationError("the ftrack site from the environment", undefined, problems.join("; "));
  }
  return {
    server: result.data.FTRACK_SERVER.replace(/\/+$/, ""),
    apiUser: result.data.FTRACK_API_USER,
    apiKey: result.data.FTRACK_API_KEY,
  };
}
