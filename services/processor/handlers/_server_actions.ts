/**
 * What ferry's server actions share (ftrack's Actions menu, answered by the processor): their
 * identifiers and labels, their settings (`handlers.server-actions`), the security roles of the
 * user who asks, the project a selection belongs to, replies on the event hub and the ftrack Job
 * that shows a launched action's progress.
 *
 * @module
 */
import type { Session } from "@ftrack/api";
import { z } from "zod";
import type { HubEvent } from "../../../src/events/event.ts";
import type { PipelineStore } from "../../../src/store/pipeline_store.ts";
import type { Settings, Variant } from "../../../src/store/settings.ts";
import { SYNC_SETTINGS_KEY } from "../../../src/sync/sync_settings.ts";
import { projectOfSelection } from "../../../src/tracker/project_of_selection.ts";
import type { TrackerCache } from "../../../src/tracker/tracker_cache.ts";

export { projectOfSelection, type ProjectOfSelectionOptions } from "../../../src/tracker/project_of_selection.ts";

/** The action identifier of a full sync (ftrack's `ftrack.action.launch`). */
export const SYNC_ACTION = "ferry.sync.project";
/** The action identifier of a sync of the tracker's users (ayon-ftrack's "Sync users to AYON"). */
export const SYNC_USERS_ACTION = "ferry.sync.users";
/** The settings key of the server actions (`handlers.server-actions`). */
export const SERVER_ACTIONS_SETTINGS_KEY = "server-actions";

const Roles = z.array(z.string().trim().min(1, "is empty"));

/**
 * The server actions' settings (`handlers.server-actions`): who sees which action, and how old a
 * discovery may be when the processor gets to it. Role names are ftrack's security roles
 * (`Administrator`, `Project Manager` …), matched case-insensitively; an empty list lets everyone.
 */
export const ServerActionsSettingsSchema = z.object({
  enabled: z.boolean().default(true),
  /** A discovery older than this when handled (a processor catching up) is not answered: the asker has gone. */
  discoverMaxAgeSeconds: z.number().min(1).max(3600).default(30),
  /** "ferry – Sync to pipeline": who sees it (any selection inside one project). */
  sync: z.object({ enabled: z.boolean().default(true), roles: Roles.default([]) }).prefault({}),
  /** "ferry – Sync users to pipeline": administrators only by default. */
  syncUsers: z.object({ enabled: z.boolean().default(true), roles: Roles.default(["Administrator"]) }).prefault({}),
  /**
   * Security roles by username, added to those the tracker tells (`User.user_security_roles`, on
   * an ftrack site and on the embedded tracker), on every project: an override, for a role the
   * tracker does not give someone. A tracker that does not tell roles gives a user only these.
   */
  userRoles: z.record(z.string(), Roles).default({}),
});

/** The server actions' resolved settings. */
export type ServerActionsSettings = z.output<typeof ServerActionsSettingsSchema>;

/** The server actions' settings out of a handler's settings document; a bad value is a `TypeError` naming it. */
export function serverActionsSettings(raw: unknown): ServerActionsSettings {
  const parsed = ServerActionsSettingsSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new TypeError(
      `Invalid settings handlers.${SERVER_ACTIONS_SETTINGS_KEY}: ${
        parsed.error.issues.map((issue) =>
          `${issue.path.join(".")}: ${issue.message} (${
            JSON.stringify(
              issue.path.reduce<unknown>((value, key) => (value as Record<PropertyKey, unknown>)?.[key as string], raw),
            )
          })`
        ).join("; ")
      }`,
    );
  }
  return parsed.data;
}

/** Sessions whose tracker has no `User.user_security_roles` (an embedded tracker before ferry had them): asked once. */
const withoutRoles = new WeakSet<object>();

/**
 * A tracker user's security roles (lower-case): `all` those for every open project, `byProject`
 * those given for some projects only (`is_all_projects` false, `user_security_role_projects`).
 */
export interface UserSecurityRoles {
  all: Set<string>;
  byProject: Map<string, Set<string>>;
}

type RoleRow = {
  security_role?: { name?: unknown };
  is_all_projects?: unknown;
  user_security_role_projects?: Array<{ project_id?: unknown }>;
};

/**
 * Reads a tracker user's security roles as ayon-ftrack does
 * (`User.user_security_roles.security_role.name`, `is_all_projects`,
 * `user_security_role_projects`), on an ftrack site and on the embedded tracker alike, plus the
 * settings' `userRoles` for the username (an override: they count on every project). The
 * session's own API user (the service's) counts as an administrator: whoever holds its key can do
 * through the API all that an action does. A tracker without `user_security_roles` gives the
 * settings' roles alone.
 */
export async function userSecurityRoles(
  session: Session,
  username: string,
  settings: ServerActionsSettings,
): Promise<UserSecurityRoles> {
  const found: UserSecurityRoles = {
    all: new Set((settings.userRoles[username] ?? []).map((role) => role.toLowerCase())),
    byProject: new Map(),
  };
  if (username !== "" && username === (session as { apiUser?: unknown }).apiUser) found.all.add("administrator");
  if (withoutRoles.has(session)) return found;
  try {
    const user = (await session.query(
      "select user_security_roles.security_role.name, user_security_roles.is_all_projects, " +
        "user_security_roles.user_security_role_projects.project_id " +
        `from User where username is "${username.replace(/["\\]/g, "")}"`,
    )).data[0] as { user_security_roles?: RoleRow[] } | undefined;
    for (const role of user?.user_security_roles ?? []) {
      if (typeof role.security_role?.name !== "string") continue;
      const name = role.security_role.name.toLowerCase();
      // ftrack's API leaves is_all_projects out of a role for every project on some versions: only false limits it.
      if (role.is_all_projects !== false) {
        found.all.add(name);
        continue;
      }
      for (const link of role.user_security_role_projects ?? []) {
        if (typeof link.project_id !== "string") continue;
        const names = found.byProject.get(link.project_id) ?? new Set();
        found.byProject.set(link.project_id, names.add(name));
      }
    }
  } catch (error) {
    if (!/user_security_roles/.test((error as Error).message)) throw error;
    withoutRoles.add(session);
  }
  return found;
}

/** The roles a user has on a project (those for every project and those given for it), or everywhere (no project). */
export function rolesIn(roles: UserSecurityRoles, projectId?: string): Set<string> {
  const onProject = projectId === undefined ? undefined : roles.byProject.get(projectId);
  return onProject === undefined ? new Set(roles.all) : new Set([...roles.all, ...onProject]);
}

/**
 * The security roles of a tracker user (lower-case) on a project, or for every project when none
 * is given: see {@linkcode userSecurityRoles}.
 */
export async function securityRolesOf(
  session: Session,
  username: string,
  settings: ServerActionsSettings,
  options: { projectId?: string } = {},
): Promise<Set<string>> {
  return rolesIn(await userSecurityRoles(session, username, settings), options.projectId);
}

/** Whether a user with `roles` may see and launch an action allowed to `allowed` (empty: everyone). */
export function allowed(roles: Set<string>, allowedRoles: string[]): boolean {
  return allowedRoles.length === 0 || allowedRoles.some((role) => roles.has(role.toLowerCase()));
}

/** The username and user id of an action event's source (set by the event hub from the connection). */
export function sourceUser(event: HubEvent): { username: string; id: string | undefined } {
  const user = (event.source?.user ?? {}) as { username?: unknown; id?: unknown };
  return {
    username: typeof user.username === "string" ? user.username : "",
    id: typeof user.id === "string" ? user.id : undefined,
  };
}

/** The settings roles of `username` (`userRoles`) added to `roles`, for every project: a new value. */
export function withUserRoles(
  roles: UserSecurityRoles,
  settings: ServerActionsSettings,
  username: string,
): UserSecurityRoles {
  return {
    all: new Set([...roles.all, ...(settings.userRoles[username] ?? []).map((role) => role.toLowerCase())]),
    byProject: roles.byProject,
  };
}

/** Whether "Sync to pipeline" is offered and may be launched on a selection, and for which project. */
export interface SyncActionAccess {
  /** The selection's project, when it lies in one. */
  project?: { id: string; name: string };
  /** The project's settings (the studio's, with the project's overrides), when there is a project. */
  projectSettings?: Settings;
  /** The project's `handlers.server-actions`, when there is a project. */
  settings?: ServerActionsSettings;
  /** Why it is not offered or refused (a sentence naming the project, setting or user); undefined when allowed. */
  refusal?: string;
}

/** What {@linkcode syncActionAccess} takes. */
export interface SyncActionAccessOptions {
  session: Session;
  store: Pick<PipelineStore, "getSettings">;
  variant: Variant;
  /** The action event's `data.selection`. */
  selection: unknown;
  username: string;
  /** The user's tracker roles (see {@linkcode userSecurityRoles}); the project's `userRoles` are added. */
  roles: UserSecurityRoles;
  /** The processor's per-event tracker cache. */
  trackerCache?: TrackerCache;
  /** A handler context's per-event cache: the answer is kept there, so a second ask costs nothing. */
  cache?: Map<string, unknown>;
}

/**
 * Whether "ferry – Sync to pipeline" is offered on a selection (`ftrack.action.discover`) and may
 * be launched on it (`ftrack.action.launch`): both ask this, so the menu and the launch agree.
 * The selection must lie in one project whose settings (the studio's with the project's
 * overrides) leave the event services on, `handlers.sync-from-tracker` on and
 * `handlers.server-actions` with `enabled` and `sync.enabled` on, and the user must have a role
 * `sync.roles` of that project allows (roles given for the project only count; the project's
 * `userRoles` are added).
 */
export async function syncActionAccess(options: SyncActionAccessOptions): Promise<SyncActionAccess> {
  const key = `server-actions:sync-access:${options.username}`;
  const cached = options.cache?.get(key) as Promise<SyncActionAccess> | undefined;
  if (cached) return await cached;
  const access = resolveSyncAccess(options);
  options.cache?.set(key, access);
  return await access;
}

async function resolveSyncAccess(options: SyncActionAccessOptions): Promise<SyncActionAccess> {
  const project = await projectOfSelection(options.session, options.selection, { trackerCache: options.trackerCache });
  if (!project) return { refusal: "the selection does not lie in one project the service can see" };
  const projectSettings = await options.store.getSettings(options.variant, { project: project.name });
  const own = projectSettings.handlers[SERVER_ACTIONS_SETTINGS_KEY] as Record<string, unknown> | undefined;
  const settings = serverActionsSettings(own);
  const found = { project, projectSettings, settings };
  const off = (setting: string) => ({ ...found, refusal: `${setting} is off for project '${project.name}'` });
  if (!projectSettings.enabled) {
    return { ...found, refusal: `the event services are off for project '${project.name}'` };
  }
  if ((projectSettings.handlers[SYNC_SETTINGS_KEY] as { enabled?: unknown } | undefined)?.enabled === false) {
    return off(`handlers.${SYNC_SETTINGS_KEY}`);
  }
  if (!settings.enabled) return off(`handlers.${SERVER_ACTIONS_SETTINGS_KEY}`);
  if (!settings.sync.enabled) return off(`handlers.${SERVER_ACTIONS_SETTINGS_KEY}.sync`);
  const roles = rolesIn(withUserRoles(options.roles, settings, options.username), project.id);
  if (!allowed(roles, settings.sync.roles)) {
    return {
      ...found,
      refusal: `'${options.username}' may not launch it on project '${project.name}' (roles allowed: ${
        settings.sync.roles.join(", ")
      })`,
    };
  }
  return found;
}

/**
 * Publishes the reply to an event on the tracker's event hub (`ftrack.meta.reply` to the
 * event's source, `inReplyToEvent` its id), connecting the session's hub when it is not.
 * Resolves once sent; rejects after `timeoutMs` without a connection.
 */
export async function replyTo(session: Session, event: HubEvent, data: unknown, timeoutMs = 10_000): Promise<void> {
  const hub = session.eventHub;
  if (!(hub as unknown as { _socketIo?: unknown })._socketIo) hub.connect();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      // The client's own timeout would keep a timer alive after the reply is sent: ours is cleared.
      hub.publishReply(event as never, data as never, null as never),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`Cannot reply to event ${event.id}: the event hub did not connect in ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A job shown in the tracker's Jobs list for a launched action (what ayon-ftrack shows): made
 * running for the user who launched it; `finish` sets its status and its description (the
 * action's short report). A tracker that refuses the job leaves the action running without it.
 */
export async function trackerJob(
  session: Session,
  options: { userId: string | undefined; description: string },
): Promise<{ finish(status: "done" | "failed", description: string): Promise<void> }> {
  let id: string | undefined;
  try {
    id = String(
      (await session.create("Job", {
        ...(options.userId ? { user_id: options.userId } : {}),
        status: "running",
        data: JSON.stringify({ description: options.description }),
      })).data.id,
    );
  } catch {
    id = undefined;
  }
  return {
    async finish(status, description) {
      if (id === undefined) return;
      await session.update("Job", [id], {
        status,
        data: JSON.stringify({ description }),
      }).catch(() => {});
    },
  };
}
