import type { Session } from "@ftrack/api";
import { cachedQuery } from "./cached_query.ts";
import type { TrackerCache } from "./tracker_cache.ts";

type Row = Record<string, unknown>;

/** What {@linkcode projectOfSelection} takes besides the session and the selection. */
export interface ProjectOfSelectionOptions {
  /** Reads through this cache (the processor's per-event layer): a project selected again costs no query. */
  trackerCache?: TrackerCache;
}

/** The kinds of entity (`entityType` of an action's selection) whose project {@linkcode projectOfSelection} reads. */
export const SELECTION_KINDS: ReadonlySet<string> = new Set(["show", "task", "assetversion"]);

/**
 * The project (id and name) every entity of an action's selection (`data.selection` of
 * `ftrack.action.discover` / `ftrack.action.launch`) belongs to: a project (`show`), typed
 * contexts (`task`: shots, folders, tasks …) or asset versions, read with one query per kind of
 * entity selected (`id in (…)`), through `trackerCache` when given. Undefined when the selection
 * is empty, spans several projects, holds anything else, or names an entity the session cannot
 * see (a private project). A failed query rejects.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Session } from "@ftrack/api";
 * import { projectOfSelection } from "./project_of_selection.ts";
 *
 * const rows = [{ id: "t1", project: { id: "p1", name: "alpha" } }];
 * const session = { query: () => Promise.resolve({ data: rows }) } as unknown as Session;
 * const project = await projectOfSelection(session, [{ entityType: "task", entityId: "t1" }]);
 * ok(project?.name === "alpha");
 * ok(await projectOfSelection(session, [{ entityType: "user", entityId: "u1" }]) === undefined);
 * ```
 */
export async function projectOfSelection(
  session: Session,
  selection: unknown,
  options: ProjectOfSelectionOptions = {},
): Promise<{ id: string; name: string } | undefined> {
  if (!Array.isArray(selection) || selection.length === 0) return undefined;
  const ids = { show: new Set<string>(), task: new Set<string>(), assetversion: new Set<string>() };
  for (const item of selection as Row[]) {
    const id = typeof item?.entityId === "string" ? item.entityId.replace(/["\\]/g, "") : "";
    const type = String(item?.entityType ?? "").toLowerCase();
    if (!id || !SELECTION_KINDS.has(type)) return undefined;
    ids[type as keyof typeof ids].add(id);
  }
  const read = (expression: string) =>
    options.trackerCache
      ? cachedQuery(session, expression, { cache: options.trackerCache })
      : session.query(expression).then((answer) => answer.data as Row[]);
  const inList = (set: Set<string>) => [...set].map((id) => `"${id}"`).join(", ");
  const projects: Row[] = [];
  const counted = (rows: Row[], set: Set<string>) => rows.length === set.size;
  if (ids.show.size > 0) {
    const rows = await read(`select id, name from Project where id in (${inList(ids.show)})`);
    if (!counted(rows, ids.show)) return undefined;
    projects.push(...rows);
  }
  if (ids.task.size > 0) {
    const rows = await read(`select id, project.id, project.name from TypedContext where id in (${inList(ids.task)})`);
    if (!counted(rows, ids.task)) return undefined;
    projects.push(...rows.map((row) => row.project as Row));
  }
  if (ids.assetversion.size > 0) {
    const rows = await read(
      `select id, asset.parent.project.id, asset.parent.project.name from AssetVersion where id in (${
        inList(ids.assetversion)
      })`,
    );
    if (!counted(rows, ids.assetversion)) return undefined;
    projects.push(
      ...rows.map((row) => ((row.asset as Row | undefined)?.parent as Row | undefined)?.project as Row),
    );
  }
  const first = projects[0];
  if (typeof first?.id !== "string") return undefined;
  if (projects.some((project) => project?.id !== first.id)) return undefined;
  return { id: first.id, name: String(first.name) };
}
