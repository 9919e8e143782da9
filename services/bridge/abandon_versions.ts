import type { Session } from "@ftrack/api";

/**
 * Marks the unpublished versions of these publish keys as abandoned (their heartbeat set to the
 * epoch), so that running the same request again resumes them at once instead of waiting for the
 * heartbeat to go stale. Only for publishes known to have stopped: a job that was cancelled, that
 * failed, or whose bridge was killed. Returns how many versions were marked.
 */
export async function abandonVersions(session: Session, publishKeys: readonly string[]): Promise<number> {
  if (publishKeys.length === 0) return 0;
  const keys = publishKeys.map((key) => `"${key.replaceAll('"', "")}"`).join(", ");
  const found = await session.query(
    `select id from AssetVersion where is_published is false and metadata any (key is "ferry_publish_key" and value in (${keys}))`,
  );
  const ids = (found.data as Array<{ id: string }>).map((version) => version.id);
  if (ids.length === 0) return 0;
  await session.call(ids.map((id) => ({
    action: "update",
    entity_type: "Metadata",
    entity_key: [id, "ferry_heartbeat"],
    entity_data: { __entity_type__: "Metadata", value: new Date(0).toISOString() },
  })) as never);
  return ids.length;
}
