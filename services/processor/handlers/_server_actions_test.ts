import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import type { Session } from "@ftrack/api";
import { allowed, securityRolesOf, serverActionsSettings } from "./_server_actions.ts";

/** A session answering role queries as an ftrack site does (or refusing the attribute, as the embedded tracker does). */
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
        data: roles ? [{ user_security_roles: roles.map((name) => ({ security_role: { name } })) }] : [],
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
