import type { Session } from "@ftrack/api";
import type { Writer } from "../store/entity.ts";
import type { PipelineStore } from "../store/pipeline_store.ts";
import type { PipelineUser } from "../store/user.ts";
import { TRACKER_SENDER_TYPE } from "../store/topics.ts";
import type { SectionReport, SkippedItem } from "./project_sync.ts";
import { chunk, queryAll, quoted } from "./tracker_project.ts";

/** What a sync of users did. */
export interface UserSyncReport extends SectionReport {
  skipped: SkippedItem[];
  unchanged: number;
  durationMs: number;
}

/** Options of {@linkcode syncUsers}. */
export interface UserSyncOptions {
  session: Session;
  store: PipelineStore;
  /** Written as the sender of the `user.*` events (their sender type is `tracker`). */
  sender: string;
  /** Only these tracker users (an incremental sync); those gone are deactivated. @default {every user} */
  ids?: string[];
}

type Row = Record<string, unknown>;
const text = (value: unknown): string | null => typeof value === "string" && value.trim() !== "" ? value.trim() : null;
const FIELDS = "id, username, email, first_name, last_name, is_active";

/**
 * Syncs tracker users into the pipeline's users: matched by tracker id, then username, then
 * email (case-insensitively); username, email, names and whether active follow the tracker. A
 * user gone from the tracker is kept, inactive (`data.trackerRemoved`). A tracker user whose
 * username another pipeline user has is skipped with the reason.
 *
 * @example
 * ```ts ignore
 * const report = await syncUsers({ session, store, sender: "sync" });
 * console.log(report.created, report.updated, report.removed);
 * ```
 */
export async function syncUsers(options: UserSyncOptions): Promise<UserSyncReport> {
  const started = performance.now();
  const { session, store } = options;
  const writer: Writer = { sender: options.sender, senderType: TRACKER_SENDER_TYPE };
  const report: UserSyncReport = { created: [], updated: [], removed: [], skipped: [], unchanged: 0, durationMs: 0 };
  const rows: Row[] = [];
  if (options.ids === undefined) rows.push(...await queryAll(session, `select ${FIELDS} from User order by username`));
  else {
    for (const part of chunk([...new Set(options.ids)], 200)) {
      rows.push(...(await session.query(`select ${FIELDS} from User where id in (${quoted(part)})`)).data as Row[]);
    }
  }
  const known = await store.listUsers();
  const byTracker = new Map(known.filter((user) => user.trackerId).map((user) => [user.trackerId!, user]));
  const byUsername = new Map(known.map((user) => [user.username.toLowerCase(), user]));
  const byEmail = new Map(known.filter((user) => user.email).map((user) => [user.email!.toLowerCase(), user]));
  const seen = new Set<string>();
  for (const row of rows) {
    const trackerId = String(row.id);
    seen.add(trackerId);
    const username = text(row.username);
    if (username === null) {
      report.skipped.push({ trackerId, path: `user ${trackerId}`, reason: "it has no username", kind: "user" });
      continue;
    }
    const email = text(row.email);
    const free = (user: PipelineUser | undefined) =>
      user !== undefined && (user.trackerId === null || user.trackerId === trackerId) ? user : undefined;
    const existing = byTracker.get(trackerId) ?? free(byUsername.get(username.toLowerCase())) ??
      (email ? free(byEmail.get(email.toLowerCase())) : undefined);
    const clash = byUsername.get(username.toLowerCase());
    if (clash !== undefined && clash.id !== existing?.id) {
      report.skipped.push({
        trackerId,
        path: `user ${username}`,
        reason: `the pipeline user '${clash.username}' (tracker id ${clash.trackerId ?? "none"}) has that username`,
        kind: "user",
      });
      continue;
    }
    const data = { ...(existing?.data ?? {}) };
    delete data.trackerRemoved;
    const { user, changed } = await store.writeUser({
      id: existing?.id,
      username,
      email,
      firstName: text(row.first_name),
      lastName: text(row.last_name),
      active: row.is_active !== false,
      trackerId,
      data,
    }, writer);
    if (existing) {
      byUsername.delete(existing.username.toLowerCase());
      if (existing.email) byEmail.delete(existing.email.toLowerCase());
    }
    byTracker.set(trackerId, user);
    byUsername.set(user.username.toLowerCase(), user);
    if (user.email) byEmail.set(user.email.toLowerCase(), user);
    if (!changed) report.unchanged++;
    else if (existing === undefined) report.created.push(username);
    else report.updated.push(username);
  }
  const gone = options.ids === undefined
    ? known.filter((user) => user.trackerId !== null && !seen.has(user.trackerId))
    : options.ids.filter((id) => !seen.has(id)).map((id) => byTracker.get(id)).filter((user) => user !== undefined);
  for (const user of gone) {
    if (user.data.trackerRemoved === true && !user.active) continue;
    await store.writeUser({ ...user, active: false, data: { ...user.data, trackerRemoved: true } }, writer);
    report.removed.push(user.username);
  }
  report.durationMs = Math.round(performance.now() - started);
  return report;
}

/**
 * The username of a user named by username or email (case-insensitively) among the pipeline's
 * users, or undefined when none has it.
 */
export async function usernameOf(store: PipelineStore, name: string): Promise<string | undefined> {
  const found = (await store.findUsers({ username: name }))[0] ?? (await store.findUsers({ email: name }))[0];
  return found?.username;
}
