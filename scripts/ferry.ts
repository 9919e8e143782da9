/**
 * `ferry`: the command line of the single binary (`deno task compile`), one subcommand per command of
 * `deno task`: `ferry publish …` is `deno task publish …`. A thin dispatcher: each subcommand is its
 * command's own `main(args)`.
 *
 * @module
 */
import { main as demo, USAGE as DEMO_USAGE } from "./demo.ts";
import { main as events, USAGE as EVENTS_USAGE } from "./events.ts";
import { main as handlers, USAGE as HANDLERS_USAGE } from "./handlers.ts";
import { main as publish, USAGE as PUBLISH_USAGE } from "./publish.ts";
import { main as pipeline, USAGE as PIPELINE_USAGE } from "./pipeline.ts";
import { main as scan, USAGE as SCAN_USAGE } from "./scan.ts";
import { main as settings, USAGE as SETTINGS_USAGE } from "./settings.ts";
import { main as sync, USAGE as SYNC_USAGE } from "./sync.ts";
import { FERRY_VERSION, versionLine } from "./bin/_run_binary.ts";

/** A subcommand of `ferry`. */
export interface Subcommand {
  /** One line saying what it does. */
  summary: string;
  /** Its usage text (written for `deno task <name>`). */
  usage: string;
  /** Runs it; resolves to the exit code. */
  main: (args: string[]) => Promise<number>;
}

/** The subcommands, by name. */
export const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  publish: { summary: "publish files and image sequences as tracker versions", usage: PUBLISH_USAGE, main: publish },
  scan: { summary: "list the image sequences and files in folders or patterns", usage: SCAN_USAGE, main: scan },
  demo: { summary: "publish a demo image sequence to the embedded tracker", usage: DEMO_USAGE, main: demo },
  events: { summary: "list, show and retry the events of the pipeline store", usage: EVENTS_USAGE, main: events },
  handlers: {
    summary: "manage the processor's handler archives per settings variant",
    usage: HANDLERS_USAGE,
    main: (args) => handlers(args),
  },
  settings: {
    summary: "show and set the event services' settings per variant and project",
    usage: SETTINGS_USAGE,
    main: (args) => settings(args),
  },
  sync: { summary: "sync tracker projects into the pipeline store", usage: SYNC_USAGE, main: (args) => sync(args) },
  pipeline: {
    summary: "read and change the pipeline store (the transmitter carries changes to the tracker)",
    usage: PIPELINE_USAGE,
    main: (args) => pipeline(args),
  },
};

/** The usage text of `ferry`. */
export const USAGE = `Usage: ferry <command> [options]

ferry's command line (the commands of 'deno task', in one binary):

${Object.entries(SUBCOMMANDS).map(([name, command]) => `  ${name.padEnd(10)}${command.summary}`).join("\n")}

  ferry <command> --help   the options of a command
  ferry --version          ferry's version, Deno's version and the target
  ferry --help             this text

The services are binaries of their own: ferry-tracker, ferry-bridge, ferry-leecher, ferry-processor,
ferry-transmitter, ferry-web.`;

/**
 * Runs `ferry` with its arguments; resolves to the exit code (2 for an unknown command).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { main } from "./ferry.ts";
 *
 * ok(await main(["--help"]) === 0);
 * ok(await main(["no-such-command"]) === 2);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === "--version" || name === "-V") {
    console.log(versionLine("ferry", { ferry: FERRY_VERSION, deno: Deno.version.deno, target: Deno.build.target }));
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    const command = topic === undefined ? undefined : SUBCOMMANDS[topic];
    if (topic !== undefined && command === undefined) return unknown(topic);
    console.log(command ? usageOf(topic!, command) : USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = SUBCOMMANDS[name];
  if (command === undefined) return unknown(name);
  if (rest.length === 1 && (rest[0] === "--help" || rest[0] === "-h")) {
    console.log(usageOf(name, command));
    return 0;
  }
  return await command.main(rest);
}

/** A subcommand's usage text under `ferry`: `deno task scan` becomes `ferry scan`. */
function usageOf(name: string, command: Subcommand): string {
  return command.usage.replaceAll(`deno task ${name}`, `ferry ${name}`);
}

function unknown(name: string): number {
  console.error(`ferry: unknown command '${name}': use one of ${Object.keys(SUBCOMMANDS).join(", ")}\n\n${USAGE}`);
  return 2;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
