/**
 * `deno task processor`: runs event handlers on the stored tracker events, one at a time.
 *
 * @module
 */
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import denoConfig from "../../deno.json" with { type: "json" };
import { EXIT, exitCodeOf, exitCodesHelp } from "../../src/cli/exit_codes.ts";
import { ferryHome } from "../../src/config/ferry_home.ts";
import { takeHandlerArchives } from "./archive_workspace.ts";
import { discoverHandlers } from "./discover_handlers.ts";
import { processorApp } from "./processor_app.ts";
import { startProcessor } from "./processor.ts";
import { stopSignal } from "../stop_signal.ts";
import { openServiceStore, reachTracker, startService } from "../start_service.ts";
import { serveLocal } from "../serve_local.ts";

/** The folder of ferry's own handlers. */
export const BUILTIN_HANDLERS: string = join(dirname(fileURLToPath(import.meta.url)), "handlers");

export const USAGE =
  `Usage: deno task processor [--store <file or postgres://…>] [--variant production|staging|dev] [--port 8075]

Runs event handlers on the tracker events the leecher stored: enrolls 'tracker.leech' →
'tracker.proc' in order (per project in parallel when the settings turn processor.parallelProjects
on) and calls each handler whose subscription matches, lowest priority first. A handler error
fails the job (error and stack kept), retried with backoff up to processor.maxRetries, then left
failed for 'deno task events' to show and retry.

Handlers: ferry's own (services/processor/handlers), the folders of FERRY_HANDLER_PATH (separated
by '${delimiter}') and --handlers, and the handler archives of the variant ('deno task handlers add').
Modules starting with '_' are skipped; one that fails to load is reported and skipped.

Server actions: ferry's handlers answer ftrack's Actions menu ('ftrack.action.discover') with
"ferry – Sync to pipeline" (a selection in one project) and "ferry – Sync users to pipeline"
(administrators), by the asking user's security roles (User.user_security_roles, on an ftrack site
and on the embedded tracker; settings handlers.server-actions: sync.roles, syncUsers.roles,
userRoles to add roles) and run them when launched ('ftrack.action.launch'), replying when done
with a tracker Job showing the report. A discovery is answered in its turn, or ahead of it while
a job has run longer than --eager-after-ms (a full sync): claimed once across processors (a
'processor.eager' event), so it is answered once. One older than
handlers.server-actions.discoverMaxAgeSeconds (30 s) when reached is not answered: the asker
has gone.

Options:
  --store <where>        SQLite file or postgres:// URL (default: FERRY_STORE, else $FERRY_HOME/store.db)
  --variant <name>       settings variant (default: FERRY_VARIANT, else production)
  --port <n>             port of /health and /metrics on 127.0.0.1 (default 8075; 0 picks a free one)
  --handlers <dir>       another handler folder (repeatable)
  --no-builtin           leave out ferry's own handlers
  --sender <name>        service name written on the jobs (default: processor@<host>)
  --poll-ms <n>          longest pause between looks at an empty queue (default 20)
  --eager-after-ms <n>   how long a job runs before action discoveries are answered ahead of
                         their turn (default 250)
  --log-level <level>    debug | info | warn | error (default info)
  --json-log             log JSON lines
  -h, --help             show this help

The tracker: FTRACK_SERVER / FTRACK_API_USER / FTRACK_API_KEY, else the embedded tracker of
$FERRY_HOME/tracker. A tracker that does not answer is waited for (1 s, doubling up to 30 s, each
attempt logged); a refused API user or key exits 3 at once. Stops on SIGINT / SIGTERM (while
waiting too) after the current job (released after 10 s).

${
    exitCodesHelp({
      0: "stopped on a signal",
      3: "the store could not be opened, the tracker refused the credentials, or the port is taken",
    })
  }`;

const FlagsSchema = z.object({
  store: z.string().min(1).optional(),
  variant: z.string().optional(),
  port: z.coerce.number().int().min(0).max(65535).default(8075),
  handlers: z.array(z.string().min(1)).default([]),
  "no-builtin": z.boolean().default(false),
  sender: z.string().min(1).optional(),
  "poll-ms": z.coerce.number().int().min(1).max(10_000).default(20),
  "eager-after-ms": z.coerce.number().int().min(0).max(600_000).default(250),
  "log-level": z.enum(["debug", "info", "warn", "error"]).default("info"),
  "json-log": z.boolean().default(false),
  help: z.boolean().default(false),
});

/** Runs the processor until SIGINT / SIGTERM; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const start = startService({
    name: "processor",
    args,
    options: {
      port: { type: "string" },
      handlers: { type: "string", multiple: true },
      "no-builtin": { type: "boolean" },
      sender: { type: "string" },
      "poll-ms": { type: "string" },
      "eager-after-ms": { type: "string" },
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
    if (connected === undefined) {
      log.info("stopped before the tracker could be reached");
      return EXIT.OK;
    }
    await using tracker = connected;
    const folders = [
      ...(flags["no-builtin"] ? [] : [BUILTIN_HANDLERS]),
      ...(Deno.env.get("FERRY_HANDLER_PATH") ?? "").split(delimiter).filter(Boolean),
      ...flags.handlers,
    ];
    await using archives = await takeHandlerArchives({
      store,
      variant: config.variant,
      root: join(ferryHome(), "processor", "archives"),
      log,
    });
    const discovered = await discoverHandlers([...folders, ...archives.handlerFolders]);
    const handlers = discovered.handlers;
    const failures = [...archives.failures, ...discovered.failures];
    for (const failure of failures) log.error("skipped a handler module or archive", { ...failure });
    await using processor = await startProcessor({
      store,
      session: tracker.session,
      handlers,
      variant: config.variant,
      sender: flags.sender,
      log,
      pollMs: flags["poll-ms"],
      eagerAfterMs: flags["eager-after-ms"],
    });
    const startedAt = new Date().toISOString();
    const schemaVersion = await store.schemaVersion();
    const app = processorApp(() => processor.metrics, () => ({
      version: denoConfig.version,
      variant: config.variant,
      sender: processor.sender,
      holder: processor.holder,
      store: { kind: store.kind, location: store.location, schemaVersion },
      handlers: handlers.map((handler) => handler.name),
      handlerFailures: failures,
      startedAt,
    }));
    const server = serveLocal(app.fetch, flags.port);
    log.info("health and metrics", { url: `http://127.0.0.1:${server.addr.port}` });
    await stop.stopped;
    log.info("stopping");
    await processor.stop();
    await server.shutdown();
    return EXIT.OK;
  } catch (error) {
    log.error((error as Error).message);
    return exitCodeOf(error);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
