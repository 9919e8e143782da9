/**
 * `deno task settings`: shows and sets the event services' settings per variant, with project
 * overrides, in the pipeline store.
 *
 * @module
 */
import { z } from "zod";
import { UsageError } from "../src/cli/args.ts";
import { EXIT, exitCodesHelp } from "../src/cli/exit_codes.ts";
import { openCommandStore } from "../src/cli/open_command_store.ts";
import { readCommandFlags } from "../src/cli/read_command_flags.ts";
import { serviceConfig } from "../src/cli/service_config.ts";
import { ferryHome } from "../src/config/ferry_home.ts";
import type { Variant } from "../src/store/mod.ts";

export const USAGE = `Usage:
  deno task settings show [--variant production|staging|dev] [--project <name>] [--stored]
  deno task settings set <file.json> [--variant <name>] [--project <name>]

The event services' settings, one document per variant (production, staging, dev) with
per-project overrides. 'show' prints the settings a service of that variant uses (for the
project when one is named: the studio document with the project's override on top); --stored
prints the stored document alone. 'set' replaces the studio document, or the project's override
with --project; it is checked first (a bad value is refused, naming the field and the value).

  {
    "enabled": true,
    "processor": { "maxRetries": 3, "retryBackoffMs": 1000, "leaseMs": 4000, "batchSize": 16,
                   "parallelProjects": false, "concurrency": 4 },
    "handlers": { "<settings key>": { "enabled": true, "…": "what the handler reads" } }
  }

Options:
  --store <where>    SQLite file or postgres:// URL (default: FERRY_STORE, else $FERRY_HOME/store.db)
  --variant <name>   default: FERRY_VARIANT, else production
  --project <name>   a project's override
  -h, --help         show this help

${exitCodesHelp({ 1: "the document was refused (the message says why)", 3: "the store could not be opened" })}`;

const FlagsSchema = z.object({
  store: z.string().min(1).optional(),
  variant: z.string().optional(),
  project: z.string().min(1).optional(),
  stored: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** Runs the command; resolves to the exit code. */
export async function main(args: string[], write = (text: string) => console.log(text)): Promise<number> {
  let variant: Variant = "production";
  const read = readCommandFlags(args, {
    name: "settings",
    options: {
      store: { type: "string" },
      variant: { type: "string" },
      project: { type: "string" },
      stored: { type: "boolean" },
    },
    schema: FlagsSchema,
    usage: USAGE,
    positionals: true,
    write,
    check: ({ flags, positionals }) => {
      const [command = ""] = positionals;
      if (command !== "show" && command !== "set") {
        throw new UsageError(command ? `Unknown command '${command}': use show or set` : "Name a command: show or set");
      }
      if (command === "set" && positionals[1] === undefined) throw new UsageError("'set' needs a JSON file");
      if (positionals.length > (command === "set" ? 2 : 1)) {
        throw new UsageError(`Unexpected argument '${positionals.at(-1)}'`);
      }
      ({ variant } = serviceConfig({ variant: flags.variant, env: Deno.env.toObject(), home: ferryHome() }));
    },
  });
  if ("exit" in read) return read.exit;
  const { flags } = read;
  const [command, file] = read.positionals as [string, string | undefined];
  const scope = flags.project ? { project: flags.project } : {};
  const opened = await openCommandStore({ store: flags.store, create: command === "set" });
  if ("exit" in opened) return opened.exit;
  const { store } = opened;
  try {
    if (command === "show") {
      const shown = flags.stored
        ? await store.getSettingsDocument(variant, scope)
        : await store.getSettings(variant, scope);
      write(JSON.stringify(shown, null, 2));
      return EXIT.OK;
    }
    let document: unknown;
    try {
      document = JSON.parse(await Deno.readTextFile(file!));
    } catch (error) {
      console.error(`Cannot read settings file '${file}': ${(error as Error).message}`);
      return EXIT.FAILED;
    }
    try {
      await store.setSettings(variant, document as Record<string, unknown>, scope);
    } catch (error) {
      console.error((error as Error).message);
      return EXIT.FAILED;
    }
    write(
      `Stored the ${
        flags.project ? `override of project '${flags.project}'` : "studio settings"
      } for ${variant}; processors use it within seconds (parallelProjects, concurrency and batchSize at their next start).`,
    );
    return EXIT.OK;
  } finally {
    await store.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
