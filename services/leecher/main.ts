/**
 * `deno task leecher`: stores every tracker event in the pipeline store.
 *
 * @module
 */
import { z } from "zod";
import { EXIT, exitCodeOf, exitCodesHelp } from "../../src/cli/exit_codes.ts";
import { trackerFromEnv } from "../../src/tracker/tracker_credentials.ts";
import { connectTracker } from "../tracker/connect_tracker.ts";
import { startLeecher } from "./leecher.ts";
import { stopSignal } from "../stop_signal.ts";
import { asEnvironmentProblem, openServiceStore, startService } from "../start_service.ts";

export const USAGE = `Usage: deno task leecher [--store <file or postgres://…>] [--variant production|staging|dev]

Connects to the tracker's event hub and stores every event in the pipeline store as
'tracker.leech' (hash = the tracker event's id, so several leechers store each event once).
Drops ftrack.meta.* and social/team events. Reconnects with backoff; every (re)connect records a
'ferry.leecher.started' event, on which the processor reconciles what may have been missed.

The tracker: FTRACK_SERVER / FTRACK_API_USER / FTRACK_API_KEY, else the embedded tracker of
$FERRY_HOME/tracker (the running one, or one started in this process). A tracker that does not
answer is waited for (1 s, doubling up to 30 s, each attempt logged); a refused API user or key
exits 3 at once.

Options:
  --store <where>        SQLite file or postgres:// URL (default: FERRY_STORE, else $FERRY_HOME/store.db)
  --variant <name>       settings variant (default: FERRY_VARIANT, else production)
  --sender <name>        service name written on the events (default: leecher@<host>)
  --log-level <level>    debug | info | warn | error (default info)
  --json-log             log JSON lines
  -h, --help             show this help

Stops on SIGINT / SIGTERM after storing what it received.

${
  exitCodesHelp({
    0: "stopped on a signal",
    3: "the store could not be opened, or the tracker refused the credentials",
  })
}`;

const FlagsSchema = z.object({
  store: z.string().min(1).optional(),
  variant: z.string().optional(),
  sender: z.string().min(1).optional(),
  "log-level": z.enum(["debug", "info", "warn", "error"]).default("info"),
  "json-log": z.boolean().default(false),
  help: z.boolean().default(false),
});

/** Runs the leecher until SIGINT / SIGTERM; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const start = startService({
    name: "leecher",
    args,
    options: {
      sender: { type: "string" },
    },
    schema: FlagsSchema,
    usage: USAGE,
  });
  if ("exit" in start) return start.exit;
  const { flags, config, log } = start;
  using stop = stopSignal();
  try {
    await using store = await openServiceStore(config);
    // A site named by FTRACK_* is waited for (with backoff) when it is down; else the embedded tracker.
    let site;
    try {
      site = trackerFromEnv(Deno.env.toObject());
    } catch (error) {
      throw Object.assign(error as Error, { exitCode: EXIT.ENVIRONMENT });
    }
    await using tracker = site ? undefined : await asEnvironmentProblem(connectTracker());
    const credentials = site ?? tracker!.credentials;
    log.info("starting", { store: store.location, variant: config.variant, tracker: credentials.server });
    await using _leecher = await startLeecher({
      store,
      credentials,
      sender: flags.sender,
      variant: config.variant,
      log,
      signal: stop.signal,
    });
    await stop.stopped;
    return EXIT.OK;
  } catch (error) {
    log.error((error as Error).message);
    return exitCodeOf(error);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
