/**
 * ferry's server actions in ftrack's Actions menu: the processor answers `ftrack.action.discover`
 * with the actions the asking user may launch on the selection. The launches are handled by
 * `sync-action` and `sync-users-action` (`sync_from_tracker.ts`).
 *
 * @module
 */
import { defineHandler } from "../define_handler.ts";
import {
  allowed,
  replyTo,
  rolesIn,
  SERVER_ACTIONS_SETTINGS_KEY,
  serverActionsSettings,
  sourceUser,
  SYNC_ACTION,
  SYNC_USERS_ACTION,
  syncActionAccess,
  userSecurityRoles,
} from "./_server_actions.ts";

/** One entry of ftrack's Actions menu, as a discovery reply carries it. */
export interface ActionItem {
  label: string;
  variant: string;
  description: string;
  actionIdentifier: string;
  icon?: string;
}

/** The menu label of ferry's server actions (ftrack shows `label variant`). */
export const ACTIONS_LABEL = "ferry";

/**
 * Answers `ftrack.action.discover` from ftrack's web UI with ferry's server actions: "ferry –
 * Sync to pipeline" when the selection lies in one project (project, shots, tasks, versions; the
 * whole project is synced) whose settings (with the project's overrides of
 * `handlers.server-actions`) leave the sync on, to users with a role that project's `sync.roles`
 * allows (everyone by default; a role given for some projects only counts on them): the launch
 * asks the same ({@linkcode syncActionAccess}). "ferry – Sync users to pipeline" goes to users
 * with a site-wide role the studio's `syncUsers.roles` allows (administrators by default), while
 * the studio has server actions on. Roles are the tracker's (`User.user_security_roles`, on an
 * ftrack site and on the embedded tracker) plus the settings' `userRoles`. Nothing is answered when no
 * action fits, when the event hub's user is unknown, or when the discovery is older than
 * `discoverMaxAgeSeconds` (30 s) by the time the processor handles it: the asker has gone.
 */
export const discoverActions = defineHandler({
  name: "discover-actions",
  subscription: "topic=ftrack.action.discover",
  priority: 0,
  settingsKey: SERVER_ACTIONS_SETTINGS_KEY,
  async handle(event, context) {
    const settings = serverActionsSettings(context.settings);
    const ageMs = Date.now() - context.job.source.createdAt;
    if (ageMs > settings.discoverMaxAgeSeconds * 1000) {
      context.log.debug("discovery not answered: too old", { event: event.id, ageSeconds: Math.round(ageMs / 1000) });
      return;
    }
    const source = event.source as { id?: unknown } | undefined;
    const { username } = sourceUser(event);
    if (typeof source?.id !== "string" || !username) return;
    const roles = await userSecurityRoles(context.session, username, settings);
    const data = (event.data ?? {}) as { selection?: unknown };
    const items: ActionItem[] = [];
    // The selection's project decides, with its overrides of these settings: as the launch does.
    const sync = await syncActionAccess({
      session: context.session,
      store: context.store,
      variant: context.variant,
      selection: data.selection,
      username,
      roles,
      trackerCache: context.trackerCache,
      cache: context.cache,
    });
    if (sync.project && !sync.refusal) {
      items.push({
        label: ACTIONS_LABEL,
        variant: "– Sync to pipeline",
        description:
          `Full sync of project '${sync.project.name}' into the pipeline: hierarchy, attributes, statuses, assignees, links, versions, lists`,
        actionIdentifier: SYNC_ACTION,
      });
    } else {
      context.log.debug("sync not offered", { event: event.id, user: username, reason: sync.refusal });
    }
    // The users' sync concerns the whole site: the studio's settings and roles for every project only (as
    // its launch), even when the leecher stored the discovery with its selection's project.
    const site = context.project === null
      ? settings
      : serverActionsSettings((await context.store.getSettings(context.variant)).handlers[SERVER_ACTIONS_SETTINGS_KEY]);
    const siteRoles = site === settings ? roles : await userSecurityRoles(context.session, username, site);
    if (site.enabled && site.syncUsers.enabled && allowed(rolesIn(siteRoles), site.syncUsers.roles)) {
      items.push({
        label: ACTIONS_LABEL,
        variant: "– Sync users to pipeline",
        description: "Create or update the pipeline's users from the tracker's users",
        actionIdentifier: SYNC_USERS_ACTION,
      });
    }
    if (items.length === 0) return;
    await replyTo(context.session, event, { items });
    context.log.debug("discovery answered", { event: event.id, user: username, items: items.length });
  },
});
