import type { Session } from "@ftrack/api";
import { cachedQuery, trackerCacheOf } from "./cached_query.ts";
import { closestNames } from "./closest_names.ts";

/** A tracker entity as the client returns it. */
export type Entity = { __entity_type__: string; id: string; name: string } & Record<string, unknown>;

/** Where a publish goes: the project, the contexts down to the deepest one, and the task. */
export interface ResolvedContext {
  project: Entity;
  /** Every context from the project's child down to the deepest (the shot, the asset build). */
  chain: Entity[];
  /** The deepest context: where assets are created. */
  entity: Entity;
  /** The task, when one was named. */
  task: Entity | undefined;
}

/** A context path or task names nothing; the message lists the closest names that exist. */
export class ContextNotFoundError extends Error {
  readonly path: string;
  readonly missing: string;
  readonly suggestions: string[];

  constructor(path: string, missing: string, where: string, suggestions: string[]) {
    const hint = suggestions.length > 0
      ? `; the closest are ${suggestions.map((name) => `'${name}'`).join(", ")}`
      : "; there is none";
    super(`Cannot find '${missing}' ${where} of context '${path}'${hint}`);
    this.name = "ContextNotFoundError";
    this.path = path;
    this.missing = missing;
    this.suggestions = suggestions;
  }
}

function quoted(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

async function rows(session: Session, expression: string): Promise<Entity[]> {
  return await cachedQuery<Entity>(session, expression);
}

/**
 * Resolves `project/sequence/shot` (any depth, by names) and a task name below the deepest context
 * to tracker entities. A name that matches nothing is a {@linkcode ContextNotFoundError} listing
 * the closest names at that level. Lookups go through the session's cache
 * (`trackerCacheOf`): a path resolved a moment ago costs no request.
 */
export async function resolveContext(session: Session, path: string, taskName?: string): Promise<ResolvedContext> {
  const cache = trackerCacheOf(session);
  const key = `context:${path}\u0000${taskName ?? ""}`;
  const found = await cache.get(key, async () => {
    const resolved = await resolveUncached(session, path, taskName);
    const entities = [resolved.project, ...resolved.chain, ...(resolved.task ? [resolved.task] : [])];
    cache.tag(key, { ids: entities.map((entity) => entity.id) });
    return resolved;
  }, { types: ["context", "status"] });
  // Copies: a caller changing its entities does not change what the next one is given.
  const copy = (entity: Entity): Entity => ({ ...entity });
  const project = copy(found.project);
  const chain = found.chain.map(copy);
  return { project, chain, entity: chain.at(-1) ?? project, task: found.task ? copy(found.task) : undefined };
}

async function resolveUncached(session: Session, path: string, taskName?: string): Promise<ResolvedContext> {
  const parts = path.split("/").map((part) => part.trim()).filter(Boolean);
  if (parts.length === 0) {
    throw new TypeError(`Cannot use context '${path}': give at least a project, e.g. 'demo/sq010/sh010'`);
  }
  const [projectName, ...rest] = parts as [string, ...string[]];
  const projects = await rows(session, `select id, name, full_name from Project where name is ${quoted(projectName)}`);
  let project = projects[0];
  if (project === undefined) {
    const all = await rows(session, "select name from Project");
    throw new ContextNotFoundError(
      path,
      projectName,
      "among the projects",
      closestNames(projectName, all.map((row) => row.name)),
    );
  }
  project = project as Entity;
  const chain: Entity[] = [];
  let parent: Entity = project;
  for (const name of rest) {
    const found = await rows(
      session,
      `select id, name, parent_id, object_type.name from TypedContext where parent_id is "${parent.id}" and name is ${
        quoted(name)
      }`,
    );
    if (found[0] === undefined) {
      const siblings = await rows(session, `select name from TypedContext where parent_id is "${parent.id}"`);
      throw new ContextNotFoundError(
        path,
        name,
        `under '${parent.name}'`,
        closestNames(name, siblings.map((row) => row.name)),
      );
    }
    chain.push(found[0]);
    parent = found[0];
  }
  let task: Entity | undefined;
  if (taskName !== undefined) {
    const tasks = await rows(
      session,
      `select id, name, parent_id, type.name, status.name from Task where parent_id is "${parent.id}" and name is ${
        quoted(taskName)
      }`,
    );
    task = tasks[0];
    if (task === undefined) {
      const siblings = await rows(session, `select name from Task where parent_id is "${parent.id}"`);
      throw new ContextNotFoundError(
        path,
        taskName,
        `as a task under '${parent.name}'`,
        closestNames(taskName, siblings.map((row) => row.name)),
      );
    }
  }
  return { project, chain, entity: parent, task };
}
