/**
 * The embedded tracker's security roles as ftrack's API shows them: `SecurityRole`,
 * `UserSecurityRole` (`User.user_security_roles`) and `UserSecurityRoleProject`. They are not
 * stored apart: every row is read from the roles and private-project accesses the tracker keeps
 * with its API keys (`ApiKeys`), so a change made with `deno task tracker user role`,
 * `project access`, `Tracker.addUser` or `setProjectAccess` shows at once, on new and old data
 * folders alike. Through the API they are read-only.
 *
 * The mapping: `administrator` → "Administrator", `user` → "User", `read_only` → "Read Only"
 * (ftrack has no built-in read-only role; ferry adds one). Each user has one `UserSecurityRole`
 * with `is_all_projects` (all open projects); a user given access to private projects has a
 * second one, of the same role, with `is_all_projects` false and one `UserSecurityRoleProject`
 * per project.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { TrackerError } from "./schema/catalog.ts";
import { seedId } from "./seed.ts";
import { readRoleAssignments, roleGeneration, type SecurityRole } from "./store/api_keys.ts";
import type { Row } from "./store/entity_store.ts";

/** A security role every embedded tracker has: its name, ftrack's role type, and the internal role it stands for. */
export interface BuiltInSecurityRole {
  name: string;
  /** ftrack's role types: `PROJECT` (given to users, per project or for all), `ASSIGNED`, `API` (global keys). */
  type: "PROJECT" | "ASSIGNED" | "API";
  /** The internal role users with this security role have; none for the roles kept only for their names. */
  role?: SecurityRole;
}

/**
 * ftrack's five default roles, with their names and types, and ferry's read-only role. Only
 * those with a `role` are ever given to users; the others are there so that settings naming
 * them ("Project Manager") name a role that exists.
 */
export const SECURITY_ROLES: readonly BuiltInSecurityRole[] = [
  { name: "Administrator", type: "PROJECT", role: "administrator" },
  { name: "Project Manager", type: "PROJECT" },
  { name: "User", type: "PROJECT", role: "user" },
  { name: "Restricted User", type: "ASSIGNED" },
  { name: "API", type: "API" },
  { name: "Read Only", type: "PROJECT", role: "read_only" },
];

/**
 * The name of the `SecurityRole` an internal role is shown as.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { securityRoleName } from "./security_roles.ts";
 *
 * ok(securityRoleName("administrator") === "Administrator");
 * ok(securityRoleName("read_only") === "Read Only");
 * ```
 */
export function securityRoleName(role: SecurityRole): string {
  return SECURITY_ROLES.find((entry) => entry.role === role)!.name;
}

/** The fixed id of a built-in `SecurityRole` (the same on every embedded tracker). */
export function securityRoleId(name: string): string {
  return seedId(`security-role:${name}`);
}

/** `PermissionError` for a write to a security role type: they follow the tracker's own roles. */
export function refuseSecurityRoleWrite(typeId: string, what: string): never {
  throw new TrackerError(
    "PermissionError",
    `Permission denied: cannot ${what} '${typeId}': the embedded tracker's security roles are read-only through ` +
      "the API. Give roles with 'deno task tracker user role <username> administrator|user|read-only' and " +
      "private-project access with 'deno task tracker project access <project> <username> [--revoke]'.",
  );
}

/** What the rows are derived from besides the stored roles. */
export interface SecurityRoleSources {
  /** Every user row. */
  users(): Iterable<Row>;
  /** How many user rows there are (a cheap change check). */
  userCount(): number;
  /** Whether a project still exists (an access to a deleted project is not shown). */
  projectExists(projectId: string): boolean;
}

interface Snapshot {
  version: string;
  byType: Map<string, Row[]>;
  byId: Map<string, Row>;
  /** Rows by type, column and value, made on first use (`User.user_security_roles` of many users). */
  indexes: Map<string, Map<unknown, Row[]>>;
}

/**
 * The rows of `SecurityRole`, `UserSecurityRole` and `UserSecurityRoleProject`, worked out from
 * the roles kept in `db` (see {@linkcode readRoleAssignments}) and the users, and worked out again
 * only when those change (in this process, through another connection, or users come and go).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 * import { ApiKeys } from "./store/api_keys.ts";
 * import { SecurityRoleRows } from "./security_roles.ts";
 *
 * const db = new DatabaseSync(":memory:");
 * const keys = new ApiKeys(db);
 * const users = [{ __type: "User", __seq: 1, id: "u1", username: "ann" }];
 * const rows = new SecurityRoleRows(db, {
 *   users: () => users,
 *   userCount: () => users.length,
 *   projectExists: () => true,
 * });
 * keys.setRole("u1", "administrator");
 * const [granted] = rows.rows("UserSecurityRole");
 * ok(rows.byKey("SecurityRole", String(granted!.security_role_id))?.name === "Administrator");
 * ```
 */
export class SecurityRoleRows {
  #db: DatabaseSync;
  #sources: SecurityRoleSources;
  #dataVersion: StatementSync;
  #snapshot: Snapshot | undefined;

  constructor(db: DatabaseSync, sources: SecurityRoleSources) {
    this.#db = db;
    this.#sources = sources;
    this.#dataVersion = db.prepare("PRAGMA data_version");
  }

  /** Every row of one of the three types, in a stable order (accesses to deleted projects left out). */
  rows(typeId: string): Row[] {
    const rows = this.#current().byType.get(typeId) ?? [];
    return typeId === "UserSecurityRoleProject" ? rows.filter((row) => this.#shown(row)) : rows;
  }

  /** The rows of one of the three types whose `column` is `value`, in the order of {@linkcode rows}. */
  lookup(typeId: string, column: string, value: unknown): Row[] {
    const snapshot = this.#current();
    const key = `${typeId}\0${column}`;
    let index = snapshot.indexes.get(key);
    if (index === undefined) {
      index = new Map();
      for (const row of snapshot.byType.get(typeId) ?? []) {
        const rows = index.get(row[column]) ?? [];
        rows.push(row);
        index.set(row[column], rows);
      }
      snapshot.indexes.set(key, index);
    }
    const rows = index.get(value) ?? [];
    return typeId === "UserSecurityRoleProject" ? rows.filter((row) => this.#shown(row)) : rows;
  }

  /** The row of one of the three types with this id, if any. */
  byKey(typeId: string, id: string): Row | undefined {
    const row = this.#current().byId.get(id);
    return row !== undefined && row.__type === typeId && this.#shown(row) ? row : undefined;
  }

  #shown(row: Row): boolean {
    return row.__type !== "UserSecurityRoleProject" || this.#sources.projectExists(String(row.project_id));
  }

  #current(): Snapshot {
    const dataVersion = (this.#dataVersion.get() as { data_version: number }).data_version;
    const version = `${roleGeneration(this.#db)}:${dataVersion}:${this.#sources.userCount()}`;
    if (this.#snapshot?.version === version) return this.#snapshot;
    return this.#snapshot = this.#build(version);
  }

  #build(version: string): Snapshot {
    const assignments = readRoleAssignments(this.#db);
    const byType = new Map<string, Row[]>([["SecurityRole", []], ["UserSecurityRole", []], [
      "UserSecurityRoleProject",
      [],
    ]]);
    const byId = new Map<string, Row>();
    let seq = 0;
    const add = (row: Omit<Row, "__seq">) => {
      const stored = { ...row, __seq: ++seq } as Row;
      byType.get(stored.__type)!.push(stored);
      byId.set(String(stored.id), stored);
    };
    for (const { name, type } of SECURITY_ROLES) {
      add({ __type: "SecurityRole", id: securityRoleId(name), name, type });
    }
    for (const user of this.#sources.users()) {
      if (user.__type !== "User") continue;
      const userId = String(user.id);
      const role = securityRoleId(securityRoleName(assignments.roles.get(userId) ?? "user"));
      add({
        __type: "UserSecurityRole",
        id: seedId(`user-security-role:${userId}`),
        user_id: userId,
        security_role_id: role,
        is_all_projects: true,
        is_all_open_projects: true,
      });
      const projects = assignments.projects.get(userId) ?? [];
      if (projects.length === 0) continue;
      const perProject = seedId(`user-security-role-projects:${userId}`);
      add({
        __type: "UserSecurityRole",
        id: perProject,
        user_id: userId,
        security_role_id: role,
        is_all_projects: false,
        is_all_open_projects: false,
      });
      for (const projectId of projects) {
        add({
          __type: "UserSecurityRoleProject",
          id: seedId(`user-security-role-project:${userId}:${projectId}`),
          user_security_role_id: perProject,
          project_id: projectId,
        });
      }
    }
    return { version, byType, byId, indexes: new Map() };
  }
}
