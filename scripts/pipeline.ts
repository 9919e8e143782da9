/**
 * `deno task pipeline`: reads and changes the pipeline store by project and path, as a person
 * or a studio tool would; the transmitter carries the changes to the tracker. `serve` offers the
 * same operations over HTTP.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import { parseFlags, UsageError } from "../src/cli/args.ts";
import { EXIT, exitCodesHelp } from "../src/cli/exit_codes.ts";
import { serviceConfig } from "../src/cli/service_config.ts";
import { ferryHome } from "../src/config/ferry_home.ts";
import type { Entity } from "../src/store/entity.ts";
import { openStore } from "../src/store/open_store.ts";
import { PipelineOpError, PipelineOps } from "../src/sync/pipeline_ops.ts";
import { linksOf } from "../src/sync/link_sync.ts";
import { pipelineApi } from "../services/transmitter/pipeline_api.ts";

export const USAGE = `Usage:
  deno task pipeline get <project> <path>
  deno task pipeline list <project> [<path>]
  deno task pipeline set <project> <path> <key=value>…       (values are JSON when they parse: fps=25, note="x")
  deno task pipeline status <project> <path> <status>
  deno task pipeline create-folder <project> <parent path> <name> [--type Shot]
  deno task pipeline create-task <project> <folder path> <name> [--type Compositing]
  deno task pipeline assign <project> <task path> <user>… [--replace]
  deno task pipeline comment add <project> <path> <text> [--author <user>] [--reply-to <comment id>]
  deno task pipeline comment edit <project> <comment id> <text>
  deno task pipeline comment delete <project> <comment id>
  deno task pipeline comment list <project> <path>
  deno task pipeline thumbnail <project> <path> <image>
  deno task pipeline link <project> <from path> <to path>
  deno task pipeline unlink <project> <from path> <to path>
  deno task pipeline lists <project>
  deno task pipeline lists create <project> <name> [<path>…] [--type version|context] [--category <name>]
  deno task pipeline lists add|remove <project> <list> <path>…
  deno task pipeline lists rename <project> <list> <new name>
  deno task pipeline lists open|close|delete <project> <list>
  deno task pipeline serve [--port 8077] [--token <token>]

Reads and changes the pipeline store: paths are folder and task names from the project down
(/sq010/sh010/comp; / is the project), or an entity id. Statuses are the project's (matched
case-insensitively). Each change is recorded as 'entity.*' events written by a user, which
'deno task transmitter' applies to the tracker. Comments (on projects, folders, tasks and
versions) become tracker notes, edited and deleted with them; a thumbnail (a .jpg, .png, .gif or
.webp on a folder, task or version) is uploaded to the tracker. Lists (of versions for review,
or of folders and tasks with --type context) become tracker lists in the category named by
--category. A link makes the folder or task at <to path> depend on the one at <from path> (a
tracker TypedContextLink from → to; kept on the target's data.links); unlink removes it.
'deno task pipeline comment --help' tells more about comments.

'serve' offers the same over HTTP on 127.0.0.1 (routes under /projects/<project>/: GET entity
and children ?path=, PATCH entity {path, attributes, status, assignees}, POST folders {parent,
name, folderType}, tasks {parent, name, taskType}, comments {path, text, author, replyTo}, PUT
thumbnail {path, image}; GET links?path=, POST links {from, to}, DELETE links?from=&to=;
GET comments?path=, PATCH and DELETE comments/<id>; GET and POST lists {name, listType,
category, items}, PATCH lists/<list> {name, open, category, add, remove}, DELETE lists/<list>),
each with 'Authorization: Bearer <token>'. The token: --token, else FERRY_PIPELINE_TOKEN, else a
new one written with the URL to $FERRY_HOME/pipeline_api.json.

Options:
  --store <where>    SQLite file or postgres:// URL (default: FERRY_STORE, else $FERRY_HOME/store.db)
  --json             print entities as JSON
  --sender <name>    written as the changes' sender (default: pipeline-cli@<host>)
  --author <user>    a comment's author (username or email)
  --reply-to <id>    the comment a new comment answers
  --type <type>      a folder's or task's type; a list's: version (default) or context
  --category <name>  a list's category
  -h, --help         show this help

${
  exitCodesHelp({
    1: "the change was refused or the entity is unknown (the message says why)",
    3: "the store could not be opened",
  })
}`;

export const COMMENT_USAGE = `Usage:
  deno task pipeline comment add <project> <path> <text> [--author <user>] [--reply-to <comment id>]
  deno task pipeline comment <project> <path> <text>                  (the same as add)
  deno task pipeline comment edit <project> <comment id> <text>
  deno task pipeline comment delete <project> <comment id>
  deno task pipeline comment list <project> <path> [--json]

Comments are pipeline entities under what they comment on (a project, folder, task or version:
<path> as for the other commands). The transmitter makes each a tracker note (by the author's
tracker user when one has that email or username, else the service's user), updates the note's
text on an edit and deletes the note with the comment. Notes written in the tracker come back as
comments the same way, replies included (--reply-to: the id of the comment answered, on the
same entity). 'list' shows each comment's id, author and text.

Options:
  --author <user>        the author's username or email
  --reply-to <id>        the comment this one answers
  --json                 print comments as JSON
  --store <where>        SQLite file or postgres:// URL
  -h, --help             show this help`;

const COMMENT_ARITY: Record<string, number> = { add: 3, edit: 3, delete: 2, list: 2 };

/** `lists` subcommands: their fewest and most arguments. */
const LISTS_ARITY: Record<string, [number, number]> = {
  create: [2, Infinity],
  add: [3, Infinity],
  remove: [3, Infinity],
  rename: [3, 3],
  open: [2, 2],
  close: [2, 2],
  delete: [2, 2],
};

const FlagsSchema = z.object({
  store: z.string().min(1).optional(),
  json: z.boolean().default(false),
  sender: z.string().min(1).optional(),
  type: z.string().min(1).optional(),
  replace: z.boolean().default(false),
  author: z.string().min(1).optional(),
  "reply-to": z.string().min(1).optional(),
  category: z.string().min(1).optional(),
  port: z.coerce.number().int().min(0).max(65535).default(8077),
  token: z.string().min(16, "must be at least 16 characters").optional(),
  help: z.boolean().default(false),
});

const ARITY: Record<string, [number, number]> = {
  get: [2, 2],
  list: [1, 2],
  set: [3, Infinity],
  status: [3, 3],
  "create-folder": [3, 3],
  "create-task": [3, 3],
  assign: [3, Infinity],
  comment: [2, 4],
  thumbnail: [3, 3],
  link: [3, 3],
  unlink: [3, 3],
  lists: [1, Infinity],
  serve: [0, 0],
};

function line(entity: Entity): string {
  const extra = entity.type === "task"
    ? String(entity.data.taskType)
    : entity.type === "folder"
    ? String(entity.data.folderType)
    : entity.type;
  return `${entity.name}  ${entity.type} (${extra})  status=${entity.status ?? "-"}  ${
    entity.assignees.length ? `assignees=${entity.assignees.join(",")}  ` : ""
  }${linksOf(entity).length ? `links-from=${linksOf(entity).map((link) => link.from).join(",")}  ` : ""}tracker=${
    entity.trackerId ?? "-"
  }  id=${entity.id}`;
}

function parseAssignments(pairs: string[]): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`'${pair}' is not key=value`);
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    attributes[pair.slice(0, at)] = value;
  }
  return attributes;
}

/** Runs the command; resolves to the exit code. */
export async function main(args: string[], write = (text: string) => console.log(text)): Promise<number> {
  let flags: z.infer<typeof FlagsSchema>;
  let command: string;
  let rest: string[];
  let assignments: Record<string, unknown> = {};
  let config;
  let usage = USAGE;
  try {
    let positionals: string[];
    ({ flags, positionals } = parseFlags(args, {
      store: { type: "string" },
      json: { type: "boolean" },
      sender: { type: "string" },
      type: { type: "string" },
      replace: { type: "boolean" },
      author: { type: "string" },
      "reply-to": { type: "string" },
      category: { type: "string" },
      port: { type: "string" },
      token: { type: "string" },
      help: { type: "boolean", short: "h" },
    }, FlagsSchema));
    if (flags.help) {
      write(positionals[0] === "comment" ? COMMENT_USAGE : USAGE);
      return EXIT.OK;
    }
    [command = "", ...rest] = positionals;
    if (command === "comment") {
      usage = COMMENT_USAGE;
      // `comment <project> <path> <text>` is `comment add …`.
      if (!(rest[0]! in COMMENT_ARITY) && rest.length === 3) rest = ["add", ...rest];
      const sub = rest[0] ?? "";
      if (!(sub in COMMENT_ARITY)) {
        throw new UsageError(`Unknown comment command '${sub}': use add, edit, delete or list`);
      }
      if (rest.length - 1 !== COMMENT_ARITY[sub]) {
        throw new UsageError(
          `'comment ${sub}' takes ${COMMENT_ARITY[sub]} arguments, not ${rest.length - 1}`,
        );
      }
    }
    if (command === "lists" && rest[0]! in LISTS_ARITY) {
      const [least, most] = LISTS_ARITY[rest[0]!]!;
      if (rest.length - 1 < least || rest.length - 1 > most) {
        throw new UsageError(
          `'lists ${rest[0]}' takes ${least}${most === Infinity ? " or more" : ""} arguments, not ${rest.length - 1}`,
        );
      }
    } else if (command === "lists" && rest.length > 1) {
      throw new UsageError(
        `Unknown lists command '${rest[0]}': use ${Object.keys(LISTS_ARITY).join(", ")}, or 'lists <project>'`,
      );
    }
    const arity = ARITY[command];
    if (!arity) {
      throw new UsageError(
        command ? `Unknown command '${command}': use ${Object.keys(ARITY).join(", ")}` : "Name a command",
      );
    }
    if (rest.length < arity[0] || rest.length > arity[1]) {
      throw new UsageError(
        `'${command}' takes ${arity[0]}${
          arity[1] === Infinity ? " or more" : arity[1] > arity[0] ? ` to ${arity[1]}` : ""
        } arguments, not ${rest.length}`,
      );
    }
    if (command === "set") assignments = parseAssignments(rest.slice(2));
    config = serviceConfig({ store: flags.store, env: Deno.env.toObject(), home: ferryHome() });
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${usage}`);
      return EXIT.USAGE;
    }
    throw error;
  }
  let store;
  try {
    store = await openStore(config.store, { create: command === "serve" });
  } catch (error) {
    console.error((error as Error).message);
    return EXIT.ENVIRONMENT;
  }
  const ops = new PipelineOps(store, { sender: flags.sender ?? `pipeline-cli@${Deno.hostname()}`, senderType: "user" });
  const show = (entity: Entity) => write(flags.json ? JSON.stringify(entity, null, 2) : line(entity));
  try {
    const [project = "", path = "/"] = rest;
    switch (command) {
      case "get":
        show(await ops.get(project, path));
        break;
      case "list": {
        const children = await ops.list(project, path);
        if (flags.json) write(JSON.stringify(children, null, 2));
        else for (const child of children) write(line(child));
        break;
      }
      case "set":
        show(await ops.setAttributes(project, path, assignments));
        break;
      case "status":
        show(await ops.setStatus(project, path, rest[2]!));
        break;
      case "create-folder":
        show(await ops.createFolder(project, path, rest[2]!, flags.type));
        break;
      case "create-task":
        show(await ops.createTask(project, path, rest[2]!, flags.type));
        break;
      case "assign":
        show(await ops.assign(project, path, rest.slice(2), { replace: flags.replace }));
        break;
      case "comment":
        await commentCommand(ops, rest, flags, write);
        break;
      case "thumbnail":
        show(await ops.setThumbnail(project, path, rest[2]!));
        break;
      case "link":
      case "unlink": {
        const to = command === "link"
          ? await ops.link(project, path, rest[2]!)
          : await ops.unlink(project, path, rest[2]!);
        if (flags.json) show(to);
        else {write(
            `${command === "link" ? "Linked" : "Unlinked"} ${path} → ${rest[2]} (links into it: ${linksOf(to).length})`,
          );}
        break;
      }
      case "lists":
        await listsCommand(ops, rest, flags, write);
        break;
      case "serve":
        return await serve(store, flags);
    }
    return EXIT.OK;
  } catch (error) {
    if (error instanceof PipelineOpError || error instanceof TypeError || error instanceof RangeError) {
      console.error((error as Error).message);
      return EXIT.FAILED;
    }
    throw error;
  } finally {
    await store.close();
  }
}

function commentLine(comment: Entity): string {
  const reply = comment.data.replyTo ? `  reply-to=${comment.data.replyTo}` : "";
  return `${comment.id}  ${new Date(comment.createdAt).toISOString()}  ${comment.data.author ?? "-"}  tracker=${
    comment.trackerId ?? "-"
  }${reply}\n  ${String(comment.data.text).replaceAll("\n", "\n  ")}`;
}

async function commentCommand(
  ops: PipelineOps,
  [sub, project = "", target = "", text = ""]: string[],
  flags: z.infer<typeof FlagsSchema>,
  write: (text: string) => void,
): Promise<void> {
  const show = (comment: Entity) => write(flags.json ? JSON.stringify(comment, null, 2) : commentLine(comment));
  switch (sub) {
    case "add": {
      const comment = await ops.comment(project, target, text, { author: flags.author, replyTo: flags["reply-to"] });
      const on = (await ops.store.getEntity(comment.parentId!))!;
      if (flags.json) show(comment);
      else write(`Comment ${comment.id} on ${on.type} '${on.name}'`);
      break;
    }
    case "edit":
      show(await ops.editComment(project, target, text));
      break;
    case "delete": {
      const comment = await ops.deleteComment(project, target);
      write(`Deleted comment ${comment.id}`);
      break;
    }
    case "list": {
      const comments = await ops.listComments(project, target);
      if (flags.json) write(JSON.stringify(comments, null, 2));
      else if (comments.length === 0) write(`No comments on '${target}'`);
      else for (const comment of comments) write(commentLine(comment));
      break;
    }
  }
}

function listLine(list: Entity): string {
  const items = Array.isArray(list.data.items) ? list.data.items.length : 0;
  return `${list.name}  ${list.data.listType} list  category=${list.data.category ?? "-"}  ${
    list.data.open === false ? "closed" : "open"
  }  items=${items}  tracker=${list.trackerId ?? "-"}  id=${list.id}`;
}

async function listsCommand(
  ops: PipelineOps,
  rest: string[],
  flags: z.infer<typeof FlagsSchema>,
  write: (text: string) => void,
): Promise<void> {
  const show = (list: Entity) => write(flags.json ? JSON.stringify(list, null, 2) : listLine(list));
  if (rest.length === 1) {
    const lists = await ops.lists(rest[0]!);
    if (flags.json) write(JSON.stringify(lists, null, 2));
    else if (lists.length === 0) write(`No lists in '${rest[0]}'`);
    else for (const list of lists) write(listLine(list));
    return;
  }
  const [sub, project = "", list = "", ...more] = rest;
  switch (sub) {
    case "create": {
      if (flags.type !== undefined && flags.type !== "version" && flags.type !== "context") {
        throw new PipelineOpError(`Unknown list type '${flags.type}': use version or context`);
      }
      show(
        await ops.createList(project, list, {
          listType: flags.type as "version" | "context" | undefined,
          category: flags.category ?? null,
          items: more,
        }),
      );
      break;
    }
    case "add":
      show(await ops.changeList(project, list, { add: more }));
      break;
    case "remove":
      show(await ops.changeList(project, list, { remove: more }));
      break;
    case "rename":
      show(await ops.changeList(project, list, { name: more[0]! }));
      break;
    case "open":
    case "close":
      show(await ops.changeList(project, list, { open: sub === "open" }));
      break;
    case "delete":
      write(`Deleted list '${(await ops.deleteList(project, list)).name}'`);
      break;
  }
}

async function serve(
  store: Awaited<ReturnType<typeof openStore>>,
  flags: z.infer<typeof FlagsSchema>,
): Promise<number> {
  const token = flags.token ?? Deno.env.get("FERRY_PIPELINE_TOKEN") ?? randomBytes(24).toString("base64url");
  const app = pipelineApi({ store, token, sender: flags.sender ?? `pipeline-api@${Deno.hostname()}` });
  let server;
  try {
    server = Deno.serve({ port: flags.port, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  } catch (error) {
    console.error(`Cannot listen on 127.0.0.1:${flags.port}: ${(error as Error).message}`);
    return EXIT.ENVIRONMENT;
  }
  const url = `http://127.0.0.1:${server.addr.port}`;
  const file = join(ferryHome(), "pipeline_api.json");
  if (!flags.token && !Deno.env.get("FERRY_PIPELINE_TOKEN")) {
    await Deno.mkdir(ferryHome(), { recursive: true });
    await Deno.writeTextFile(file, JSON.stringify({ url, token, pid: Deno.pid }, null, 2), { mode: 0o600 });
    console.error(`The pipeline API listens on ${url}; its token is in ${file}`);
  } else console.error(`The pipeline API listens on ${url}`);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  await new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve(), { once: true }));
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  await server.shutdown();
  return EXIT.OK;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
