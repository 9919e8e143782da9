import type { Session } from "@ftrack/api";
import type { Logger } from "../../src/cli/service_log.ts";

/** What the leecher asks the tracker about, to find an `ftrack.update` entry's project. */
export type ProjectRefKind = "List" | "TypedContext" | "Component";

/** An entity whose project tells an entry's project. */
export interface ProjectRef {
  kind: ProjectRefKind;
  id: string;
}

const COMPONENT_TYPES = new Set(["Component", "FileComponent", "SequenceComponent", "ContainerComponent"]);
const LIST_TYPES = new Set(["List", "AssetVersionList", "TypedContextList"]);

interface Entry {
  entityId?: unknown;
  entity_type?: unknown;
  parentId?: unknown;
  changes?: Record<string, { old?: unknown; new?: unknown } | undefined>;
}

const ends = (change: { old?: unknown; new?: unknown } | undefined): string[] =>
  [change?.new, change?.old].filter((value): value is string => typeof value === "string" && value !== "");

/**
 * The entities whose project an `ftrack.update` event's entries without a project parent belong
 * to: a list (`List` …) itself, a list item's list (`ListObject` `list_id`), a link's ends
 * (`TypedContextLink` `to_id`/`from_id`), a component, a component location's component
 * (`component_id`), a metadata entry's parent (read as a component); a component's project is
 * its version's, or for a sequence's member file its container's. Entries of other kinds give
 * none (the event is then stored without a project).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { projectRefsOf } from "./update_project.ts";
 *
 * const refs = projectRefsOf({ entities: [
 *   { entityId: "o1", entity_type: "ListObject", changes: { list_id: { new: "l1" } } },
 *   { entityId: "k1", entity_type: "TypedContextLink", changes: { to_id: { new: "t2" } } },
 * ] });
 * ok(refs.some((ref) => ref.kind === "List" && ref.id === "l1"));
 * ok(refs.some((ref) => ref.kind === "TypedContext" && ref.id === "t2"));
 * ```
 */
export function projectRefsOf(data: unknown): ProjectRef[] {
  const entries = (data as { entities?: unknown } | null | undefined)?.entities;
  if (!Array.isArray(entries)) return [];
  const refs: ProjectRef[] = [];
  for (const entry of entries as Entry[]) {
    const type = typeof entry?.entity_type === "string" ? entry.entity_type : "";
    const changes = entry?.changes ?? {};
    const id = typeof entry?.entityId === "string" ? entry.entityId : "";
    if (LIST_TYPES.has(type) && id) refs.push({ kind: "List", id });
    else if (type === "ListObject") refs.push(...ends(changes.list_id).map((id) => ({ kind: "List" as const, id })));
    else if (type === "TypedContextLink") {
      refs.push(
        ...[...ends(changes.to_id), ...ends(changes.from_id)].map((id) => ({ kind: "TypedContext" as const, id })),
      );
    } else if (COMPONENT_TYPES.has(type) && id) refs.push({ kind: "Component", id });
    else if (type === "ComponentLocation") {
      refs.push(...ends(changes.component_id).map((id) => ({ kind: "Component" as const, id })));
    } else if (type === "Metadata") {
      const parents = [...(typeof entry.parentId === "string" ? [entry.parentId] : []), ...ends(changes.parent_id)];
      refs.push(...parents.map((id) => ({ kind: "Component" as const, id })));
    }
  }
  return refs;
}

const QUERIES: Record<ProjectRefKind, { expression: string; paths: string[][] }> = {
  List: { expression: "select id, project.name from List where id in", paths: [["project", "name"]] },
  TypedContext: {
    expression: "select id, project.name from TypedContext where id in",
    paths: [["project", "name"]],
  },
  // A sequence's member files are in no version: their container is.
  Component: {
    expression:
      "select id, version.asset.parent.project.name, container.version.asset.parent.project.name from Component where id in",
    paths: [["version", "asset", "parent", "project", "name"], [
      "container",
      "version",
      "asset",
      "parent",
      "project",
      "name",
    ]],
  },
};

/** Options of {@linkcode projectLoader}. */
export interface ProjectLoaderOptions {
  /** Lookups asked within this window go to the tracker together: one query per kind. @default {5} */
  windowMs?: number;
  /** How long an answer (a project, or none) is kept. @default {30000} */
  cacheMs?: number;
  log?: Logger;
}

/** Reads entities' project names from the tracker, batched and cached; see {@linkcode projectLoader}. */
export interface ProjectLoader {
  /** The project name of `ref`, null when it has none or the tracker cannot be asked (never rejects). */
  load(ref: ProjectRef): Promise<string | null>;
  /** Queries sent so far. */
  readonly queries: number;
}

/**
 * A batching, caching reader of entities' projects for the leecher: the lookups asked within
 * `windowMs` are sent as one `id in (…)` query per kind; answers are kept `cacheMs` (a failed
 * query is not kept, and answers null).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Session } from "@ftrack/api";
 * import { projectLoader } from "./update_project.ts";
 *
 * const data = [{ id: "l1", project: { name: "alpha" } }, { id: "l2", project: { name: "alpha" } }];
 * const session = { query: () => Promise.resolve({ data }) } as unknown as Session;
 * const loader = projectLoader(session);
 * const names = await Promise.all([loader.load({ kind: "List", id: "l1" }), loader.load({ kind: "List", id: "l2" })]);
 * ok(names.every((name) => name === "alpha") && loader.queries === 1);
 * ```
 */
export function projectLoader(session: Session, options: ProjectLoaderOptions = {}): ProjectLoader {
  const { windowMs = 5, cacheMs = 30_000, log } = options;
  const cache = new Map<string, { at: number; name: Promise<string | null> }>();
  let pending = new Map<ProjectRefKind, Map<string, (name: string | null) => void>>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let queries = 0;

  const send = () => {
    timer = undefined;
    const batch = pending;
    pending = new Map();
    for (const [kind, waiting] of batch) {
      const { expression, paths } = QUERIES[kind];
      const ids = [...waiting.keys()];
      queries++;
      session.query(`${expression} (${ids.map((id) => `"${id.replace(/["\\]/g, "")}"`).join(", ")})`)
        .then((answer) => {
          const names = new Map<string, string>();
          for (const row of answer.data as Array<Record<string, unknown>>) {
            const name = paths.map((path) =>
              path.reduce<unknown>((value, key) => (value as Record<string, unknown> | null)?.[key], row)
            ).find((value) => typeof value === "string" && value !== "");
            if (typeof row.id === "string" && typeof name === "string") names.set(row.id, name);
          }
          for (const [id, resolve] of waiting) resolve(names.get(id) ?? null);
        })
        .catch((error: Error) => {
          log?.warn("cannot read the project of tracker entities: their events are stored without one", {
            kind,
            entities: ids.length,
            error: error.message,
          });
          for (const id of ids) cache.delete(`${kind}:${id}`);
          for (const resolve of waiting.values()) resolve(null);
        });
    }
  };

  return {
    get queries() {
      return queries;
    },
    load(ref: ProjectRef): Promise<string | null> {
      const key = `${ref.kind}:${ref.id}`;
      const now = Date.now();
      const cached = cache.get(key);
      if (cached && now - cached.at < cacheMs) return cached.name;
      if (cache.size > 10_000) { for (const [k, v] of cache) if (now - v.at >= cacheMs) cache.delete(k); }
      const name = new Promise<string | null>((resolve) => {
        let waiting = pending.get(ref.kind);
        if (!waiting) pending.set(ref.kind, waiting = new Map());
        const before = waiting.get(ref.id);
        waiting.set(ref.id, before ? (value) => (before(value), resolve(value)) : resolve);
      });
      cache.set(key, { at: now, name });
      timer ??= setTimeout(send, windowMs);
      return name;
    },
  };
}
