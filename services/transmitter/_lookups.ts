/**
 * Tracker look-ups the transmitter's appliers share: one row, the statuses an entity's workflow
 * allows, users by email then username, custom attribute configurations, what kind of tracker
 * entity an id is.
 *
 * @module
 */
import type { Session } from "@ftrack/api";
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

/** The statuses a tracker entity's workflow allows (lower-case name → id): project schema, task overrides, versions. */
export async function allowedStatuses(session: Session, trackerId: string): Promise<Map<string, string>> {
  let statuses: Row[];
  const version = await one(
    session,
    `select asset.parent.project.project_schema_id from AssetVersion where id is "${q(trackerId)}"`,
  );
  if (version) {
    const schemaId = String(
      ((((version.asset as Row | undefined)?.parent as Row | undefined)?.project as Row | undefined)
        ?.project_schema_id) ?? "",
    );
    const schema = await one(
      session,
      `select asset_version_workflow_schema.statuses.id, asset_version_workflow_schema.statuses.name from ProjectSchema where id is "${schemaId}"`,
    );
    statuses = ((schema?.asset_version_workflow_schema as Row | undefined)?.statuses ?? []) as Row[];
    return new Map(statuses.map((status) => [String(status.name).toLowerCase(), String(status.id)]));
  }
  const row = await one(
    session,
    `select id, object_type_id, type_id, project.project_schema_id from TypedContext where id is "${q(trackerId)}"`,
  );
  if (!row) throw new UnappliableChange(`tracker entity ${trackerId} is gone`);
  const schemaId = String((row.project as Row | undefined)?.project_schema_id ?? "");
  const objectType = await one(session, `select name from ObjectType where id is "${row.object_type_id}"`);
  if (objectType?.name === "Task") {
    const override = row.type_id
      ? await one(
        session,
        `select workflow_schema.statuses.id, workflow_schema.statuses.name from ProjectSchemaOverride where project_schema_id is "${schemaId}" and type_id is "${row.type_id}"`,
      )
      : undefined;
    const schema = override ? (override.workflow_schema as Row) : (await one(
      session,
      `select task_workflow_schema.statuses.id, task_workflow_schema.statuses.name from ProjectSchema where id is "${schemaId}"`,
    ))?.task_workflow_schema as Row | undefined;
    statuses = (schema?.statuses ?? []) as Row[];
  } else {
    const schema = await one(
      session,
      `select id from Schema where project_schema_id is "${schemaId}" and object_type_id is "${row.object_type_id}"`,
    );
    statuses = schema
      ? ((await session.query(
        `select task_status.id, task_status.name from SchemaStatus where schema_id is "${schema.id}"`,
      ))
        .data as Row[]).map((r) => r.task_status as Row)
      : [];
  }
  return new Map(statuses.map((status) => [String(status.name).toLowerCase(), String(status.id)]));
}

/** The status id of `name` among those the entity's workflow allows; an {@linkcode UnappliableChange} listing them when it has none. */
export async function allowedStatusId(session: Session, trackerId: string, name: string): Promise<string> {
  const allowed = await allowedStatuses(session, trackerId);
  const statusId = allowed.get(name.toLowerCase());
  if (!statusId) {
    throw new UnappliableChange(
      `status '${name}' is not one the workflow of tracker entity ${trackerId} allows (${
        [...allowed.keys()].join(", ")
      })`,
    );
  }
  return statusId;
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
