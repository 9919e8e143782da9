import { ErrorSchema } from "../schemas.ts";

const DESCRIPTIONS = {
  400: "Invalid request: one issue per bad field, with its path and value",
  401: "Missing or wrong bearer token",
  403: "Host or Origin refused",
  404: "Not found",
  413: "Body larger than 1 MiB",
  415: "Body is not JSON",
  503: "The tracker or the bridge is not available",
} as const;

/** The error responses of a route, all with the one error body. */
export function errorResponses<S extends keyof typeof DESCRIPTIONS>(...statuses: S[]) {
  return Object.fromEntries(statuses.map((status) => [status, {
    description: DESCRIPTIONS[status],
    content: { "application/json": { schema: ErrorSchema } },
  }])) as unknown as {
    [K in S]: { description: string; content: { "application/json": { schema: typeof ErrorSchema } } };
  };
}
