/**
 * Tracker → pipeline sync handlers: incremental sync of `ftrack.update` events for projects with
 * auto-sync on (and of tracker users, studio-wide), a sync of users on the `ferry.sync.users`
 * action, a full sync on the `ferry.sync.project` action (or a `ferry.sync.requested` event), and a full sync of every active auto-sync project when a leecher (re)connects (after
 * the reconciliation hook records `ferry.reconcile.requested`). Each sync that changed or skipped
 * something records a `ferry.sync.finished` event holding its report.
 *
 * @module
 */
import type { HandlerContext } from "../define_handler.ts";
import { defineHandler } from "../define_handler.ts";
import type { StoredEvent } from "../../../src/store/event_record.ts";
import { LEECHER_STARTED_TOPIC, RECONCILE_TOPIC, TRACKER_SENDER_TYPE } from "../../../src/store/topics.ts";
import { autoSyncProjects, fullSync, mergeUsers, syncTrackerUpdate } from "../../../src/sync/sync_from_tracker.ts";
import { emptyReport, reportChanged, reportSummary, type SyncReport } from "../../../src/sync/project_sync.ts";
import { projectOfUpdate, projectWork, updateScope } from "../../../src/sync/update_scope.ts";
import { syncUsers, type UserSyncReport } from "../../../src/sync/user_sync.ts";
import { parseSyncSettings, SYNC_SETTINGS_KEY, syncSettingsOf } from "../../../src/sync/sync_settings.ts";
import { findTrackerProject } from "../../../src/sync/tracker_project.ts";
import type { HubEvent } from "../../../src/events/event.ts";
import {
  allowed,
  replyTo,
  securityRolesOf,
  SERVER_ACTIONS_SETTINGS_KEY,
  serverActionsSettings,
  sourceUser,
  SYNC_ACTION,
  SYNC_USERS_ACTION,
  syncActionAccess,
  trackerJob,
  userSecurityRoles,
} from "./_server_actions.ts";

/** The topic of a finished sync's report. */
export const SYNC_FINISHED_TOPIC = "ferry.sync.finished";
export { SYNC_ACTION, SYNC_USERS_ACTION };

function settingsOf(context: HandlerContext) {
  return parseSyncSettings(context.settings ?? {});
}

async function record(context: HandlerContext, report: SyncReport, reason: string, dependsOn?: string) {
  await context.store.dispatch({
    topic: SYNC_FINISHED_TOPIC,
    hash: `${SYNC_FINISHED_TOPIC}:${context.job.source.id}:${report.project}`,
    sender: context.job.event.sender,
    senderType: TRACKER_SENDER_TYPE,
    project: report.project || null,
    dependsOn: dependsOn ?? context.job.source.id,
    payload: { reason, ...report },
    description: `${report.mode} sync of ${report.project ? `'${report.project}'` : "users"} (${reason}): ${
      reportSummary(report)
    }`,
  });
  const count = (name: keyof SyncReport) => {
    const section = report[name] as { created: string[]; updated: string[]; removed: string[] };
    return section.created.length + section.updated.length + section.removed.length;
  };
  context.log.info("synced", {
    project: report.project,
    mode: report.mode,
    created: report.created.length,
    updated: report.updated.length,
    removed: report.removed.length,
    skipped: report.skipped.length,
    versions: count("products") + count("versions") + count("representations"),
    links: count("links"),
    lists: count("lists"),
    users: count("users"),
    ms: report.durationMs,
  });
}

/** A users-only report (users are studio-wide: no project). */
function usersReport(users: UserSyncReport, mode: SyncReport["mode"]): SyncReport {
  const report = emptyReport("", mode);
  mergeUsers(report, users);
  report.unchanged = users.unchanged;
  report.durationMs = users.durationMs;
  return report;
}

/**
 * Incremental sync of `ftrack.update` events for projects with auto-sync on (events about lists,
 * links, component locations and metadata, which come without a project, are traced to theirs),
 * and of tracker users (studio-wide, when `syncUsers` is on).
 */
export const syncFromTracker = defineHandler({
  name: "sync-from-tracker",
  subscription: "topic=ftrack.update",
  priority: 10,
  settingsKey: SYNC_SETTINGS_KEY,
  async handle(event, context) {
    const studio = settingsOf(context);
    const scope = updateScope(event.data, studio);
    const sender = context.job.event.sender ?? "processor";
    if (scope.users.size > 0 && studio.syncUsers) {
      const users = await syncUsers({ session: context.session, store: context.store, sender, ids: [...scope.users] });
      const report = usersReport(users, "incremental");
      if (reportChanged(report)) await record(context, report, "tracker update");
    }
    if (!projectWork(scope)) return;
    let project = context.project;
    let settings = studio;
    if (!project) {
      project = (await projectOfUpdate(context.session, context.store, scope)) ?? null;
      if (!project) return;
      const projectSettings = await context.store.getSettings(context.variant, { project });
      const own = projectSettings.handlers[SYNC_SETTINGS_KEY];
      if (!projectSettings.enabled || own?.enabled === false) return;
      settings = syncSettingsOf(projectSettings);
    }
    const report = await syncTrackerUpdate({
      session: context.session,
      store: context.store,
      project,
      settings,
      sender,
      data: event.data,
      scope: settings === studio ? scope : updateScope(event.data, settings),
    });
    if (report && reportChanged(report)) await record(context, report, "tracker update");
  },
});

/** Syncs the tracker's users into the pipeline on the `ferry.sync.users` action (or a `ferry.sync.users.requested` event). */
export const syncUsersAction = defineHandler({
  name: "sync-users-action",
  subscription:
    `(topic=ftrack.action.launch and data.actionIdentifier=${SYNC_USERS_ACTION}) or topic=ferry.sync.users.requested`,
  priority: 10,
  settingsKey: SYNC_SETTINGS_KEY,
  handle(event, context) {
    const run = async () => {
      const users = await syncUsers({
        session: context.session,
        store: context.store,
        sender: context.job.event.sender ?? "processor",
      });
      const report = usersReport(users, "full");
      await record(context, report, "users sync action");
      return report;
    };
    if (event.topic !== "ftrack.action.launch") return run();
    return launched(event, context, {
      what: "Sync users to pipeline",
      // Site-wide, as the discovery offers it: the studio's settings and roles for every project.
      refusal: async (username) => {
        const studio = context.project === null
          ? context.projectSettings
          : await context.store.getSettings(context.variant);
        const settings = serverActionsSettings(studio.handlers[SERVER_ACTIONS_SETTINGS_KEY]);
        if (!settings.enabled) return `handlers.${SERVER_ACTIONS_SETTINGS_KEY} is off for the studio`;
        if (!settings.syncUsers.enabled) return `handlers.${SERVER_ACTIONS_SETTINGS_KEY}.syncUsers is off`;
        const roles = await securityRolesOf(context.session, username, settings);
        return allowed(roles, settings.syncUsers.roles)
          ? undefined
          : `'${username}' may not launch it (roles allowed: ${settings.syncUsers.roles.join(", ")})`;
      },
      run,
    });
  },
});

/**
 * Runs a launched server action as ftrack users expect: only when `refusal` finds nothing against
 * it (the same check as the discovery's, so what the menu offers runs and what it hides is
 * refused with a reply saying why), a tracker Job for the user while it runs (its description
 * becomes the short report), and a reply `{ success, message }` when done. A failure is replied
 * on the first attempt only (the processor's retries would repeat it) and fails the job.
 */
async function launched(
  event: HubEvent,
  context: HandlerContext,
  action: {
    what: string;
    /** Why the user may not launch it (a sentence), or undefined. */
    refusal: (username: string) => Promise<string | undefined>;
    run: () => Promise<SyncReport>;
  },
): Promise<void> {
  // A reply that cannot be sent is logged: it must not fail (and so re-run) an action that ran.
  const reply = (data: { success: boolean; message: string }) =>
    replyTo(context.session, event, data).catch((error: Error) =>
      context.log.warn("cannot reply to a launched action", { event: event.id, error: error.message })
    );
  const user = sourceUser(event);
  const refusal = await action.refusal(user.username);
  if (refusal !== undefined) {
    context.log.warn("refused a launched action", { user: user.username, action: action.what, refusal });
    await reply({ success: false, message: `${action.what}: ${refusal}` });
    return;
  }
  const job = await trackerJob(context.session, { userId: user.id, description: `ferry – ${action.what}: running` });
  let report: SyncReport;
  try {
    report = await action.run();
  } catch (error) {
    const message = `${action.what} failed: ${(error as Error).message}`;
    await job.finish("failed", message);
    if (context.job.event.retries === 0) await reply({ success: false, message });
    throw error;
  }
  const message = `${action.what}${report.project ? ` '${report.project}'` : ""}: ${reportSummary(report)}`;
  await job.finish("done", message);
  await reply({ success: true, message });
}

async function projectNameOf(context: HandlerContext, data: Record<string, unknown>): Promise<string | undefined> {
  if (typeof data.project === "string" && data.project) return data.project;
  const selection = Array.isArray(data.selection) ? data.selection as Array<Record<string, unknown>> : [];
  for (const item of selection) {
    if (typeof item.entityId !== "string") continue;
    if (item.entityType === "show") {
      const found = await findTrackerProject(context.session, { id: item.entityId });
      if (found) return String(found.name);
    }
    const id = item.entityId.replace(/["\\]/g, "");
    const row = (await context.session.query(`select project.name from TypedContext where id is "${id}"`))
      .data[0] as { project?: { name?: string } } | undefined;
    if (row?.project?.name) return row.project.name;
  }
  return context.project ?? undefined;
}

async function runFull(
  event: { data: unknown },
  context: HandlerContext,
  reason: string,
  projectName?: string,
): Promise<SyncReport> {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const project = projectName ?? await projectNameOf(context, data);
  if (!project) throw new TypeError(`A sync request names no project: ${JSON.stringify(data).slice(0, 200)}`);
  const projectSettings = await context.store.getSettings(context.variant, { project });
  const report = await fullSync({
    session: context.session,
    store: context.store,
    project,
    settings: syncSettingsOf(projectSettings),
    sender: context.job.event.sender ?? "processor",
    projectSettings,
  });
  await record(context, report, reason);
  return report;
}

/** Full sync of a project on the `ferry.sync.project` action. */
export const syncAction = defineHandler({
  name: "sync-action",
  subscription: `topic=ftrack.action.launch and data.actionIdentifier=${SYNC_ACTION}`,
  priority: 10,
  settingsKey: SYNC_SETTINGS_KEY,
  handle: async (event, context) => {
    let project: string | undefined;
    await launched(event, context, {
      what: "Sync to pipeline",
      // The discovery's check: the selection's project, with its overrides of handlers.server-actions.
      refusal: async (username) => {
        const access = await syncActionAccess({
          session: context.session,
          store: context.store,
          variant: context.variant,
          selection: (event.data as { selection?: unknown } | undefined)?.selection,
          username,
          roles: await userSecurityRoles(
            context.session,
            username,
            serverActionsSettings(context.projectSettings.handlers[SERVER_ACTIONS_SETTINGS_KEY]),
          ),
          trackerCache: context.trackerCache,
          cache: context.cache,
        });
        project = access.project?.name;
        return access.refusal;
      },
      run: () => runFull(event, context, "sync action", project),
    });
  },
});

/** Full sync of a project on a `ferry.sync.requested` event (`data.project`). */
export const syncRequested = defineHandler({
  name: "sync-requested",
  subscription: "topic=ferry.sync.requested",
  priority: 10,
  settingsKey: SYNC_SETTINGS_KEY,
  handle: async (event, context) => void await runFull(event, context, "sync requested"),
});

/**
 * A leecher (re)connected: what was missed is reconciled by a full sync of every active project
 * with auto-sync on. Runs after `reconcile-on-leecher-start`; the reports depend on its request.
 */
export const syncOnReconcile = defineHandler({
  name: "sync-on-reconcile",
  subscription: `topic=${LEECHER_STARTED_TOPIC}`,
  priority: 10,
  settingsKey: SYNC_SETTINGS_KEY,
  async handle(event, context) {
    const settings = settingsOf(context);
    const hash = `${RECONCILE_TOPIC}:${event.id}`;
    const requests: StoredEvent[] = await context.store.listEvents({
      topic: RECONCILE_TOPIC,
      newestFirst: true,
      limit: 50,
    });
    const request = requests.find((candidate) => candidate.hash === hash);
    const projects = await autoSyncProjects(context.session, settings);
    const failures: string[] = [];
    for (const project of projects) {
      if (context.signal.aborted) throw new Error("stopped during reconciliation");
      try {
        const projectSettings = await context.store.getSettings(context.variant, { project });
        if (!projectSettings.enabled || projectSettings.handlers[SYNC_SETTINGS_KEY]?.enabled === false) continue;
        const report = await fullSync({
          session: context.session,
          store: context.store,
          project,
          settings: syncSettingsOf(projectSettings),
          sender: context.job.event.sender ?? "processor",
          projectSettings,
        });
        await record(context, report, "reconciliation", request?.id);
      } catch (error) {
        failures.push(`${project}: ${(error as Error).message}`);
      }
    }
    if (failures.length) throw new Error(`Reconciliation failed for ${failures.join("; ")}`);
  },
});
