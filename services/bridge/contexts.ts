import type { Session } from "@ftrack/api";
import { ContextNotFoundError, resolveContext } from "../../src/tracker/resolve_context.ts";
import { BridgeError } from "./errors.ts";
import type { ContextInfo } from "./schemas.ts";

type Row = Record<string, unknown> & { id: string; name: string };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const quoted = (value: string) => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

async function rows(session: Session, expression: string): Promise<Row[]> {
  return (await session.query(expression)).data as Row[];
}

/** The ids among these that have children (contexts or tasks). */
async function withChildren(session: Session, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const found = await rows(
    session,
    `select parent_id from TypedContext where parent_id in (${ids.map(quoted).join(", ")})`,
  );
  return new Set(found.map((row) => String(row.parent_id)));
}

/** The parent's id and path, from an id or a `project/…` path; 404 `context_not_found` otherwise. */
async function findParent(session: Session, parent: string): Promise<{ id: string; path: string }> {
  if (UUID.test(parent)) {
    const project = (await rows(session, `select id, name from Project where id is ${quoted(parent)}`))[0];
    if (project) return { id: project.id, path: project.name };
    const context = (await rows(session, `select id, name, link from TypedContext where id is ${quoted(parent)}`))[0];
    if (!context) throw new BridgeError(404, "context_not_found", `No project or context with id '${parent}'`);
    const link = (context.link as Array<{ name: string }> | undefined) ?? [];
    return { id: context.id, path: link.map((item) => item.name).join("/") || context.name };
  }
  try {
    const resolved = await resolveContext(session, parent);
    const path = [resolved.project, ...resolved.chain].map((entity) => entity.name).join("/");
    return { id: resolved.entity.id, path };
  } catch (error) {
    if (error instanceof ContextNotFoundError) throw new BridgeError(404, "context_not_found", error.message);
    if (error instanceof TypeError) throw new BridgeError(404, "context_not_found", error.message);
    throw error;
  }
}

/**
 * What a context picker shows: the projects (no parent), or the contexts and tasks directly below
 * a parent given by id or by path (`demo/sq010`), each with its path and whether it has children.
 */
export async function listContexts(session: Session, parent?: string): Promise<ContextInfo[]> {
  if (parent === undefined) {
    const projects = await rows(session, "select id, name from Project");
    const parents = await withChildren(session, projects.map((project) => project.id));
    return projects
      .map((project) => ({
        id: project.id,
        name: project.name,
        type: "Project",
        path: project.name,
        parentId: null,
        hasChildren: parents.has(project.id),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
  const { id, path } = await findParent(session, parent);
  const children = await rows(
    session,
    `select id, name, parent_id, object_type.name from TypedContext where parent_id is ${quoted(id)}`,
  );
  const parents = await withChildren(session, children.map((child) => child.id));
  return children
    .map((child) => ({
      id: child.id,
      name: child.name,
      type: String((child.object_type as { name?: string } | undefined)?.name ?? child.__entity_type__ ?? "Context"),
      path: `${path}/${child.name}`,
      parentId: id,
      hasChildren: parents.has(child.id),
    }))
    .sort((a, b) => (a.type === "Task" ? 1 : 0) - (b.type === "Task" ? 1 : 0) || a.name.localeCompare(b.name));
}
