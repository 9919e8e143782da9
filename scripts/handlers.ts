/**
 * `deno task handlers`: packages custom handler folders as archives and keeps them in the
 * pipeline store for the processors of a variant.
 *
 * @module
 */
import { basename, resolve } from "node:path";
import { z } from "zod";
import { UsageError } from "../src/cli/args.ts";
import { EXIT, exitCodesHelp } from "../src/cli/exit_codes.ts";
import { openCommandStore } from "../src/cli/open_command_store.ts";
import { readCommandFlags } from "../src/cli/read_command_flags.ts";
import { VariantSchema } from "../src/store/mod.ts";
import {
  HandlerArchiveError,
  MANIFEST_VERSION,
  packageHandlerFolder,
  readHandlerArchive,
} from "../services/processor/handler_archive.ts";

export const USAGE = `Usage:
  deno task handlers package <folder> [--out <file.zip|file.tar.gz>]
  deno task handlers add <archive> --variant production|staging|dev [--name <name>]
  deno task handlers list [--variant <name>]
  deno task handlers remove <name> --variant <name>

Custom handler archives (ayon-ftrack's manifest.json ${MANIFEST_VERSION}): a .zip or .tar.gz holding
manifest.json at its root:

  { "version": "1.0.0", "handler_subfolders": ["handlers"], "module_path_subfolders": ["lib"] }

Processors take the archives of their variant when they start, into a folder of their own, and
load the handler modules of handler_subfolders (module_path_subfolders hold shared modules the
handlers import relatively; they are not searched). A handler module exports defineHandler(…)
results or plain { name, subscription, priority, settingsKey, handle } objects.

  package  packs a folder; its manifest.json is used, or one is written (handler_subfolders:
           "handlers" when that folder exists, else "."; module_path_subfolders: "lib" if present)
  add      checks an archive (manifest version, subfolders, no path escaping it) and stores it;
           one with the same name and variant is replaced
  list     the stored archives
  remove   removes one

Options:
  --store <where>     SQLite file or postgres:// URL (default: FERRY_STORE, else $FERRY_HOME/store.db)
  --variant <name>    production, staging or dev
  --name <name>       archive name (default: the file name without its extension)
  --out <file>        where package writes (default: <folder>.zip); .tar.gz makes a tar.gz
  --json              JSON output (list)
  -h, --help          show this help

${
  exitCodesHelp({
    1: "the archive or folder was refused (the message says why), or no such archive",
    3: "the store could not be opened",
  })
}`;

const FlagsSchema = z.object({
  store: z.string().min(1).optional(),
  variant: VariantSchema.optional(),
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "may hold letters, digits and _ . - only").optional(),
  out: z.string().min(1).optional(),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** Runs the command; resolves to the exit code. */
export async function main(args: string[], write = (text: string) => console.log(text)): Promise<number> {
  const read = readCommandFlags(args, {
    name: "handlers",
    options: {
      store: { type: "string" },
      variant: { type: "string" },
      name: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
    },
    schema: FlagsSchema,
    usage: USAGE,
    positionals: true,
    write,
    check: ({ flags, positionals }) => {
      const [command = "", target] = positionals;
      if (!["package", "add", "list", "remove"].includes(command)) {
        throw new UsageError(
          command
            ? `Unknown command '${command}': use package, add, list or remove`
            : "Name a command: package, add, list or remove",
        );
      }
      if (command !== "list" && target === undefined) {
        throw new UsageError(
          `'${command}' needs ${
            command === "remove" ? "an archive name" : command === "add" ? "an archive" : "a folder"
          }`,
        );
      }
      if ((command === "add" || command === "remove") && flags.variant === undefined) {
        throw new UsageError(`'${command}' needs --variant`);
      }
      if (positionals.length > (command === "list" ? 1 : 2)) {
        throw new UsageError(`Unexpected argument '${positionals.at(-1)}'`);
      }
    },
  });
  if ("exit" in read) return read.exit;
  const { flags } = read;
  const [command, target] = read.positionals as [string, string | undefined];
  try {
    if (command === "package") {
      const folder = resolve(target!);
      const out = flags.out ?? `${folder.replace(/[\\/]+$/, "")}.zip`;
      const format = /\.(tar\.gz|tgz)$/i.test(out) ? "tar.gz" : "zip";
      const { bytes, manifest } = await packageHandlerFolder(folder, { format });
      await Deno.writeFile(out, bytes);
      write(`Wrote ${out} (${bytes.length} bytes; handlers in ${manifest.handler_subfolders.join(", ")}).`);
      return EXIT.OK;
    }
  } catch (error) {
    console.error((error as Error).message);
    return EXIT.FAILED;
  }
  const opened = await openCommandStore({ store: flags.store, create: command === "add" });
  if ("exit" in opened) return opened.exit;
  const { store } = opened;
  try {
    if (command === "add") {
      const filename = basename(target!);
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(target!);
      } catch (error) {
        console.error(`Cannot read handler archive '${target}': ${(error as Error).message}`);
        return EXIT.FAILED;
      }
      const { manifest } = readHandlerArchive(filename, bytes);
      const name = flags.name ?? filename.replace(/\.(zip|tar\.gz|tgz)$/i, "");
      await store.addArchive({ name, variant: flags.variant!, filename, manifest }, bytes);
      write(
        `Stored handler archive '${name}' for ${flags.variant} (${bytes.length} bytes); processors of ${flags.variant} load it when they start.`,
      );
      return EXIT.OK;
    }
    if (command === "list") {
      const archives = await store.listArchives(flags.variant);
      if (flags.json) write(JSON.stringify(archives, null, 2));
      else if (archives.length === 0) write("No handler archives.");
      else {
        write(
          archives.map((a) =>
            `${a.variant.padEnd(10)} ${a.name.padEnd(24)} ${a.filename}  ${a.size} bytes  added ${
              new Date(a.addedAt).toISOString()
            }`
          ).join("\n"),
        );
      }
      return EXIT.OK;
    }
    if (await store.removeArchive(target!, flags.variant!)) {
      write(`Removed handler archive '${target}' of ${flags.variant}.`);
      return EXIT.OK;
    }
    console.error(`No handler archive '${target}' for ${flags.variant}.`);
    return EXIT.FAILED;
  } catch (error) {
    if (error instanceof HandlerArchiveError) {
      console.error(error.message);
      return EXIT.FAILED;
    }
    throw error;
  } finally {
    await store.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
