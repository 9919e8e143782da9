/**
 * `deno task bridge`: the local HTTP bridge DCC hosts publish through.
 *
 * @module
 */
import { z } from "zod";
import { EXIT, exitCodesHelp } from "../../src/cli/exit_codes.ts";
import { parsePublishSettings, type PublishSettings } from "../../publish/settings.ts";
import { BridgeRunningError } from "./discovery.ts";
import { isLoopbackHost } from "./security.ts";
import { startBridge } from "./server.ts";
import { FERRY_VERSION } from "./version.ts";
import { readCommandFlags } from "../../src/cli/read_command_flags.ts";

export const USAGE = `Usage: deno task bridge [--port 8071] [--host 127.0.0.1] [options]

The bridge DCC hosts publish through: a local HTTP server (127.0.0.1 only) that runs ferry's
publish plugins on requests from Blender, Maya, Nuke, Houdini or any Python, and streams their
progress back. It writes $FERRY_HOME/bridge.json (url, token, pid, version; readable by you only)
so that hosts find it, and removes it on exit. One bridge per FERRY_HOME.

It publishes to the ftrack site of FTRACK_SERVER / FTRACK_API_USER / FTRACK_API_KEY, or else to the
embedded tracker in $FERRY_HOME/tracker (the running one, or one started inside the bridge).
Jobs are kept in $FERRY_HOME/bridge/jobs: a bridge started again answers for them and resumes the
ones that were running. Logs: $FERRY_HOME/logs/bridge-<date>.jsonl. API: GET /openapi.json.

Options:
  --port <n>              port (0 picks a free one; default 8071)
  --host <address>        loopback address to listen on: 127.0.0.1 (default), ::1 or localhost
  --concurrency <n>       publishes run at once (default 2; two of the same asset never run together)
  --allow-origin <url>    let browser pages of this origin call the bridge (repeatable)
  --plugins <dir>         also load publish plugins from this folder (repeatable; FERRY_PLUGIN_PATH works too)
  --settings <file.json>  publish settings (as for deno task publish)
  --reuse                 when a bridge already serves FERRY_HOME, print its URL and exit 0
  --version               print the version
  -h, --help              show this help

${
  exitCodesHelp({
    [EXIT.OK]: "stopped (SIGINT/SIGTERM), or --help, --version, --reuse",
    [EXIT.FAILED]: "(not used by the bridge: a failed publish is a failed job, not an exit)",
    [EXIT.ENVIRONMENT]:
      "configuration or connection problem: another bridge serves this FERRY_HOME, the tracker cannot be reached, the port is taken",
  })
}`;

const FlagsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8071),
  host: z.string().refine(isLoopbackHost, "must be a loopback address (127.0.0.1, ::1 or localhost)").default(
    "127.0.0.1",
  ),
  concurrency: z.coerce.number().int().min(1).max(64).default(2),
  "allow-origin": z.array(z.string().url("must be an origin such as http://localhost:3000")).default([]),
  plugins: z.array(z.string().min(1)).default([]),
  settings: z.string().min(1).optional(),
  reuse: z.boolean().default(false),
  version: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** Runs the bridge until SIGINT/SIGTERM; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const read = readCommandFlags(args, {
    name: "bridge",
    options: {
      port: { type: "string" },
      host: { type: "string" },
      concurrency: { type: "string" },
      "allow-origin": { type: "string", multiple: true },
      plugins: { type: "string", multiple: true },
      settings: { type: "string" },
      reuse: { type: "boolean" },
    },
    schema: FlagsSchema,
    usage: USAGE,
    versionLine: `ferry bridge ${FERRY_VERSION}`,
  });
  if ("exit" in read) return read.exit;
  const { flags } = read;
  let settings: PublishSettings | undefined;
  try {
    settings = flags.settings ? parsePublishSettings(JSON.parse(await Deno.readTextFile(flags.settings))) : undefined;
  } catch (error) {
    console.error(`bridge: cannot use settings '${flags.settings}': ${(error as Error).message}`);
    return EXIT.USAGE;
  }

  let bridge;
  try {
    bridge = await startBridge({
      port: flags.port,
      hostname: flags.host === "localhost" ? "127.0.0.1" : flags.host,
      concurrency: flags.concurrency,
      allowedOrigins: flags["allow-origin"],
      pluginPaths: flags.plugins,
      settings,
    });
  } catch (error) {
    if (error instanceof BridgeRunningError) {
      if (flags.reuse) {
        console.log(error.info.url);
        return EXIT.OK;
      }
      console.error(`bridge: ${error.message}`);
      return EXIT.ENVIRONMENT;
    }
    if (error instanceof Deno.errors.AddrInUse) {
      console.error(
        `bridge: cannot listen on ${flags.host}:${flags.port}: the port is taken (use --port 0 for a free one)`,
      );
      return EXIT.ENVIRONMENT;
    }
    console.error(`bridge: cannot start: ${(error as Error).message}`);
    return EXIT.ENVIRONMENT;
  }
  // A long-running service: a library's stray error (the tracker client's event hub throws from
  // socket callbacks) is logged, not allowed to stop every job.
  const keepRunning = (event: ErrorEvent | PromiseRejectionEvent) => {
    event.preventDefault();
    const error = "reason" in event ? event.reason : event.error;
    bridge.log.error("uncaught error", { error: String(error), stack: (error as Error)?.stack });
    console.error(`bridge: uncaught error (logged, the bridge keeps running): ${String(error)}`);
  };
  globalThis.addEventListener("error", keepRunning);
  globalThis.addEventListener("unhandledrejection", keepRunning);
  const where = bridge.tracker.kind === "site"
    ? bridge.tracker.credentials.server
    : `the embedded tracker (${bridge.tracker.credentials.server})`;
  console.error(`ferry bridge ${FERRY_VERSION} on ${bridge.url} (FERRY_HOME ${bridge.home}), publishing to ${where}`);
  console.log(bridge.url);

  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  await stopped.promise;
  console.error("bridge: stopping (running jobs resume at the next start)");
  await bridge.close();
  for (const signal of signals) Deno.removeSignalListener(signal, stop);
  return EXIT.OK;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
