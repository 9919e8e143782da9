/** Tests' helper: custom attribute configurations made through the official client. */
import type { Session } from "@ftrack/api";

/** A custom attribute configuration made through the client: per object type (`objectType`) or hierarchical. */
export async function makeConfiguration(
  session: Session,
  key: string,
  options: { objectType?: string; defaultValue?: unknown },
): Promise<string> {
  const type = (await session.query('select id from CustomAttributeType where name is "number"')).data[0]!;
  const objectType = options.objectType
    ? (await session.query(`select id from ObjectType where name is "${options.objectType}"`)).data[0]!
    : undefined;
  const created = await session.create("CustomAttributeConfiguration", {
    key,
    label: `${key} ${options.objectType ?? "hierarchical"}`,
    entity_type: objectType ? "task" : "show",
    object_type_id: objectType?.id ?? null,
    is_hierarchical: objectType === undefined,
    type_id: type.id,
    config: JSON.stringify({ isdecimal: false }),
    default: options.defaultValue ?? null,
  });
  return String(created.data.id);
}
