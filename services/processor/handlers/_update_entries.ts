/**
 * What the status automations share: the entries of an `ftrack.update` event, status lookups
 * and the service's own user (its changes are skipped where a loop could start).
 *
 * @module
 */
import type { Session } from "@ftrack/api";
import { z } from "zod";
import type { Logger } from "../../../src/cli/service_log.ts";
import { workflowStatuses } from "../../../src/tracker/workflow_statuses.ts";
import type { HubEvent } from "../../../src/events/event.ts";

/** One entry of an `ftrack.update` event. */
export interface UpdateEntry {
  action: string;
  entityId: string;
  entityType: string;
  entity_type: string;
  parentId: string | null;
  keys: string[];
  changes: Record<string, { old: unknown; new: unknown }>;
}

/** The entries of an event about one entity type that changed one of `keys` (any key when empty). */
export function entriesOf(event: HubEvent, entityType: string, keys: string[] = []): UpdateEntry[] {
  const entities = (event.data as { entities?: unknown } | undefined)?.entities;
  if (!Array.isArray(entities)) return [];
  return (entities as UpdateEntry[]).filter((entry) =>
    entry && entry.entity_type === entityType &&
    (keys.length === 0 || (Array.isArray(entry.keys) && entry.keys.some((key) => keys.includes(key))))
  );
}

/** Status keys as the tracker names them in events. */
export const STATUS_KEYS = ["statusid", "status_id"];

/** Whether the event was caused by the session's own user (the service). */
export function causedByService(event: HubEvent, session: Session): boolean {
  const username = (event.source as { user?: { username?: string } } | undefined)?.user?.username;
  return username !== undefined && username === session.apiUser;
}

/** The tracker's statuses by lower-case name. */
export async function statusesByName(session: Session): Promise<Map<string, { id: string; name: string }>> {
  const rows = (await session.query("select id, name from Status")).data as Array<{ id: string; name: string }>;
  return new Map(rows.map((row) => [row.name.toLowerCase(), { id: row.id, name: row.name }]));
}

/** A name → value setting looked up case-insensitively. */
export function lookup<T>(mapping: Record<string, T> | undefined, name: string | undefined | null): T | undefined {
  if (!mapping || !name) return undefined;
  const key = Object.keys(mapping).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : mapping[key];
}

/** An asset type filter setting: `{ mode: "allow" | "deny", names: [...] }` (names or short names). */
export const AssetTypeFilter = z.object({ mode: z.enum(["allow", "deny"]), names: z.array(z.string()) });

/** Whether an asset type (`{ name, short }`) passes a filter (any passes without one); case-insensitive. */
export function assetTypePasses(
  filter: z.infer<typeof AssetTypeFilter> | undefined,
  type: { name?: unknown; short?: unknown } | undefined | null,
): boolean {
  if (!filter) return true;
  const names = filter.names.map((n) => n.toLowerCase());
  const listed = names.includes(String(type?.name).toLowerCase()) || names.includes(String(type?.short).toLowerCase());
  return filter.mode === "allow" ? listed : !listed;
}

/**
 * The first of `names` (case-insensitive) that the workflow of tracker entity `entityId` allows
 * (see `workflowStatuses`), or undefined, with a warning naming the entity and the names when
 * none is allowed (ayon-ftrack skips such a change the same way).
 */
export async function firstAllowed(
  session: Session,
  entityId: string,
  names: string[],
  log?: Logger,
): Promise<{ id: string; name: string } | undefined> {
  if (names.length === 0) return undefined;
  const allowed = await workflowStatuses(session, entityId);
  for (const name of names) {
    const status = allowed.get(name.toLowerCase());
    if (status) return status;
  }
  log?.warn("no status its workflow allows; left as it is", { entity: entityId, statuses: names.join(", ") });
  return undefined;
}
