import type { StoredJob } from "./job_store.ts";
import type { Job } from "./schemas.ts";

/**
 * A job as the API shows it: the stored job without what only the runner needs.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { toJob } from "./job_view.ts";
 *
 * const stored = { id: "1", attempts: 1 } as unknown as Parameters<typeof toJob>[0];
 * ok(!("attempts" in toJob(stored)));
 * ```
 */
export function toJob(job: StoredJob): Job {
  const { attempts: _attempts, ...shown } = job;
  return structuredClone(shown);
}
