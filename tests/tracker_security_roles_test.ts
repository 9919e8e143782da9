/**
 * The embedded tracker's security roles through ftrack's API (`SecurityRole`, `UserSecurityRole`,
 * `UserSecurityRoleProject`, `User.user_security_roles`): read as ayon-ftrack reads them, kept in
 * step with the tracker's own roles and private-project access, read-only. Through the official client.
 */
import { error as ftrackError, type Session } from "@ftrack/api";
import loglevel from "npm:loglevel@1";
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryTracker, openSession } from "./_tracker.ts";
import { startTracker } from "../services/tracker/server.ts";
import { SECURITY_ROLES } from "../services/tracker/security_roles.ts";

// Refusals are what some tests expect: the client's logging of each would only hide real failures.
loglevel.getLogger("ftrack_api").setLevel("silent");

// deno-lint-ignore no-explicit-any
type E = any;

/** ayon-ftrack's role check: the user's role names, each with the projects it is limited to (none: all). */
async function rolesOf(session: Session, username: string): Promise<Array<[string, boolean, string[]]>> {
  const user = (await session.query(
    "select user_security_roles.security_role.name, user_security_roles.is_all_projects, " +
      `user_security_roles.user_security_role_projects.project_id from User where username is "${username}"`,
  )).data[0] as E;
  ok(user, `no user '${username}'`);
  return (user.user_security_roles as E[]).map((role) => [
    role.security_role.name,
    role.is_all_projects,
    (role.user_security_role_projects as E[]).map((link) => link.project_id).sort(),
  ]);
}

async function privateProject(session: Session, name: string) {
  const schema = (await session.query("select id from ProjectSchema")).data[0]!;
  return (await session.create("Project", { name, full_name: name, project_schema_id: schema.id, is_private: true }))
    .data;
}

Deno.test("User.user_security_roles gives ayon-ftrack's role names for an administrator, a user and a read-only user", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  running.tracker.addUser({ username: "boss" }, { role: "administrator" });
  running.tracker.addUser({ username: "artist" });
  running.tracker.addUser({ username: "viewer" }, { role: "read_only" });

  deepStrictEqual(await rolesOf(admin, "boss"), [["Administrator", true, []]]);
  deepStrictEqual(await rolesOf(admin, "artist"), [["User", true, []]]);
  deepStrictEqual(await rolesOf(admin, "viewer"), [["Read Only", true, []]]);
  // The tracker's own API user administers it.
  deepStrictEqual(await rolesOf(admin, running.apiUser), [["Administrator", true, []]]);

  // Queried directly, as ftrack_api's documentation does, and by role name.
  const direct = (await admin.query(
    'select security_role.name, user.username from UserSecurityRole where user.username is "viewer"',
  )).data as E[];
  deepStrictEqual(direct.map((row) => [row.user.username, row.security_role.name]), [["viewer", "Read Only"]]);
  const administrators = (await admin.query(
    'select user.username from UserSecurityRole where security_role.name is "Administrator"',
  )).data as E[];
  deepStrictEqual(administrators.map((row) => row.user.username).sort(), ["boss", running.apiUser].sort());

  // The built-in roles, with ftrack's names and types; "select name from SecurityRole where type is PROJECT".
  const roles = (await admin.query("select name, type from SecurityRole")).data as E[];
  deepStrictEqual(
    roles.map((role) => [role.name, role.type]),
    SECURITY_ROLES.map((role) => [role.name, role.type]),
  );
  const projectRoles = (await admin.query('select name from SecurityRole where type is "PROJECT"')).data as E[];
  deepStrictEqual(projectRoles.map((role) => role.name), ["Administrator", "Project Manager", "User", "Read Only"]);
  // Every user is read back from its role.
  const userRoles = (await admin.query("select user_id from UserSecurityRole")).data as E[];
  strictEqual(userRoles.length, 4);

  // A normal user reads the roles too (ayon-ftrack checks with the user's own session in local actions).
  const { apiKey } = running.tracker.addUser({ username: "lead" });
  const lead = await openSession(running, { apiUser: "lead", apiKey });
  deepStrictEqual(await rolesOf(lead, "boss"), [["Administrator", true, []]]);
});

Deno.test("UserSecurityRole follows role changes at once: Tracker.setRole and the running tracker's role action", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  running.tracker.addUser({ username: "artist" });
  deepStrictEqual(await rolesOf(admin, "artist"), [["User", true, []]]);

  running.tracker.setRole("artist", "administrator");
  deepStrictEqual(await rolesOf(admin, "artist"), [["Administrator", true, []]]);
  // What `deno task tracker user role artist read-only` sends to a running tracker.
  await admin.call([{ action: "ferry_set_security_role", username: "artist", role: "read_only" }]);
  deepStrictEqual(await rolesOf(admin, "artist"), [["Read Only", true, []]]);
  running.tracker.setRole("artist", "user");
  deepStrictEqual(await rolesOf(admin, "artist"), [["User", true, []]]);

  // A user made through the API is a normal user; deleted, its roles go.
  const made = (await admin.create("User", { username: "newcomer" })).data;
  deepStrictEqual(await rolesOf(admin, "newcomer"), [["User", true, []]]);
  await admin.delete("User", [made.id]);
  strictEqual((await admin.query(`select id from UserSecurityRole where user_id is "${made.id}"`)).data.length, 0);
});

Deno.test("UserSecurityRoleProject rows appear and go with private-project access, seen only by who sees the project", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const secret = await privateProject(admin, "secret");
  const other = await privateProject(admin, "other");
  const artist = running.tracker.addUser({ username: "artist" });
  const outsider = running.tracker.addUser({ username: "outsider" });
  const artistSession = await openSession(running, { apiUser: "artist", apiKey: artist.apiKey });
  const outsiderSession = await openSession(running, { apiUser: "outsider", apiKey: outsider.apiKey });

  running.tracker.setProjectAccess("secret", "artist", true);
  await admin.call([{ action: "ferry_set_project_access", project: "other", username: "artist", access: true }]);
  deepStrictEqual(await rolesOf(admin, "artist"), [["User", true, []], ["User", false, [other.id, secret.id].sort()]]);
  // The artist sees both projects' rows; the outsider, who cannot see the projects, sees the role without them.
  deepStrictEqual(await rolesOf(artistSession, "artist"), await rolesOf(admin, "artist"));
  deepStrictEqual(await rolesOf(outsiderSession, "artist"), [["User", true, []], ["User", false, []]]);
  const links = (await admin.query(
    `select project.name, user_security_role.user.username from UserSecurityRoleProject where project_id is "${secret.id}"`,
  )).data as E[];
  deepStrictEqual(links.map((link) => [link.project.name, link.user_security_role.user.username]), [[
    "secret",
    "artist",
  ]]);

  running.tracker.setProjectAccess("other", "artist", false);
  deepStrictEqual(await rolesOf(admin, "artist"), [["User", true, []], ["User", false, [secret.id]]]);
  // The access still opens the project: the rows tell what the permission model does.
  strictEqual((await artistSession.query(`select id from Project where id is "${secret.id}"`)).data.length, 1);
  strictEqual((await artistSession.query(`select id from Project where id is "${other.id}"`)).data.length, 0);
  running.tracker.setProjectAccess("secret", "artist", false);
  deepStrictEqual(await rolesOf(admin, "artist"), [["User", true, []]]);
  strictEqual((await artistSession.query(`select id from Project where id is "${secret.id}"`)).data.length, 0);
  strictEqual((await admin.query("select id from UserSecurityRoleProject")).data.length, 0);

  // An access to a project that is deleted is not shown.
  running.tracker.setProjectAccess("secret", "artist", true);
  await admin.delete("Project", [secret.id]);
  strictEqual((await admin.query("select id from UserSecurityRoleProject")).data.length, 0);
});

Deno.test("SecurityRole, UserSecurityRole and UserSecurityRoleProject refuse writes, administrators' too, naming the command", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const { user } = running.tracker.addUser({ username: "artist" });
  const refused = (error: unknown) => {
    ok(error instanceof ftrackError.ServerPermissionDeniedError, `expected a permission error, got ${error}`);
    ok(/deno task tracker user role/.test((error as Error).message), (error as Error).message);
    return true;
  };
  const administrator = (await admin.query('select id from SecurityRole where name is "Administrator"')).data[0]!;
  const granted = (await admin.query(`select id from UserSecurityRole where user_id is "${user.id}"`)).data[0]!;
  await rejects(admin.create("UserSecurityRole", { user_id: user.id, security_role_id: administrator.id }), refused);
  await rejects(admin.update("UserSecurityRole", [granted.id], { security_role_id: administrator.id }), refused);
  await rejects(admin.delete("UserSecurityRole", [granted.id]), refused);
  await rejects(admin.update("SecurityRole", [administrator.id], { name: "Boss" }), refused);
  await rejects(admin.create("SecurityRole", { name: "Boss", type: "PROJECT" }), refused);
  await rejects(admin.create("UserSecurityRoleProject", { user_security_role_id: granted.id }), refused);
  await rejects(admin.update("User", [String(user.id)], { user_security_roles: [{ id: granted.id }] }), refused);
  // Nothing changed.
  deepStrictEqual(await rolesOf(admin, "artist"), [["User", true, []]]);
  strictEqual(running.tracker.keys.role(String(user.id)), "user");
});

Deno.test("UserSecurityRole: a data folder made and reopened gives its users their roles (nothing stored apart)", async () => {
  const data = await mkdtemp(join(tmpdir(), "ferry-roles-"));
  try {
    {
      await using running = await startTracker({ port: 0, data });
      running.tracker.addUser({ username: "boss" }, { role: "administrator" });
      running.tracker.addUser({ username: "viewer" }, { role: "read_only" });
    }
    await using running = await startTracker({ port: 0, data });
    const admin = await openSession(running);
    deepStrictEqual(await rolesOf(admin, "boss"), [["Administrator", true, []]]);
    deepStrictEqual(await rolesOf(admin, "viewer"), [["Read Only", true, []]]);
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});

Deno.test("query_schemas: the security role types carry only attributes ftrack's own schemas have", async () => {
  await using running = await memoryTracker();
  const admin = await openSession(running);
  const reference = JSON.parse(
    await readFile(new URL("../../shared/reference/ftrack-query-schemas.json", import.meta.url), "utf8").catch(() =>
      "[]"
    ),
  ) as E[];
  const served = (await admin.call([{ action: "query_schemas" }]))[0] as E[];
  for (const id of ["SecurityRole", "UserSecurityRole", "UserSecurityRoleProject"]) {
    const ours = served.find((schema) => schema.id === id);
    ok(ours, `the tracker serves no schema '${id}'`);
    for (const name of ["id", ...(id === "SecurityRole" ? ["name", "type"] : [])]) ok(name in ours.properties, name);
    const theirs = reference.find((schema) => schema.id === id);
    if (theirs === undefined) continue;
    for (const name of Object.keys(ours.properties)) {
      ok(name in theirs.properties, `${id}.${name} is not in ftrack's schema`);
    }
  }
  const user = served.find((schema) => schema.id === "User");
  strictEqual(user.properties.user_security_roles.items.$ref, "UserSecurityRole");
});
