/**
 * `deno task web`: the web view. Browse what was published (thumbnails, review movies,
 * components), watch the bridge's publishes and the event log, in a browser on this machine.
 *
 * @module
 */
import { z } from "zod";
import { UsageError } from "../../src/cli/args.ts";
import { EXIT, exitCodeOf, exitCodesHelp } from "../../src/cli/exit_codes.ts";
import { FERRY_VERSION } from "../bridge/version.ts";
import { isLoopbackHost } from "../../src/net/loopback_host.ts";
import { startWeb } from "./server.ts";
import { readPrebuiltAssets } from "./prebuilt_assets.ts";
import { readCommandFlags } from "../../src/cli/read_command_flags.ts";

/** The usage text of the command. */
export const USAGE = `Usage: deno task web [--port 8072] [--host 127.0.0.1] [--store <where>]

The web view: a local page server (127.0.0.1 only) to see what was published and what runs.
  Browse     projects → sequences, shots, asset builds → tasks → versions, with thumbnails; a
             version's review movie, status, note and components (sizes, SHA-1 fingerprints,
             frame ranges, locations); search by name
  Publishes  the bridge's jobs, live, with each plugin's result and the report
  Events     the pipeline store's event log (filters, errors with stacks, Retry), queue depth, lag

It prints an address with a token once: open it, and the browser keeps the token in a cookie.
The address is also in $FERRY_HOME/web.json (readable by you only). Pages load nothing from other
sites, so it works on a closed studio network.

It shows the ftrack site of FTRACK_SERVER / FTRACK_API_USER / FTRACK_API_KEY, or else the
embedded tracker in $FERRY_HOME/tracker; the bridge of $FERRY_HOME/bridge.json; and the store of
--store, else FERRY_STORE, else $FERRY_HOME/store.db (queue depth with the processor settings of
FERRY_VARIANT, default production).

Options:
  --port <n>         port (0 picks a free one; default 8072)
  --host <address>   loopback address to listen on: 127.0.0.1 (default), ::1 or localhost
  --store <where>    SQLite file or postgres:// URL of the pipeline store
  --processor <url>  a processor's /health and /metrics (default FERRY_PROCESSOR_URL, else
                     http://127.0.0.1:8075, as deno task processor listens)
  --version          print the version
  -h, --help         show this help

${
  exitCodesHelp({
    [EXIT.OK]: "stopped normally",
    [EXIT.ENVIRONMENT]: "the tracker cannot be reached, or the port is taken",
  })
}`;

const FlagsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8072),
  host: z.string().refine(isLoopbackHost, "must be a loopback address (127.0.0.1, ::1 or localhost)").default(
    "127.0.0.1",
  ),
  store: z.string().min(1).optional(),
  processor: z.string().url("must be a URL such as http://127.0.0.1:8075").optional(),
  version: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** Options of {@linkcode main}. */
export interface WebMainOptions {
  /**
   * A folder holding the page script and stylesheet built ahead of time (`app.js`, `style.css`): the `ferry-web`
   * binary's, built by `deno task compile`. They are served when the folder holds them; otherwise (a checkout)
   * they are bundled with esbuild at start.
   */
  assetsFolder?: URL;
}

/** Runs the web view until SIGINT/SIGTERM; resolves to the exit code. */
export async function main(args: string[], options: WebMainOptions = {}): Promise<number> {
  const read = readCommandFlags(args, {
    name: "web",
    options: {
      port: { type: "string" },
      host: { type: "string" },
      store: { type: "string" },
      processor: { type: "string" },
    },
    schema: FlagsSchema,
    usage: USAGE,
    versionLine: `ferry web ${FERRY_VERSION}`,
  });
  if ("exit" in read) return read.exit;
  const { flags } = read;
  let web;
  try {
    const assets = options.assetsFolder ? await readPrebuiltAssets(options.assetsFolder) : undefined;
    web = await startWeb({
      assets,
      port: flags.port,
      hostname: flags.host === "localhost" ? "127.0.0.1" : flags.host,
      store: flags.store,
      processorUrl: flags.processor,
    });
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`web: ${error.message}`);
      return EXIT.USAGE;
    }
    if (error instanceof Deno.errors.AddrInUse) {
      console.error(
        `web: cannot listen on ${flags.host}:${flags.port}: the port is taken (use --port 0 for a free one)`,
      );
      return EXIT.ENVIRONMENT;
    }
    console.error(`web: cannot start: ${(error as Error)?.message ?? error}`);
    return exitCodeOf(error) === EXIT.FAILED ? EXIT.ENVIRONMENT : exitCodeOf(error);
  }
  const where = web.tracker.kind === "site"
    ? web.tracker.credentials.server
    : `the embedded tracker (${web.tracker.credentials.server})`;
  console.error(`ferry web ${FERRY_VERSION} on ${web.url} (FERRY_HOME ${web.home}), showing ${where}`);
  console.error("Open this address (it carries the token; keep it to yourself):");
  console.log(web.loginUrl);

  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  await stopped.promise;
  console.error("web: stopping");
  await web.close();
  for (const signal of signals) Deno.removeSignalListener(signal, stop);
  return EXIT.OK;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
