import type { Session } from "@ftrack/api";

type Row = Record<string, unknown>;

const quoted = (value: unknown): string => String(value).replace(/["\\]/g, "");

async function first(session: Session, expression: string): Promise<Row | undefined> {
  return (await session.query(expression)).data[0] as Row | undefined;
}

/**
 * The statuses a tracker entity's workflow allows, as lower-case name → `{ id, name }`: a
 * version's from its project's version workflow; a task's from its type's override in the
 * project schema, else the task workflow; any other object (Shot, Asset Build …) from its object
 * type's schema. Empty when the entity is gone or has no workflow. Status automations use it so
 * that, as in ftrack's own web app, an entity only gets a status its workflow offers.
 *
 * @example
 * ```ts ignore
 * import { workflowStatuses } from "./workflow_statuses.ts";
 *
 * const allowed = await workflowStatuses(session, taskId);
 * if (allowed.has("approved")) await session.update("Task", [taskId], { status_id: allowed.get("approved")!.id });
 * ```
 */
export async function workflowStatuses(
  session: Session,
  entityId: string,
): Promise<Map<string, { id: string; name: string }>> {
  const byName = (rows: Row[]) =>
    new Map(rows.map((row) => [String(row.name).toLowerCase(), { id: String(row.id), name: String(row.name) }]));
  const version = await first(
    session,
    `select asset.parent.project.project_schema_id from AssetVersion where id is "${quoted(entityId)}"`,
  );
  if (version) {
    const schemaId = ((((version.asset as Row | undefined)?.parent as Row | undefined)?.project as Row | undefined)
      ?.project_schema_id) ?? "";
    const schema = await first(
      session,
      `select asset_version_workflow_schema.statuses.id, asset_version_workflow_schema.statuses.name from ProjectSchema where id is "${
        quoted(schemaId)
      }"`,
    );
    return byName(((schema?.asset_version_workflow_schema as Row | undefined)?.statuses ?? []) as Row[]);
  }
  const entity = await first(
    session,
    `select object_type_id, object_type.name, type_id, project.project_schema_id from TypedContext where id is "${
      quoted(entityId)
    }"`,
  );
  if (!entity) return new Map();
  const schemaId = quoted((entity.project as Row | undefined)?.project_schema_id ?? "");
  if ((entity.object_type as Row | undefined)?.name === "Task") {
    const override = entity.type_id
      ? await first(
        session,
        `select workflow_schema.statuses.id, workflow_schema.statuses.name from ProjectSchemaOverride where project_schema_id is "${schemaId}" and type_id is "${
          quoted(entity.type_id)
        }"`,
      )
      : undefined;
    const workflow = override?.workflow_schema as Row | undefined ?? (await first(
      session,
      `select task_workflow_schema.statuses.id, task_workflow_schema.statuses.name from ProjectSchema where id is "${schemaId}"`,
    ))?.task_workflow_schema as Row | undefined;
    return byName((workflow?.statuses ?? []) as Row[]);
  }
  const schema = await first(
    session,
    `select id from Schema where project_schema_id is "${schemaId}" and object_type_id is "${
      quoted(entity.object_type_id)
    }"`,
  );
  if (!schema) return new Map();
  const rows = (await session.query(
    `select task_status.id, task_status.name from SchemaStatus where schema_id is "${quoted(schema.id)}"`,
  )).data as Row[];
  return byName(rows.map((row) => row.task_status as Row));
}
