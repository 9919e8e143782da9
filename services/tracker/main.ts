/**
 * `deno task tracker`: the embedded ftrack-compatible tracker.
 *
 * @module
 */
import { join } from "node:path";
import loglevel from "loglevel";
import { z } from "zod";
import { ferryHome } from "../../src/config/ferry_home.ts";
import { parseFlags, UsageError } from "../../src/cli/args.ts";
import { EXIT, exitCodeOf, exitCodesHelp } from "../../src/cli/exit_codes.ts";
import { openSession } from "../../src/tracker/open_session.ts";
import { runningTrackerOf, startTracker } from "./server.ts";
import { Tracker } from "./tracker.ts";
import { TrackerError } from "./schema/catalog.ts";
import { corsOrigins } from "./cors_origins.ts";
import type { SecurityRole } from "./store/api_keys.ts";
import { databaseProblem } from "./data_folder.ts";

export const USAGE = `Usage:
  deno task tracker [--port 8070] [--host 127.0.0.1] [--data <dir>] [--api-user <name> --api-key <key>]
                    [--cors-origin <origin> …] [--web-url <url>] [--no-content-reuse]
  deno task tracker user add <username> [--first-name <name>] [--last-name <name>] [--email <address>]
                    [--role administrator|user|read-only] [--data <dir>]
  deno task tracker user role <username> administrator|user|read-only [--data <dir>]
  deno task tracker project access <project> <username> [--revoke] [--data <dir>]

The embedded tracker: a local ftrack-compatible server (API, file storage, event hub) that the
official ftrack clients and ferry use exactly as a real ftrack site. It prints its URL, API user
and API key; point FTRACK_SERVER, FTRACK_API_USER and FTRACK_API_KEY at them.

Options:
  --port <n>          port to listen on (0 picks a free one; default 8070)
  --host <address>    address to listen on (default 127.0.0.1: this machine only)
  --data <dir>        where state is kept (default: $FERRY_HOME/tracker, FERRY_HOME defaulting to
                      the per-user data folder); ':memory:' keeps nothing
  --api-user <name>   the API user (created on first start; default 'ferry')
  --api-key <key>     the API user's key (generated on first start unless given)
  --ffmpeg <path>     ffmpeg for encode_media (default: ffmpeg on PATH); --ffprobe <path> likewise
  --max-request-size <size>
                      the largest API request body, in bytes or with KiB/MiB/GiB (default 32MiB);
                      larger ones get HTTP 413. Uploads of component data are not limited by it
  --web-url <url>     the web view's address (deno task web, e.g. http://127.0.0.1:8072/?token=…):
                      get_widget_url then answers with its pages. Default: none (get_widget_url
                      says there is no web view)
  --cors-origin <origin>
                      an origin (scheme://host[:port]) whose web pages may call the tracker from a
                      browser, with credentials; repeat for several. Default: none ('null' and '*'
                      are never allowed)
  --no-content-reuse  answer uploads exactly as an ftrack site does: no ferry_content_reuse in the
                      server information, no linking of content the tracker holds already (every
                      file is sent; it is still stored once on disk). Default: reuse on
  -h, --help          show this help

The data folder is private to its user (folder 0700, files 0600); it holds the database, the
lock file tracker.json (where the running tracker listens) and the stored component data.

'user add' creates another user (an artist, a service's own user) and prints its API key. When a
tracker runs on the data folder, the user is added through it (its lock file says where), so the
key works at once; otherwise the data folder is changed directly. 'user role' and 'project access'
work the same way.

Permissions: every API key belongs to a user with a security role. 'administrator' may do anything
(the API user is one); 'user' (the default) reads and writes what it can see; 'read-only' reads and
is refused every write (create, update, delete, uploads, encode_media) with ftrack's PermissionError.
A private project (Project.is_private) is seen only by administrators and the users given access
with 'project access <project> <username>' (the project by name or id; --revoke takes it back), and
by whoever made it private: others do not see it or anything in it in queries, searches, events or
downloads, and cannot write to it. Clients read the roles as on ftrack (User.user_security_roles:
"Administrator", "User", "Read Only"; read-only through the API).

${
  exitCodesHelp({
    [EXIT.OK]: "stopped by SIGINT/SIGTERM, or 'user add' done",
    [EXIT.FAILED]: "the request failed (e.g. 'user add' of a username that is taken)",
    [EXIT.USAGE]: "usage error: a bad flag or value (--port, --host, --cors-origin, …); nothing was started",
    [EXIT.ENVIRONMENT]:
      "configuration or environment problem: the data folder is a file, not writable or used by another tracker; the address or port cannot be listened on; the running tracker of the data folder does not answer",
  })
}`;

const ServeFlags = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8070),
  host: z.string().regex(
    /^(\[?[0-9A-Fa-f:.]+\]?|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)$/,
    "give an IP address or a host name, e.g. 127.0.0.1, 0.0.0.0 or tracker.studio.lan",
  ).transform((host) => host.replace(/^\[(.*)\]$/, "$1")).default("127.0.0.1"),
  data: z.string().min(1).optional(),
  "api-user": z.string().min(1).optional(),
  "api-key": z.string().min(8, "an API key needs at least 8 characters").optional(),
  ffmpeg: z.string().min(1).default("ffmpeg"),
  ffprobe: z.string().min(1).default("ffprobe"),
  "web-url": z.url({ protocol: /^https?$/, error: "give the web view's http(s) address, e.g. http://127.0.0.1:8072" })
    .optional(),
  "max-request-size": z.string().regex(/^\d+\s*([kmg]i?b?)?$/i, "give bytes, or a size such as 64MiB").transform(
    (text) => {
      const unit = /[kmg]/i.exec(text)?.[0].toLowerCase();
      return parseInt(text, 10) * (unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1);
    },
  ).pipe(z.number().int().min(1024, "at least 1KiB").max(Number.MAX_SAFE_INTEGER)).optional(),
  "cors-origin": z.array(z.string()).default([]).superRefine((origins, context) => {
    try {
      corsOrigins(origins);
    } catch (error) {
      context.addIssue({ code: "custom", message: (error as Error).message });
    }
  }),
  "no-content-reuse": z.boolean().default(false),
  help: z.boolean().default(false),
});

const ROLE = z.enum(["administrator", "user", "read-only"], {
  error: "give administrator, user or read-only",
}).transform((role) => role === "read-only" ? "read_only" as const : role);

const UserFlags = z.object({
  data: z.string().min(1).optional(),
  "first-name": z.string().optional(),
  "last-name": z.string().optional(),
  email: z.string().email().optional(),
  role: ROLE.default("user"),
  help: z.boolean().default(false),
});

const AccessFlags = z.object({
  data: z.string().min(1).optional(),
  revoke: z.boolean().default(false),
  help: z.boolean().default(false),
});

function defaultData(): string {
  return join(ferryHome(), "tracker");
}

/** Runs the command; returns the exit code (the server keeps running until interrupted). */
export async function main(args: string[]): Promise<number> {
  try {
    if (args[0] === "user" && args[1] === "role") {
      const { flags, positionals } = parseFlags(args.slice(2), {
        data: { type: "string" },
        help: { type: "boolean", short: "h" },
      }, AccessFlags.omit({ revoke: true }));
      if (flags.help) {
        console.log(USAGE);
        return 0;
      }
      const [username, roleText] = positionals;
      if (!username || roleText === undefined || positionals.length > 2) {
        throw new UsageError("Give a username and a role to 'user role', e.g. 'user role viewer read-only'.");
      }
      const parsed = ROLE.safeParse(roleText);
      if (!parsed.success) throw new UsageError(`Unknown role '${roleText}': give administrator, user or read-only.`);
      const role = parsed.data;
      const data = flags.data ?? defaultData();
      await throughRunning(data, "set the role", [{ action: "ferry_set_security_role", username, role }]) ??
        await directly(data, (tracker) => tracker.setRole(username, role));
      console.log(`user:    ${username}\nrole:    ${roleText}`);
      return 0;
    }
    if (args[0] === "project") {
      if (args[1] !== "access") {
        throw new UsageError(`Unknown command 'project ${args[1] ?? ""}': use 'project access <project> <username>'.`);
      }
      const { flags, positionals } = parseFlags(args.slice(2), {
        data: { type: "string" },
        revoke: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      }, AccessFlags);
      if (flags.help) {
        console.log(USAGE);
        return 0;
      }
      const [project, username] = positionals;
      if (!project || !username || positionals.length > 2) {
        throw new UsageError("Give a project (name or id) and a username to 'project access'.");
      }
      const data = flags.data ?? defaultData();
      const access = !flags.revoke;
      await throughRunning(data, "change project access", [
        { action: "ferry_set_project_access", project, username, access },
      ]) ?? await directly(data, (tracker) => tracker.setProjectAccess(project, username, access));
      console.log(`project: ${project}\nuser:    ${username}\naccess:  ${access ? "given" : "revoked"}`);
      return 0;
    }
    if (args[0] === "user") {
      if (args[1] !== "add") {
        throw new UsageError(
          `Unknown command 'user ${args[1] ?? ""}': use 'user add <username>' or 'user role <username> <role>'.`,
        );
      }
      const { flags, positionals } = parseFlags(args.slice(2), {
        data: { type: "string" },
        "first-name": { type: "string" },
        "last-name": { type: "string" },
        email: { type: "string" },
        role: { type: "string" },
        help: { type: "boolean", short: "h" },
      }, UserFlags);
      if (flags.help) {
        console.log(USAGE);
        return 0;
      }
      const username = positionals[0];
      if (!username || positionals.length > 1) throw new UsageError("Give exactly one username to 'user add'.");
      const data = flags.data ?? defaultData();
      const details = { username, first_name: flags["first-name"], last_name: flags["last-name"], email: flags.email };
      const added = await addUserThroughRunning(data, details, flags.role) ??
        await addUserDirectly(data, details, flags.role);
      console.log(`user:    ${added.username} (${added.id})\napi key: ${added.apiKey}`);
      return 0;
    }
    const { flags, positionals } = parseFlags(args, {
      port: { type: "string" },
      host: { type: "string" },
      data: { type: "string" },
      "api-user": { type: "string" },
      "api-key": { type: "string" },
      ffmpeg: { type: "string" },
      ffprobe: { type: "string" },
      "web-url": { type: "string" },
      "max-request-size": { type: "string" },
      "cors-origin": { type: "string", multiple: true },
      "no-content-reuse": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    }, ServeFlags);
    if (flags.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`Unexpected argument '${positionals[0]}'.`);
    const data = flags.data ?? defaultData();
    const running = await startTracker({
      port: flags.port,
      hostname: flags.host,
      data,
      apiUser: flags["api-user"],
      apiKey: flags["api-key"],
      mediaTools: { ffmpeg: flags.ffmpeg, ffprobe: flags.ffprobe },
      maxRequestSize: flags["max-request-size"],
      corsOrigins: flags["cors-origin"],
      webUrl: flags["web-url"],
      contentReuse: !flags["no-content-reuse"],
    });
    console.log(
      `ferry tracker listening\n  FTRACK_SERVER=${running.url}\n  FTRACK_API_USER=${running.apiUser}\n  FTRACK_API_KEY=${running.apiKey}\n  data: ${data}`,
    );
    const stop = async () => {
      console.log("stopping the tracker …");
      // Uploads still running get 5 s; their partial files are removed at the next start.
      await Promise.race([running.close(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
      Deno.exit(0);
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await new Promise(() => {});
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`tracker: ${error.message.replaceAll("\n", "; ")} (see --help)`);
      return EXIT.USAGE;
    }
    const code = exitCodeOf(error);
    console.error(`tracker: ${(error as Error)?.message ?? String(error)}`);
    if (code === EXIT.FAILED && !(error instanceof TrackerError) && Deno.env.get("FERRY_DEBUG")) {
      console.error((error as Error)?.stack);
    }
    return code;
  }
}

/** A user added, with the API key to give them (shown once). */
interface AddedUser {
  id: string;
  username: string;
  apiKey: string;
}

type UserDetails = { username: string; first_name?: string; last_name?: string; email?: string };

/** The running tracker of `data` cannot be reached (exit code 3). */
class RunningTrackerError extends Error {
  readonly exitCode = EXIT.ENVIRONMENT;
}

/**
 * Adds the user through the tracker running on `data` (its lock file names its URL and API user),
 * so that the tracker knows the new key at once; undefined when no tracker runs there.
 */
async function addUserThroughRunning(
  data: string,
  details: UserDetails,
  role: SecurityRole,
): Promise<AddedUser | undefined> {
  const session = await sessionOfRunning(data, "add the user");
  if (session === undefined) return undefined;
  const defined = Object.fromEntries(Object.entries(details).filter(([, value]) => value !== undefined));
  try {
    const [created] = await session.call<{ data: { id: string; username: string } }>([
      { action: "create", entity_type: "User", entity_data: { ...defined, is_active: true } } as never,
    ]);
    const id = created!.data.id;
    const [reset] = await session.call<{ data: { api_key: string } }>([
      { action: "reset_remote", reset_type: "api_key", entity_type: "User", entity_key: id } as never,
      { action: "ferry_set_security_role", username: created!.data.username, role } as never,
    ]);
    return { id, username: created!.data.username, apiKey: reset!.data.api_key };
  } catch (error) {
    // The tracker's refusal (e.g. a username that is taken) is the request failing, not the set-up.
    if (exitCodeOf(error) === EXIT.ENVIRONMENT) throw error;
    throw new TrackerError((error as Error).name, (error as Error).message);
  }
}

/** Adds the user in the data folder itself (no tracker runs on it). */
function addUserDirectly(data: string, details: UserDetails, role: SecurityRole): Promise<AddedUser> {
  return directly(data, (tracker) => {
    const { user, apiKey } = tracker.addUser(details, { role });
    return { id: String(user.id), username: String(user.username), apiKey };
  });
}

/**
 * A session of the API user of the tracker running on `data` (its lock file names its URL and
 * key); undefined when no tracker runs there.
 */
async function sessionOfRunning(data: string, what: string) {
  const lock = await runningTrackerOf(data);
  if (lock === undefined) return undefined;
  const credentials = { server: lock.url, apiUser: lock.apiUser, apiKey: lock.apiKey };
  // The official client logs every failed request with its stack; the command says it in one line.
  if (!Deno.env.get("FERRY_DEBUG")) {
    for (const name of ["ftrack_api", "ftrack_api:EventHub"]) loglevel.getLogger(name).setLevel("silent");
  }
  try {
    return await openSession(credentials, { timeout: 30_000 });
  } catch (error) {
    throw new RunningTrackerError(
      `Cannot ${what} through the tracker running on '${data}' (process ${lock.pid}, ${lock.url}): ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
}

/** Runs operations through the tracker running on `data`; undefined when none runs there. */
async function throughRunning(data: string, what: string, operations: unknown[]): Promise<unknown[] | undefined> {
  const session = await sessionOfRunning(data, what);
  if (session === undefined) return undefined;
  try {
    return await session.call(operations as never);
  } catch (error) {
    // The tracker's refusal (e.g. a user that does not exist) is the request failing, not the set-up.
    throw new TrackerError((error as Error).name, (error as Error).message);
  }
}

/** Works on the data folder itself (no tracker runs on it). */
async function directly<T>(data: string, work: (tracker: Tracker) => T): Promise<T> {
  const tracker = await Tracker.open({ data }).catch((error) => {
    throw databaseProblem(data, error);
  });
  try {
    return work(tracker);
  } finally {
    await tracker.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
