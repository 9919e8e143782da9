import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import type { Session } from "@ftrack/api";
import {
  allowed,
  projectOfSelection,
  rolesIn,
  securityRolesOf,
  serverActionsSettings,
  syncActionAccess,
  userSecurityRoles,
} from "./_server_actions.ts";
import { mergeSettings, parseSettings, type SettingsDocument } from "../../../src/store/settings.ts";
import { TrackerCache } from "../../../src/tracker/tracker_cache.ts";

/**
 * A session answering role queries as an ftrack site does (or refusing the attribute, as an older
 * embedded tracker did). A role is a name (every project) or `name@project-id,…` (those projects only).
 */
function fakeSession(answer: Record<string, string[]> | "no-roles", apiUser = "service") {
  const asked: string[] = [];
  const session = {
    apiUser,
    query(expression: string) {
      asked.push(expression);
      if (answer === "no-roles") {
        return Promise.reject(new Error("entity type 'User' has no attribute 'user_security_roles'."));
      }
      const username = /username is "([^"]*)"/.exec(expression)?.[1] ?? "";
      const roles = answer[username];
      return Promise.resolve({
        data: roles
          ? [{
            user_security_roles: roles.map((role) => {
              const [name, projects] = role.split("@");
              return {
                security_role: { name },
                is_all_projects: projects === undefined,
                user_security_role_projects: (projects?.split(",") ?? []).map((project_id) => ({ project_id })),
              };
            }),
          }]
          : [],
      });
    },
  };
  return { session: session as unknown as Session, asked };
}

Deno.test("securityRolesOf() reads ftrack's user_security_roles, adds the settings' and makes the service's user an administrator", async () => {
  const settings = serverActionsSettings({ userRoles: { ana: ["Supervisor"] } });
  const { session } = fakeSession({ ana: ["Project Manager", "API"], bob: ["User"] });
  deepStrictEqual([...await securityRolesOf(session, "ana", settings)].sort(), [
    "api",
    "project manager",
    "supervisor",
  ]);
  deepStrictEqual([...await securityRolesOf(session, "bob", settings)], ["user"]);
  ok((await securityRolesOf(session, "service", settings)).has("administrator"));
  deepStrictEqual([...await securityRolesOf(session, "nobody", settings)], []);
});

Deno.test("securityRolesOf() counts a role given for some projects only on those projects", async () => {
  const settings = serverActionsSettings({ userRoles: { ana: ["Supervisor"] } });
  const { session } = fakeSession({ ana: ["User", "Project Manager@p1,p2"] });
  deepStrictEqual([...await securityRolesOf(session, "ana", settings)].sort(), ["supervisor", "user"]);
  deepStrictEqual([...await securityRolesOf(session, "ana", settings, { projectId: "p2" })].sort(), [
    "project manager",
    "supervisor",
    "user",
  ]);
  deepStrictEqual([...await securityRolesOf(session, "ana", settings, { projectId: "p3" })].sort(), [
    "supervisor",
    "user",
  ]);
  const roles = await userSecurityRoles(session, "ana", settings);
  deepStrictEqual([...rolesIn(roles, "p1")].sort(), ["project manager", "supervisor", "user"]);
  deepStrictEqual([...roles.byProject.keys()], ["p1", "p2"]);
});

Deno.test("securityRolesOf() on a tracker without security roles asks once and gives the settings' roles alone", async () => {
  const settings = serverActionsSettings({ userRoles: { ana: ["Administrator"] } });
  const { session, asked } = fakeSession("no-roles");
  deepStrictEqual([...await securityRolesOf(session, "ana", settings)], ["administrator"]);
  deepStrictEqual([...await securityRolesOf(session, "bob", settings)], []);
  strictEqual(asked.length, 1);
});

Deno.test("allowed() lets everyone through an empty role list and matches role names case-insensitively", () => {
  ok(allowed(new Set(), []));
  ok(allowed(new Set(["administrator"]), ["Administrator"]));
  ok(!allowed(new Set(["user"]), ["Administrator", "Project Manager"]));
});

Deno.test("serverActionsSettings() applies the defaults and names a bad value", () => {
  const defaults = serverActionsSettings({});
  deepStrictEqual([defaults.discoverMaxAgeSeconds, defaults.sync.roles, defaults.syncUsers.roles], [30, [], [
    "Administrator",
  ]]);
  throws(
    () => serverActionsSettings({ discoverMaxAgeSeconds: 0 }),
    /Invalid settings handlers\.server-actions: discoverMaxAgeSeconds: .* \(0\)/,
  );
});

/** A tracker of two projects (p1 alpha: contexts c1, c2, version v1; p2 beta: context c3) answering `id in (…)` queries. */
function fakeTracker() {
  const projects: Record<string, { id: string; name: string }> = {
    p1: { id: "p1", name: "alpha" },
    p2: { id: "p2", name: "beta" },
  };
  const contexts: Record<string, string> = { c1: "p1", c2: "p1", c3: "p2" };
  const versions: Record<string, string> = { v1: "p1" };
  const asked: string[] = [];
  const session = {
    query(expression: string) {
      asked.push(expression);
      const [, type, list] = /from (\w+) where id in \((.*)\)/.exec(expression) ?? [];
      const ids = (list ?? "").split(",").map((id) => id.trim().replace(/"/g, ""));
      const data = type === "Project"
        ? ids.flatMap((id) => projects[id] ? [{ ...projects[id] }] : [])
        : type === "TypedContext"
        ? ids.flatMap((id) => contexts[id] ? [{ id, project: { ...projects[contexts[id]]! } }] : [])
        : type === "AssetVersion"
        ? ids.flatMap((id) =>
          versions[id] ? [{ id, asset: { parent: { project: { ...projects[versions[id]]! } } } }] : []
        )
        : [];
      return Promise.resolve({ data, metadata: {} });
    },
  };
  return { session: session as unknown as Session, asked };
}

Deno.test("projectOfSelection() reads a selection's project with one query per kind of entity, none again through a cache", async () => {
  const { session, asked } = fakeTracker();
  deepStrictEqual(
    await projectOfSelection(session, [{ entityType: "task", entityId: "c1" }, { entityType: "task", entityId: "c2" }]),
    { id: "p1", name: "alpha" },
  );
  strictEqual(asked.length, 1, asked.join("\n"));
  deepStrictEqual(
    await projectOfSelection(session, [{ entityType: "assetversion", entityId: "v1" }, {
      entityType: "show",
      entityId: "p1",
    }]),
    { id: "p1", name: "alpha" },
  );
  // Several projects, an unknown id, another kind of entity or nothing: no project.
  strictEqual(
    await projectOfSelection(session, [{ entityType: "task", entityId: "c1" }, { entityType: "task", entityId: "c3" }]),
    undefined,
  );
  strictEqual(await projectOfSelection(session, [{ entityType: "task", entityId: "gone" }]), undefined);
  strictEqual(await projectOfSelection(session, [{ entityType: "user", entityId: "u1" }]), undefined);
  strictEqual(await projectOfSelection(session, []), undefined);
  const trackerCache = new TrackerCache();
  asked.length = 0;
  const show = [{ entityType: "show", entityId: "p2" }];
  deepStrictEqual(await projectOfSelection(session, show, { trackerCache }), { id: "p2", name: "beta" });
  deepStrictEqual(await projectOfSelection(session, show, { trackerCache }), { id: "p2", name: "beta" });
  strictEqual(asked.length, 1, "the project selected again comes from the cache");
});

Deno.test("syncActionAccess() applies the selection's project overrides of handlers.server-actions and keeps its answer per event", async () => {
  const { session, asked } = fakeTracker();
  const documents: Record<string, SettingsDocument> = {
    "": { handlers: { "server-actions": { sync: { roles: ["Supervisor"] } } } },
    alpha: { handlers: { "server-actions": { sync: { enabled: false } } } },
    beta: { handlers: { "server-actions": { sync: { roles: [] }, userRoles: {} } } },
  };
  const read: string[] = [];
  const store = {
    getSettings: (_variant: string, options: { project?: string } = {}) => {
      read.push(options.project ?? "");
      return Promise.resolve(parseSettings(mergeSettings(documents[""]!, documents[options.project ?? ""] ?? {}), "t"));
    },
  };
  const roles = { all: new Set(["user"]), byProject: new Map<string, Set<string>>() };
  const access = (selection: unknown, username = "ana", cache?: Map<string, unknown>) =>
    syncActionAccess({ session, store, variant: "production", selection, username, roles, cache });
  const alpha = await access([{ entityType: "task", entityId: "c1" }]);
  deepStrictEqual([alpha.project?.name, alpha.refusal], [
    "alpha",
    "handlers.server-actions.sync is off for project 'alpha'",
  ]);
  const beta = await access([{ entityType: "task", entityId: "c3" }]);
  deepStrictEqual([beta.project?.name, beta.refusal], ["beta", undefined]);
  // The studio's roles where a project does not override them; the project's userRoles count there.
  documents.beta = { handlers: { "server-actions": { userRoles: { ana: ["Supervisor"] } } } };
  strictEqual((await access([{ entityType: "task", entityId: "c3" }])).refusal, undefined);
  strictEqual(
    (await access([{ entityType: "task", entityId: "c3" }], "bob")).refusal,
    "'bob' may not launch it on project 'beta' (roles allowed: Supervisor)",
  );
  documents.beta = { enabled: false };
  strictEqual(
    (await access([{ entityType: "show", entityId: "p2" }])).refusal,
    "the event services are off for project 'beta'",
  );
  documents.beta = { handlers: { "sync-from-tracker": { enabled: false } } };
  strictEqual(
    (await access([{ entityType: "show", entityId: "p2" }])).refusal,
    "handlers.sync-from-tracker is off for project 'beta'",
  );
  strictEqual(
    (await access([{ entityType: "task", entityId: "c1" }, { entityType: "task", entityId: "c3" }])).refusal,
    "the selection does not lie in one project the service can see",
  );
  // Asked twice for one event: one tracker query, one settings read.
  const cache = new Map<string, unknown>();
  asked.length = 0;
  read.length = 0;
  await access([{ entityType: "task", entityId: "c1" }], "ana", cache);
  await access([{ entityType: "task", entityId: "c1" }], "ana", cache);
  deepStrictEqual([asked.length, read], [1, ["alpha"]]);
});
