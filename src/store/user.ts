import { z } from "zod";

/**
 * A person as the pipeline knows them (a tracker user when synced): the username is unique
 * (case-insensitively), the email is what tools outside the tracker usually know.
 */
export const UserInputSchema = z.object({
  /** Unique id; a new uuid when left out. */
  id: z.string().min(1).optional(),
  username: z.string().trim().min(1, "is empty").max(255),
  email: z.string().trim().min(1).nullable().default(null),
  firstName: z.string().nullable().default(null),
  lastName: z.string().nullable().default(null),
  /** Whether the user may work (ftrack's `is_active`); a user removed in the tracker is kept inactive. */
  active: z.boolean().default(true),
  /** The tracker user's id. */
  trackerId: z.string().min(1).nullable().default(null),
  data: z.record(z.string(), z.unknown()).default({}),
});

/** A user as written. */
export type UserInput = z.input<typeof UserInputSchema>;

/** A user as stored. Times are milliseconds since the epoch. */
export type PipelineUser = z.output<typeof UserInputSchema> & { id: string; createdAt: number; updatedAt: number };

/** Filter of {@linkcode PipelineStore.findUsers}: every given field must match (username and email case-insensitively). */
export interface UserFilter {
  username?: string;
  email?: string;
  trackerId?: string;
  active?: boolean;
}

/**
 * The fields of a user that differ between two versions of it (`id` and times aside).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { type PipelineUser, userChanges } from "./user.ts";
 *
 * const before: PipelineUser = { id: "u1", username: "ana", email: null, firstName: "Ana", lastName: null,
 *   active: true, trackerId: null, data: {}, createdAt: 0, updatedAt: 0 };
 * ok(userChanges(before, { ...before, email: "ana@studio.test" }).join() === "email");
 * ```
 */
export function userChanges(before: PipelineUser, after: PipelineUser): string[] {
  const fields = ["username", "email", "firstName", "lastName", "active", "trackerId", "data"] as const;
  return fields.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
}
