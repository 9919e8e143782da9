/**
 * `deno task tracker`: the embedded ftrack-compatible tracker.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { ferryHome } from "../../src/config/ferry_home.ts";
import { parseFlags, UsageError } from "../../src/cli/args.ts";
import { startTracker } from "./server.ts";
import { Tracker } from "./tracker.ts";
import { TrackerError } from "./schema/catalog.ts";

export const USAGE = `Usage:
  deno task tracker [--port 8070] [--host 127.0.0.1] [--data <dir>] [--api-user <name> --api-key <key>]
  deno task tracker user add <username> [--first-name <name>] [--last-name <name>] [--email <address>] [--data <dir>]

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
  -h, --help          show this help

'user add' creates another user (an artist, a service's own user) and prints its API key.`;

const ServeFlags = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8070),
  host: z.string().min(1).default("127.0.0.1"),
  data: z.string().min(1).optional(),
  "api-user": z.string().min(1).optional(),
  "api-key": z.string().min(8, "an API key needs at least 8 characters").optional(),
  ffmpeg: z.string().min(1).default("ffmpeg"),
  ffprobe: z.string().min(1).default("ffprobe"),
  "max-request-size": z.string().regex(/^\d+\s*([kmg]i?b?)?$/i, "give bytes, or a size such as 64MiB").transform(
    (text) => {
      const unit = /[kmg]/i.exec(text)?.[0].toLowerCase();
      return parseInt(text, 10) * (unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1);
    },
  ).pipe(z.number().int().min(1024, "at least 1KiB").max(Number.MAX_SAFE_INTEGER)).optional(),
  help: z.boolean().default(false),
});

const UserFlags = z.object({
  data: z.string().min(1).optional(),
  "first-name": z.string().optional(),
  "last-name": z.string().optional(),
  email: z.string().email().optional(),
  help: z.boolean().default(false),
});

function defaultData(): string {
  return join(ferryHome(), "tracker");
}

/** Runs the command; returns the exit code (the server keeps running until interrupted). */
export async function main(args: string[]): Promise<number> {
  try {
    if (args[0] === "user") {
      if (args[1] !== "add") {
        throw new UsageError(`Unknown command 'user ${args[1] ?? ""}': use 'user add <username>'.`);
      }
      const { flags, positionals } = parseFlags(args.slice(2), {
        data: { type: "string" },
        "first-name": { type: "string" },
        "last-name": { type: "string" },
        email: { type: "string" },
        help: { type: "boolean", short: "h" },
      }, UserFlags);
      if (flags.help) {
        console.log(USAGE);
        return 0;
      }
      const username = positionals[0];
      if (!username || positionals.length > 1) throw new UsageError("Give exactly one username to 'user add'.");
      const tracker = await Tracker.open({ data: flags.data ?? defaultData() });
      try {
        const { user, apiKey } = tracker.addUser({
          username,
          first_name: flags["first-name"],
          last_name: flags["last-name"],
          email: flags.email,
        });
        console.log(`user:    ${user.username} (${user.id})\napi key: ${apiKey}`);
      } finally {
        await tracker.close();
      }
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
      "max-request-size": { type: "string" },
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
    });
    console.log(
      `ferry tracker listening\n  FTRACK_SERVER=${running.url}\n  FTRACK_API_USER=${running.apiUser}\n  FTRACK_API_KEY=${running.apiKey}\n  data: ${data}`,
    );
    const stop = async () => {
      console.log("stopping the tracker …");
      await running.close();
      Deno.exit(0);
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await new Promise(() => {});
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`tracker: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof TrackerError) {
      console.error(`tracker: ${error.message}`);
      return 1;
    }
    if (error instanceof Deno.errors.AddrInUse) {
      console.error(`tracker: the port is already in use (${error.message}); choose another with --port`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
