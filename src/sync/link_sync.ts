import type { Session } from "@ftrack/api";
import type { Entity, EntityInput } from "../store/entity.ts";
import type { ProjectSync } from "./project_sync.ts";
import { chunk, queryAll, quoted } from "./tracker_project.ts";

/** A tracker link between typed contexts (ftrack's TypedContextLink, a dependency): `from` comes before `to`. */
export interface TrackerLink {
  id: string;
  fromId: string;
  toId: string;
}

/** A pipeline link as kept on its target entity's `data.links` (`trackerId` null for one made in the pipeline). */
export interface PipelineLink {
  /** The pipeline id of the entity linked from (the one the target depends on). */
  from: string;
  type: string;
  trackerId: string | null;
}

const linkOf = (row: Record<string, unknown>): TrackerLink => ({
  id: String(row.id),
  fromId: String(row.from_id),
  toId: String(row.to_id),
});

/** Reads every link into a tracker project's entities. */
export async function readProjectLinks(session: Session, projectId: string): Promise<TrackerLink[]> {
  return (await queryAll(
    session,
    `select id, from_id, to_id from TypedContextLink where to.project_id is "${projectId}"`,
  ))
    .map(linkOf);
}

/** Reads the links into some tracker entities. */
export async function readLinksTo(session: Session, toIds: string[]): Promise<TrackerLink[]> {
  const links: TrackerLink[] = [];
  for (const part of chunk([...new Set(toIds)], 200)) {
    links.push(
      ...(await queryAll(session, `select id, from_id, to_id from TypedContextLink where to_id in (${quoted(part)})`))
        .map(linkOf),
    );
  }
  return links;
}

/**
 * The links kept on an entity (`data.links`), none when it has none.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Entity } from "../store/entity.ts";
 * import { linksOf } from "./link_sync.ts";
 *
 * const task: Entity = { id: "t2", type: "task", project: "demo", parentId: "f1", name: "comp", status: null,
 *   assignees: [], attributes: {}, trackerId: null, createdAt: 0, updatedAt: 0,
 *   data: { taskType: "Compositing", links: [{ from: "t1", type: "dependency", trackerId: "l1" }] } };
 * ok(linksOf(task)[0]!.from === "t1");
 * ```
 */
export function linksOf(entity: Entity): PipelineLink[] {
  const links = (entity.data as { links?: unknown }).links;
  return Array.isArray(links) ? links as PipelineLink[] : [];
}

/**
 * Sets the tracker links of pipeline folders and tasks: each target's `data.links` holds
 * `{ from, type, trackerId }` for every tracker link into it whose source is synced (links made
 * in the pipeline, without a tracker id, stay; one the tracker now has from the same source
 * becomes that tracker link). The tracker's links have no type: they get the settings' `linkType`. `targets` are the tracker ids whose links are
 * recomputed (every synced entity for a full sync); `links` holds all their tracker links.
 */
export async function syncLinks(sync: ProjectSync, targets: string[], links: TrackerLink[]): Promise<void> {
  const byTarget = new Map<string, TrackerLink[]>();
  for (const link of links) byTarget.set(link.toId, [...(byTarget.get(link.toId) ?? []), link]);
  const type = sync.settings.linkType;
  for (const targetId of new Set(targets)) {
    const target = await sync.index.byTrackerId(targetId);
    if (target === undefined || (target.type !== "folder" && target.type !== "task")) {
      for (const link of byTarget.get(targetId) ?? []) {
        sync.skip("link", link.id, `link ${link.fromId} → ${link.toId}`, `its target ${link.toId} is not synced`);
      }
      continue;
    }
    const incoming = byTarget.get(targetId) ?? [];
    if (incoming.length === 0 && !linksOf(target).some((link) => link.trackerId)) continue;
    const targetPath = await sync.index.pathOf(target);
    const wanted: PipelineLink[] = [];
    const labels = new Map<string, string>();
    for (const link of incoming.sort((a, b) => a.id.localeCompare(b.id))) {
      const from = await sync.index.byTrackerId(link.fromId);
      if (from === undefined || (from.type !== "folder" && from.type !== "task")) {
        sync.skip("link", link.id, `${targetPath} ← ${link.fromId}`, `its source ${link.fromId} is not synced`);
        continue;
      }
      wanted.push({ from: from.id, type, trackerId: link.id });
      labels.set(link.id, `${await sync.index.pathOf(from)} → ${targetPath} (${type})`);
    }
    const before = linksOf(target);
    // A link made in the pipeline that the tracker has now (the transmitter made it) is that link.
    const adopted = new Map<string, string>();
    for (const link of before) {
      if (link.trackerId) continue;
      const same = wanted.find((candidate) => candidate.from === link.from && !adopted.has(candidate.trackerId!));
      if (same) adopted.set(same.trackerId!, link.from);
    }
    const own = before.filter((link) =>
      (link.trackerId === null || link.trackerId === undefined) &&
      ![...adopted.values()].includes(link.from)
    );
    const tracked = before.filter((link) => link.trackerId);
    const after = [...own, ...wanted];
    if (JSON.stringify(after) === JSON.stringify(before)) continue;
    const data: Record<string, unknown> = { ...target.data, links: after };
    if (after.length === 0) delete data.links;
    const { entity } = await sync.store.writeEntity({ ...target, data } as EntityInput, sync.writer);
    sync.index.put(entity);
    const beforeIds = new Map(tracked.map((link) => [link.trackerId!, link]));
    for (const link of wanted) {
      const old = beforeIds.get(link.trackerId!);
      if (old === undefined) sync.report.links.created.push(labels.get(link.trackerId!)!);
      else if (old.from !== link.from || old.type !== link.type) {
        sync.report.links.updated.push(labels.get(link.trackerId!)!);
      }
      beforeIds.delete(link.trackerId!);
    }
    for (const old of beforeIds.values()) {
      const from = await sync.index.get(old.from);
      sync.report.links.removed.push(
        `${from ? await sync.index.pathOf(from) : old.from} → ${targetPath} (${old.type})`,
      );
    }
  }
}
