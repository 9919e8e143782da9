import { operation, type Session } from "@ftrack/api";
import { type AttributeConfiguration, type AttributeSources, splitValues } from "./attribute_mapping.ts";

/** A tracker hierarchy entity as the sync reads it. */
export interface TrackerNode {
  id: string;
  name: string;
  /** The tracker parent's id (the project's id for top entities). */
  parentId: string;
  /** `task` for tasks, `milestone` for milestones, else `folder`. */
  kind: "folder" | "task" | "milestone";
  /** The object type (Shot, Sequence, Task …). */
  objectType: string;
  /** The task type (Task) or the object's type. */
  type: string | null;
  status: string | null;
  description: string | null;
  startDate: string | null;
  endDate: string | null;
  /**
   * Custom attribute values (dense: inherited and defaults included), by key; where a key has a
   * hierarchical and a per-object-type configuration, the hierarchical value when set.
   */
  values: Record<string, unknown>;
  /** The same values split by configuration: hierarchical, and the entity's own object type's (absent: unknown). */
  sources?: AttributeSources;
  /** The entity's own value of the pipeline id attribute (never inherited). */
  ownFerryId: string | null;
  /** Assigned users' usernames. */
  assignees: string[];
}

/** A tracker project as the sync reads it. */
export interface TrackerProject {
  id: string;
  name: string;
  fullName: string;
  values: Record<string, unknown>;
  /** The project's values split by configuration (hierarchical, and the `show` ones). */
  sources?: AttributeSources;
  ownFerryId: string | null;
  statuses: string[];
  objectTypes: string[];
  taskTypes: string[];
  nodes: TrackerNode[];
}

type Row = Record<string, unknown>;
const PAGE = 2_000;

/** A `select …` query read page by page. */
export async function queryAll(session: Session, expression: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (let offset = 0;; offset += PAGE) {
    const page = (await session.query(`${expression} offset ${offset} limit ${PAGE}`)).data as Row[];
    rows.push(...page);
    if (page.length < PAGE) return rows;
  }
}

/** A date value of the client (Date, dayjs or string) as an ISO string. */
export function isoDate(value: unknown): string | null {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof (value as { toDate?: unknown }).toDate === "function"
    ? (value as { toDate(): Date }).toDate()
    : new Date(String(value));
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

const name = (value: unknown): string | null =>
  value && typeof value === "object" && typeof (value as Row).name === "string" ? String((value as Row).name) : null;

/** Which configuration ids are hierarchical (those not known count as per object type). */
export type HierarchicalIds = { has(configurationId: string): boolean };

/** An entity row's custom attribute values, by key and split by configuration (see {@linkcode splitValues}). */
export function valuesOf(
  row: Row,
  hierarchical: HierarchicalIds,
): { values: Record<string, unknown>; sources: AttributeSources } {
  return splitValues((row.custom_attributes ?? []) as Row[], (id) => hierarchical.has(id));
}

const CONFIGURATION_FIELDS = "id, key, is_hierarchical, entity_type, object_type_id, project_id";
const CONFIGURATIONS_QUERY = `select ${CONFIGURATION_FIELDS} from CustomAttributeConfiguration`;

const configurationOf = (row: Row): AttributeConfiguration => ({
  id: String(row.id),
  key: String(row.key),
  isHierarchical: row.is_hierarchical === true,
  entityType: String(row.entity_type ?? ""),
  objectTypeId: typeof row.object_type_id === "string" && row.object_type_id !== "" ? row.object_type_id : null,
  projectId: typeof row.project_id === "string" && row.project_id !== "" ? row.project_id : null,
});

/** Whether each configuration id is hierarchical, by session (a configuration never changes kind). */
const KINDS = new WeakMap<Session, Map<string, boolean>>();

function kindsOf(session: Session, configurations?: Row[]): Map<string, boolean> {
  const kinds = KINDS.get(session) ?? new Map<string, boolean>();
  KINDS.set(session, kinds);
  for (const row of configurations ?? []) kinds.set(String(row.id), row.is_hierarchical === true);
  return kinds;
}

/**
 * Which configurations of some entity rows' `custom_attributes` are hierarchical: known from
 * earlier reads of the session, the configurations read again only when a row holds one not
 * known yet (made since), so an incremental sync costs no extra request.
 */
async function hierarchicalIdsFor(session: Session, rows: Array<Row | undefined>): Promise<HierarchicalIds> {
  const kinds = kindsOf(session);
  const unknown = rows.some((row) =>
    ((row?.custom_attributes ?? []) as Row[]).some((value) => !kinds.has(String(value.configuration_id)))
  );
  if (unknown) kindsOf(session, await queryAll(session, CONFIGURATIONS_QUERY));
  return { has: (id) => kinds.get(id) === true };
}

/** The tracker's custom attribute configurations (of some keys, when given). */
export async function readAttributeConfigurations(
  session: Session,
  keys?: string[],
): Promise<AttributeConfiguration[]> {
  const rows = keys === undefined
    ? await queryAll(session, CONFIGURATIONS_QUERY)
    : keys.length === 0
    ? []
    : await queryAll(session, `${CONFIGURATIONS_QUERY} where key in (${quoted(keys)})`);
  return rows.map(configurationOf);
}

const NODE_FIELDS =
  "id, name, parent_id, project_id, object_type.name, type.name, status.name, description, start_date, end_date, custom_attributes";

/** Turns a TypedContext row into a node. */
export function nodeOf(
  row: Row,
  ownFerryIds: Map<string, string>,
  assignees: Map<string, string[]>,
  hierarchical: HierarchicalIds,
): TrackerNode {
  const { values, sources } = valuesOf(row, hierarchical);
  const objectType = name(row.object_type) ?? String(row.__entity_type__ ?? "Folder");
  const id = String(row.id);
  return {
    id,
    name: String(row.name),
    parentId: String(row.parent_id ?? row.project_id),
    kind: objectType === "Task" ? "task" : objectType === "Milestone" ? "milestone" : "folder",
    objectType,
    type: name(row.type),
    status: name(row.status),
    description: typeof row.description === "string" && row.description !== "" ? row.description : null,
    startDate: isoDate(row.start_date),
    endDate: isoDate(row.end_date),
    values,
    sources,
    ownFerryId: ownFerryIds.get(id) ?? null,
    assignees: (assignees.get(id) ?? []).sort(),
  };
}

async function ownValues(session: Session, key: string, ids?: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const where = ids === undefined
    ? [`configuration.key is "${key}"`]
    : chunk(ids, 200).map((part) => `configuration.key is "${key}" and entity_id in (${quoted(part)})`);
  for (const condition of where) {
    for (
      const row of await queryAll(
        session,
        `select entity_id, value from ContextCustomAttributeValue where ${condition}`,
      )
    ) {
      if (typeof row.value === "string" && row.value !== "") found.set(String(row.entity_id), row.value);
    }
  }
  return found;
}

async function assignmentsOf(session: Session, condition: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const rows = await queryAll(
    session,
    `select context_id, resource.username from Appointment where type is "assignment" and ${condition}`,
  );
  for (const row of rows) {
    const username = (row.resource as Row | undefined)?.username;
    if (typeof username !== "string") continue;
    const list = found.get(String(row.context_id)) ?? [];
    if (!list.includes(username)) list.push(username);
    found.set(String(row.context_id), list);
  }
  return found;
}

/** Splits a list into parts of at most `size`. */
export function chunk<T>(items: T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

/** Ids as a quoted, comma-separated list for `in (…)`. */
export function quoted(ids: string[]): string {
  return ids.map((id) => `"${id.replace(/"/g, "")}"`).join(", ");
}

/** The tracker project's row (name, id and values), or undefined. */
export async function findTrackerProject(
  session: Session,
  by: { name?: string; id?: string },
): Promise<Row | undefined> {
  const condition = by.id ? `id is "${by.id}"` : `name is "${String(by.name).replace(/"/g, "")}"`;
  return (await session.query(`select id, name, full_name, custom_attributes from Project where ${condition}`))
    .data[0] as Row | undefined;
}

/**
 * Reads a whole tracker project: types, statuses, every TypedContext with its values, its own
 * pipeline id and its assignees. Throws a `RangeError` naming the project when there is none.
 */
export async function readTrackerProject(
  session: Session,
  projectName: string,
  options: { idAttribute: string },
): Promise<TrackerProject> {
  const project = await findTrackerProject(session, { name: projectName });
  if (project === undefined) throw new RangeError(`There is no tracker project named '${projectName}'`);
  const projectId = String(project.id);
  const [rows, ownIds, assignees, statuses, objectTypes, types, configurations] = await Promise.all([
    queryAll(session, `select ${NODE_FIELDS} from TypedContext where project_id is "${projectId}" order by id`),
    ownValues(session, options.idAttribute),
    assignmentsOf(session, `context.project_id is "${projectId}"`),
    queryAll(session, "select name, sort from Status order by sort"),
    queryAll(session, "select name, sort from ObjectType order by sort"),
    queryAll(session, "select name, sort from Type order by sort"),
    queryAll(session, CONFIGURATIONS_QUERY),
  ]);
  const kinds = kindsOf(session, configurations);
  const hierarchical: HierarchicalIds = { has: (id) => kinds.get(id) === true };
  const { values, sources } = valuesOf(project, hierarchical);
  return {
    id: projectId,
    name: String(project.name),
    fullName: String(project.full_name ?? project.name),
    values,
    sources,
    ownFerryId: ownIds.get(projectId) ?? null,
    statuses: statuses.map((row) => String(row.name)),
    objectTypes: objectTypes.map((row) => String(row.name)).filter((n) => n !== "Task" && n !== "Milestone"),
    taskTypes: types.map((row) => String(row.name)),
    nodes: rows.map((row) => nodeOf(row, ownIds, assignees, hierarchical)),
  };
}

/** Several queries in one request (one round trip), each answered in full (no paging: callers bound them). */
export async function queryMany(session: Session, expressions: string[]): Promise<Row[][]> {
  if (expressions.length === 0) return [];
  const responses = await session.call(expressions.map((expression) => operation.query(expression))) as Array<
    { data?: Row[] }
  >;
  return responses.map((response) => response?.data ?? []);
}

const nodeQueries = (ids: string[], idAttribute: string): string[] => [
  `select ${NODE_FIELDS} from TypedContext where id in (${quoted(ids)})`,
  `select entity_id, value from ContextCustomAttributeValue where configuration.key is "${idAttribute}" and entity_id in (${
    quoted(ids)
  })`,
  `select context_id, resource.username from Appointment where type is "assignment" and context_id in (${quoted(ids)})`,
];

function nodesOf(rows: Row[], values: Row[], appointments: Row[], hierarchical: HierarchicalIds): TrackerNode[] {
  const ownIds = new Map<string, string>();
  for (const row of values) {
    if (typeof row.value === "string" && row.value !== "") ownIds.set(String(row.entity_id), row.value);
  }
  const assignees = new Map<string, string[]>();
  for (const row of appointments) {
    const username = (row.resource as Row | undefined)?.username;
    if (typeof username !== "string") continue;
    const list = assignees.get(String(row.context_id)) ?? [];
    if (!list.includes(username)) list.push(username);
    assignees.set(String(row.context_id), list);
  }
  return rows.map((row) => nodeOf(row, ownIds, assignees, hierarchical));
}

/** Reads some TypedContext entities of a project (those still there), with their own ids and assignees. */
export async function readTrackerNodes(
  session: Session,
  ids: string[],
  options: { idAttribute: string },
): Promise<TrackerNode[]> {
  const nodes: TrackerNode[] = [];
  for (const part of chunk([...new Set(ids)], 200)) {
    const [rows, values, appointments] = await queryMany(session, nodeQueries(part, options.idAttribute));
    nodes.push(...nodesOf(rows!, values!, appointments!, await hierarchicalIdsFor(session, rows!)));
  }
  return nodes;
}

/**
 * A tracker project's row and some of its TypedContext entities in one round trip (an
 * incremental sync's reads, for up to 200 entities; more are read in further requests).
 */
export async function readProjectAndNodes(
  session: Session,
  projectName: string,
  ids: string[],
  options: { idAttribute: string },
): Promise<{
  project: Row | undefined;
  /** The project's values, by key and split by configuration. */
  projectValues: { values: Record<string, unknown>; sources: AttributeSources };
  nodes: TrackerNode[];
}> {
  const unique = [...new Set(ids)];
  const first = unique.slice(0, 200);
  const [projects, rows, values, appointments] = await queryMany(session, [
    `select id, name, full_name, custom_attributes from Project where name is "${projectName.replace(/"/g, "")}"`,
    ...(first.length ? nodeQueries(first, options.idAttribute) : []),
  ]);
  const project = projects![0];
  const hierarchical = await hierarchicalIdsFor(session, [project, ...(rows ?? [])]);
  const nodes = first.length ? nodesOf(rows!, values!, appointments!, hierarchical) : [];
  if (unique.length > 200) nodes.push(...await readTrackerNodes(session, unique.slice(200), options));
  return { project, projectValues: valuesOf(project ?? {}, hierarchical), nodes };
}
