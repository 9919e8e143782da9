/**
 * `deno task events`: lists, shows and retries the events of the pipeline store.
 *
 * @module
 */
import { z } from "zod";
import { UsageError } from "../src/cli/args.ts";
import { EXIT, exitCodesHelp } from "../src/cli/exit_codes.ts";
import { openCommandStore } from "../src/cli/open_command_store.ts";
import { readCommandFlags } from "../src/cli/read_command_flags.ts";
import { EventStatusSchema, PROC_TOPIC, type StoredEvent } from "../src/store/mod.ts";

export const USAGE = `Usage:
  deno task events list [--status pending|in_progress|finished|failed] [--topic <topic>] [--project <name>] [--limit 50]
  deno task events show <id>
  deno task events retry <id>

Looks into the pipeline store's event log: what the leecher stored ('tracker.leech'), the
processor's jobs ('tracker.proc'), entity changes ('entity.*').

  list     newest first; 'list --status failed' shows the jobs that ran out of retries (and any
           failed now, waiting for their next retry) with their errors
  show     one event as JSON; for a job, with its source event; for a source, with its jobs
  retry    runs a failed job again: it becomes pending with its retries reset, and the processor
           takes it next (before later events). Takes the job's id or its source event's id.

Options:
  --store <where>    SQLite file or postgres:// URL (default: FERRY_STORE, else $FERRY_HOME/store.db)
  --json             JSON instead of text (list, show)
  -h, --help         show this help

${exitCodesHelp({ 1: "no such event, or it cannot be retried now", 3: "the store could not be opened" })}`;

const FlagsSchema = z.object({
  store: z.string().min(1).optional(),
  status: EventStatusSchema.optional(),
  topic: z.string().min(1).optional(),
  project: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(50),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});

const when = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

function line(event: StoredEvent): string {
  const payloadTopic = (event.payload as { topic?: unknown } | null)?.topic;
  const what = typeof payloadTopic === "string" ? `${event.topic} (${payloadTopic})` : event.topic;
  const retries = event.retries ? ` retries=${event.retries}` : "";
  const error = event.error ? `\n    error: ${event.error.message.split("\n")[0]}` : "";
  return `${event.id}  ${when(event.createdAt)}  ${event.status.padEnd(11)} ${what}${
    event.project ? `  [${event.project}]` : ""
  }${retries}\n    ${event.description}${error}`;
}

/** Runs the command; resolves to the exit code. */
export async function main(args: string[], write = (text: string) => console.log(text)): Promise<number> {
  const read = readCommandFlags(args, {
    name: "events",
    options: {
      store: { type: "string" },
      status: { type: "string" },
      topic: { type: "string" },
      project: { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean" },
    },
    schema: FlagsSchema,
    usage: USAGE,
    positionals: true,
    write,
    check: ({ positionals }) => {
      const [command, id, ...rest] = positionals;
      if (command === undefined) throw new UsageError("Name a command: list, show or retry");
      if (!["list", "show", "retry"].includes(command)) {
        throw new UsageError(`Unknown command '${command}': use list, show or retry`);
      }
      if (command !== "list" && id === undefined) throw new UsageError(`'${command}' needs an event id`);
      if (rest.length > 0 || (command === "list" && id !== undefined)) {
        throw new UsageError(`Unexpected argument '${command === "list" ? id : rest[0]}'`);
      }
    },
  });
  if ("exit" in read) return read.exit;
  const { flags } = read;
  const [command, id] = read.positionals as [string, string];
  const opened = await openCommandStore({ store: flags.store, create: false });
  if ("exit" in opened) return opened.exit;
  const { store } = opened;
  try {
    if (command === "list") {
      const events = await store.listEvents({
        status: flags.status,
        topic: flags.topic,
        project: flags.project,
        limit: flags.limit,
        newestFirst: true,
      });
      if (flags.json) write(JSON.stringify(events, null, 2));
      else if (events.length === 0) write("No events match.");
      else write(events.map(line).join("\n"));
      return EXIT.OK;
    }
    const event = await store.getEvent(id);
    if (event === undefined) {
      console.error(`No event '${id}' in the store at ${store.location}`);
      return EXIT.FAILED;
    }
    if (command === "show") {
      const source = event.dependsOn ? await store.getEvent(event.dependsOn) : undefined;
      const jobs = await store.listEvents({ dependsOn: event.id, limit: 100 });
      const shown = { ...event, ...(source ? { source } : {}), ...(jobs.length ? { jobs } : {}) };
      if (flags.json) write(JSON.stringify(shown, null, 2));
      else {
        write(line(event));
        if (event.error?.stack) write(`\n${event.error.stack}`);
        if (source) write(`\nsource:\n${line(source)}`);
        for (const job of jobs) write(`\njob:\n${line(job)}`);
        write(`\npayload: ${JSON.stringify(event.payload, null, 2)}`);
      }
      return EXIT.OK;
    }
    try {
      const job = await store.retryJob(id, event.dependsOn ? undefined : PROC_TOPIC);
      write(`Job ${job.id} is pending again; the processor runs it next.`);
      return EXIT.OK;
    } catch (error) {
      console.error((error as Error).message);
      return EXIT.FAILED;
    }
  } finally {
    await store.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
