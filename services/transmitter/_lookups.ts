/**
 * Tracker look-ups the transmitter's appliers share: one row, a status the entity's workflow
 * allows (from `workflowStatuses`, which the status automations use too), users by email then
 * username, custom attribute configurations, what kind of tracker entity an id is.
 *
 * @module
 */
import type { Session } from "@ftrack/api";
import { workflowStatuses } from "../../src/tracker/workflow_statuses.ts";
import { UnappliableChange } from "./unappliable_change.ts";

/** A tracker row as the client returns it. */
export type Row = Record<string, unknown>;

/** A value safe inside a query's double quotes. */
export const q = (value: unknown): string => String(value).replace(/["\\]/g, "");

/** The first row of a query, or undefined. */
export async function one(session: Session, expression: string): Promise<Row | undefined> {
  return (await session.query(expression)).data[0] as Row | undefined;
}

/** The tracker entity types an id can be, tried in this order by {@linkcode trackerTypeOf}. */
const KINDS = ["TypedContext", "AssetVersion", "Project", "Asset"] as const;

/** Which kind of tracker entity an id is (`Project`, `TypedContext`'s own type, `AssetVersion`, `Asset`), or undefined. */
export async function trackerTypeOf(session: Session, id: string): Promise<string | undefined> {
  for (const kind of KINDS) {
    const row = await one(session, `select id from ${kind} where id is "${q(id)}"`);
    if (row) return String(row.__entity_type__ ?? kind);
  }
  return undefined;
}

/** The status id of `name` among those the entity's workflow allows; an {@linkcode UnappliableChange} listing them when it has none. */
export async function allowedStatusId(session: Session, trackerId: string, name: string): Promise<string> {
  const allowed = await workflowStatuses(session, trackerId);
  const status = allowed.get(name.toLowerCase());
  if (!status) {
    if (allowed.size === 0 && (await trackerTypeOf(session, trackerId)) === undefined) {
      throw new UnappliableChange(`tracker entity ${trackerId} is gone`);
    }
    throw new UnappliableChange(
      `status '${name}' is not one the workflow of tracker entity ${trackerId} allows (${
        [...allowed.keys()].join(", ")
      })`,
    );
  }
  return status.id;
}

/** A tracker user's id by email, then username; undefined when none has either. */
export async function findUserId(session: Session, name: string): Promise<string | undefined> {
  const user = await one(session, `select id from User where email is "${q(name)}"`) ??
    await one(session, `select id from User where username is "${q(name)}"`);
  return user ? String(user.id) : undefined;
}

/** Tracker user ids by email, then username; an {@linkcode UnappliableChange} naming the first missing one. */
export async function userIds(session: Session, names: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const name of names) {
    const id = await findUserId(session, name);
    if (!id) throw new UnappliableChange(`no tracker user has the email or username '${name}'`);
    found.set(name, id);
  }
  return found;
}

/** The id of the custom attribute configuration with a key (for an object type, when given). */
export async function configurationId(session: Session, key: string): Promise<string | undefined> {
  const row = await one(session, `select id from CustomAttributeConfiguration where key is "${q(key)}"`);
  return row ? String(row.id) : undefined;
}
