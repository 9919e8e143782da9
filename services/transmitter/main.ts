/**
 * `deno task transmitter`: carries the pipeline's changes to the tracker.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import denoConfig from "../../deno.json" with { type: "json" };
import { EXIT, exitCodeOf, exitCodesHelp } from "../../src/cli/exit_codes.ts";
import { startTransmitter, TRANSMIT_TOPIC, TRANSMITTER_SOURCE_TOPICS } from "./transmitter.ts";
import { stopSignal } from "../stop_signal.ts";
import { openServiceStore, reachTracker, startService } from "../start_service.ts";
import { serveLocal } from "../serve_local.ts";

export const USAGE =
  `Usage: deno task transmitter [--store <file or postgres://…>] [--variant production|staging|dev] [--port 8076]

Carries the pipeline's changes to the tracker: enrolls the pipeline store's 'entity.*' events
(→ '${TRANSMIT_TOPIC}' jobs, in any order, retried with backoff up to processor.maxRetries),
leaving out those written on the tracker's behalf (sender type 'tracker', the processor's sync)
so nothing echoes back, and applies each: mapped attributes (settings
'handlers.sync-from-tracker.attributes'), start/end dates and description, status (by name,
case-insensitively, among the statuses the entity's workflow allows), assignees (tracker users
by email, then username), name and parent, task type, thumbnails (uploaded to the server
location). Products and versions: the Asset's name and context, the AssetVersion's status, task,
Asset, comment. Comments become notes (edited and deleted with them, replies threaded); lists
become AssetVersionLists or TypedContextLists with their category, items and open state.
Folders, tasks, products, versions and lists created or deleted in the pipeline are created or
deleted in the tracker ('handlers.transmitter.createDeleted', on by default); what is in the
tracker already (a publish's Asset and AssetVersion, an entity with a tracker id) is matched,
never made twice. 'handlers.transmitter.enabled: false' turns it off for a project. A change
that cannot be applied ends failed with the reason:
'deno task events list --topic ${TRANSMIT_TOPIC} --status failed'.

Options:
  --store <where>        SQLite file or postgres:// URL (default: FERRY_STORE, else $FERRY_HOME/store.db)
  --variant <name>       settings variant (default: FERRY_VARIANT, else production)
  --port <n>             port of /health on 127.0.0.1 (default 8076; 0 picks a free one)
  --sender <name>        service name written on the jobs (default: transmitter@<host>)
  --poll-ms <n>          longest pause between looks at an empty queue (default 50)
  --log-level <level>    debug | info | warn | error (default info)
  --json-log             log JSON lines
  -h, --help             show this help

The tracker: FTRACK_SERVER / FTRACK_API_USER / FTRACK_API_KEY, else the embedded tracker of
$FERRY_HOME/tracker. Stops on SIGINT / SIGTERM after the current job.

${
    exitCodesHelp({ 0: "stopped on a signal", 3: "the store or the tracker could not be opened, or the port is taken" })
  }`;

const FlagsSchema = z.object({
  store: z.string().min(1).optional(),
  variant: z.string().optional(),
  port: z.coerce.number().int().min(0).max(65535).default(8076),
  sender: z.string().min(1).optional(),
  "poll-ms": z.coerce.number().int().min(1).max(10_000).default(50),
  "log-level": z.enum(["debug", "info", "warn", "error"]).default("info"),
  "json-log": z.boolean().default(false),
  help: z.boolean().default(false),
});

/** Runs the transmitter until SIGINT / SIGTERM; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const start = startService({
    name: "transmitter",
    args,
    options: {
      port: { type: "string" },
      sender: { type: "string" },
      "poll-ms": { type: "string" },
    },
    schema: FlagsSchema,
    usage: USAGE,
  });
  if ("exit" in start) return start.exit;
  const { flags, config, log } = start;
  using stop = stopSignal();
  try {
    await using store = await openServiceStore(config);
    const connected = await reachTracker({ log, signal: stop.signal });
    if (connected === undefined) return EXIT.OK;
    await using tracker = connected;
    await using transmitter = startTransmitter({
      store,
      session: tracker.session,
      variant: config.variant,
      sender: flags.sender,
      log,
      pollMs: flags["poll-ms"],
    });
    const startedAt = new Date().toISOString();
    const schemaVersion = await store.schemaVersion();
    const app = new Hono();
    app.get("/health", async (c) =>
      c.json({
        status: "ok",
        version: denoConfig.version,
        variant: config.variant,
        sender: transmitter.sender,
        holder: transmitter.holder,
        store: { kind: store.kind, location: store.location, schemaVersion },
        metrics: transmitter.metrics,
        queueDepth: await store.queueDepth(TRANSMITTER_SOURCE_TOPICS, TRANSMIT_TOPIC).catch(() => null),
        startedAt,
      }));
    app.notFound((c) => c.json({ error: `No route ${c.req.method} ${c.req.path}: use /health` }, 404));
    const server = serveLocal(app.fetch, flags.port);
    log.info("health", { url: `http://127.0.0.1:${server.addr.port}` });
    await stop.stopped;
    log.info("stopping");
    await transmitter.stop();
    await server.shutdown();
    return EXIT.OK;
  } catch (error) {
    log.error((error as Error).message);
    return exitCodeOf(error);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
