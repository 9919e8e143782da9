import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import type { Session } from "@ftrack/api";
import { allowed, rolesIn, securityRolesOf, serverActionsSettings, userSecurityRoles } from "./_server_actions.ts";

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
