/**
 * Pipeline links carried to the tracker: a folder's or task's `data.links` changed in the
 * pipeline makes or deletes the tracker's TypedContextLinks into it.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import type { Session } from "@ftrack/api";
import type { Entity, EntityInput, Writer } from "../../src/store/entity.ts";
import type { PipelineStore } from "../../src/store/pipeline_store.ts";
import { TRACKER_SENDER_TYPE } from "../../src/store/topics.ts";
import { linksOf, type PipelineLink } from "../../src/sync/link_sync.ts";
import { one, q } from "./_lookups.ts";
import type { Applied } from "./apply_change.ts";
import { UnappliableChange } from "./unappliable_change.ts";

const listOf = (data: unknown): PipelineLink[] => {
  const links = (data as { links?: unknown } | null | undefined)?.links;
  return Array.isArray(links) ? links as PipelineLink[] : [];
};

/**
 * Whether a `data_changed` changed the links (`data.links`).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { linksChanged } from "./apply_links.ts";
 *
 * ok(linksChanged({}, { links: [{ from: "a", type: "dependency", trackerId: null }] }));
 * ok(!linksChanged({ links: [] }, {}));
 * ```
 */
export function linksChanged(before: unknown, after: unknown): boolean {
  return JSON.stringify(listOf(before)) !== JSON.stringify(listOf(after));
}

/**
 * Makes the tracker's links into `entity` match its recorded `data.links` (`after`): a link
 * without a tracker id is made (or matched, when the tracker has that link already) and its id
 * written back to the pipeline as the tracker's (sender type `tracker`, so it does not come back
 * here); a link with a tracker id that `before` had and `after` has not is deleted. An end not
 * in the tracker yet is an {@linkcode UnappliableChange} (retried).
 */
export async function applyLinks(options: {
  session: Session;
  store: PipelineStore;
  entity: Entity;
  before: unknown;
  after: unknown;
  sender: string;
}): Promise<Applied> {
  const { session, store, entity } = options;
  const toId = entity.trackerId;
  if (!toId) throw new UnappliableChange(`'${entity.name}' is not in the tracker yet`);
  const wanted = listOf(options.after);
  const kept = new Set(wanted.map((link) => link.trackerId).filter(Boolean));
  const done: string[] = [];
  for (const link of listOf(options.before)) {
    if (!link.trackerId || kept.has(link.trackerId)) continue;
    if (await one(session, `select id from TypedContextLink where id is "${q(link.trackerId)}"`)) {
      await session.delete("TypedContextLink", [link.trackerId]);
    }
    done.push(`unlinked ${link.trackerId}`);
  }
  const made = new Map<string, string>();
  for (const link of wanted) {
    if (link.trackerId) continue;
    const from = await store.getEntity(link.from);
    if (!from) throw new UnappliableChange(`the linked-from pipeline entity ${link.from} is gone`);
    if (!from.trackerId) throw new UnappliableChange(`the linked-from '${from.name}' is not in the tracker yet`);
    const existing = await one(
      session,
      `select id from TypedContextLink where from_id is "${q(from.trackerId)}" and to_id is "${q(toId)}"`,
    );
    const id = existing ? String(existing.id) : randomUUID();
    if (!existing) await session.create("TypedContextLink", { id, from_id: from.trackerId, to_id: toId });
    made.set(link.from, id);
    done.push(`${existing ? "matched" : "linked"} from ${from.trackerId} (${id})`);
  }
  if (made.size > 0) {
    // Written back on the entity as it is now (the sync may have recorded the tracker link already).
    const current = await store.getEntity(entity.id);
    if (current) {
      const links = linksOf(current);
      const updated = links.map((link) =>
        !link.trackerId && made.has(link.from) ? { ...link, trackerId: made.get(link.from)! } : link
      );
      if (JSON.stringify(updated) !== JSON.stringify(links)) {
        const writer: Writer = { sender: options.sender, senderType: TRACKER_SENDER_TYPE };
        await store.writeEntity({ ...current, data: { ...current.data, links: updated } } as EntityInput, writer);
      }
    }
  }
  return { summary: done.join("; ") || "links unchanged in the tracker" };
}
