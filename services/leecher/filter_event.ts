/** Entity types whose events the leecher drops, as ayon-ftrack does (they only grow the log). */
export const IGNORED_ENTITY_TYPES: ReadonlySet<string> = new Set(["socialfeed", "socialnotification", "team"]);

/**
 * Whether the leecher stores an event: not `ftrack.meta.*` (the hub's own traffic), and not an
 * event whose `data.entities` are all of ignored types (`socialfeed`, `socialnotification`, `team`).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { shouldStore } from "./filter_event.ts";
 *
 * ok(shouldStore({ topic: "ftrack.update", data: { entities: [{ entityType: "task" }] } }));
 * ok(!shouldStore({ topic: "ftrack.meta.reply", data: {} }));
 * ok(!shouldStore({ topic: "ftrack.update", data: { entities: [{ entityType: "socialfeed" }] } }));
 * ```
 */
export function shouldStore(event: { topic?: unknown; data?: unknown }): boolean {
  if (typeof event.topic !== "string" || event.topic === "" || event.topic.startsWith("ftrack.meta.")) return false;
  const entities = (event.data as { entities?: unknown } | null | undefined)?.entities;
  if (!Array.isArray(entities) || entities.length === 0) return true;
  return !entities.every((entity) => {
    const type = (entity as { entityType?: unknown; entity_type?: unknown } | null)?.entityType ??
      (entity as { entity_type?: unknown } | null)?.entity_type;
    return typeof type === "string" && IGNORED_ENTITY_TYPES.has(type.toLowerCase());
  });
}

/**
 * The id of the project an event tells without asking the tracker: for `ftrack.update`, the
 * first entity's project parent (`entityType` `show`), or the entity itself when it is a project;
 * for an `ftrack.action.launch` on a selected project, that project, so that with
 * `processor.parallelProjects` a long action (a full sync) waits in its project's lane.
 * Discoveries (`ftrack.action.discover`) and selections of shots, tasks or versions tell none:
 * the leecher reads their project from the tracker ({@linkcode actionSelectionOf}); discoveries
 * are answered ahead of their turn by the processor, so their lane never holds them up.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { projectIdOf } from "./filter_event.ts";
 *
 * const data = { entities: [{ entityType: "task", entityId: "t", parents: [{ entityType: "task", entityId: "t" }, { entityType: "show", entityId: "p" }] }] };
 * ok(projectIdOf({ data }) === "p");
 * ok(projectIdOf({ data: {} }) === undefined);
 * ok(projectIdOf({ topic: "ftrack.action.launch", data: { selection: [{ entityType: "show", entityId: "p" }] } }) === "p");
 * ok(projectIdOf({ topic: "ftrack.action.discover", data: { selection: [{ entityType: "show", entityId: "p" }] } }) === undefined);
 * ```
 */
export function projectIdOf(event: { topic?: unknown; data?: unknown }): string | undefined {
  if (event.topic === "ftrack.action.launch") {
    const selection = (event.data as { selection?: unknown } | null | undefined)?.selection;
    if (!Array.isArray(selection)) return undefined;
    const shows = selection.filter((item) => item?.entityType === "show" && typeof item.entityId === "string");
    return shows.length === 1 && selection.length === 1 ? String(shows[0].entityId) : undefined;
  }
  const entities = (event.data as { entities?: unknown } | null | undefined)?.entities;
  if (!Array.isArray(entities)) return undefined;
  for (const entity of entities as Array<Record<string, unknown>>) {
    if (entity?.entityType === "show" && typeof entity.entityId === "string") return entity.entityId;
    const parents = Array.isArray(entity?.parents) ? entity.parents as Array<Record<string, unknown>> : [];
    const show = parents.find((parent) => parent?.entityType === "show");
    if (typeof show?.entityId === "string") return show.entityId;
  }
  return undefined;
}

/** The topics of ftrack's action events, whose `data.selection` names what the user selected. */
export const ACTION_TOPICS: ReadonlySet<string> = new Set(["ftrack.action.discover", "ftrack.action.launch"]);

/**
 * The selection of an action event (`ftrack.action.discover` / `ftrack.action.launch`) whose
 * project {@linkcode projectIdOf} does not tell, for the leecher to read from the tracker:
 * undefined for other events, an empty selection, or a launch on one project.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { actionSelectionOf } from "./filter_event.ts";
 *
 * const selection = [{ entityType: "task", entityId: "t" }];
 * ok(actionSelectionOf({ topic: "ftrack.action.discover", data: { selection } })?.length === 1);
 * ok(actionSelectionOf({ topic: "ftrack.update", data: { selection } }) === undefined);
 * ok(actionSelectionOf({ topic: "ftrack.action.launch", data: { selection: [] } }) === undefined);
 * ```
 */
export function actionSelectionOf(
  event: { topic?: unknown; data?: unknown },
): Array<{ entityType: string; entityId: string }> | undefined {
  if (typeof event.topic !== "string" || !ACTION_TOPICS.has(event.topic)) return undefined;
  if (projectIdOf(event) !== undefined) return undefined;
  const selection = (event.data as { selection?: unknown } | null | undefined)?.selection;
  if (!Array.isArray(selection) || selection.length === 0) return undefined;
  return selection.map((item) => ({
    entityType: String((item as Record<string, unknown> | null)?.entityType ?? ""),
    entityId: String((item as Record<string, unknown> | null)?.entityId ?? ""),
  }));
}
