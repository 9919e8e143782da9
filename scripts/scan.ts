/**
 * `deno task scan`: lists the image sequences and single files in folders, files or patterns,
 * with sizes, holes and (on request) fingerprints.
 *
 * @module
 */
import { relative } from "node:path";
import { z } from "zod";
import { expandPaths, NoMatchError, PatternError } from "../src/files/expand_paths.ts";
import { type FoundFile, type FoundSequence, scanFiles } from "../src/files/scan_files.ts";
import { FingerprintError } from "../src/fingerprint/fingerprint_error.ts";
import { HASH_ALGORITHMS } from "../src/fingerprint/algorithm.ts";
import { formatBytes } from "../src/units/format_bytes.ts";
import { parseFlags, UsageError } from "../src/cli/args.ts";
import { EXIT, exitCodesHelp } from "../src/cli/exit_codes.ts";
import { Progress } from "./cli/progress.ts";

export const USAGE = `Usage: deno task scan [options] <folder|file|pattern>...

Lists the image sequences (clique's rules) and single files, folder by folder:
  beauty.%04d.exr [1001-1100] (99 files, 1.2 GB, holes: 1050)

Patterns: * ? [abc], and frame notations #### %04d %d $F4.

Options:
  --fingerprint        also fingerprint every file (SHA-1), with a combined digest per sequence
  --algorithm <name>   digest algorithm: ${HASH_ALGORITHMS.join(", ")} (implies --fingerprint)
  -r, --recursive      include the files of sub-folders
  --minimum <n>        fewest frames that make a sequence (default 2)
  --assume-padded      write 1001-1100 as %04d rather than %d (clique's assume_padded_when_ambiguous)
  --ignore-case        group names that differ only in case (sequences come out lower-case)
  --json               print JSON instead of text
  -h, --help           show this help

${
  exitCodesHelp({
    [EXIT.OK]: "done",
    [EXIT.FAILED]: "a path or file could not be read (or matched nothing)",
    [EXIT.USAGE]: "usage error: a bad flag or pattern (e.g. '[z-a]')",
    [EXIT.ENVIRONMENT]: "configuration problem (not used by scan today)",
  })
}`;

const FlagsSchema = z.object({
  fingerprint: z.boolean().default(false),
  algorithm: z.enum(HASH_ALGORITHMS).optional(),
  recursive: z.boolean().default(false),
  minimum: z.coerce.number().int().min(1).default(2),
  "ignore-case": z.boolean().default(false),
  "assume-padded": z.boolean().default(false),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** Runs the command; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(args, {
      fingerprint: { type: "boolean" },
      algorithm: { type: "string" },
      recursive: { type: "boolean", short: "r" },
      minimum: { type: "string" },
      "ignore-case": { type: "boolean" },
      "assume-padded": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    }, FlagsSchema);
    if (parsed.flags.help) {
      console.log(USAGE);
      return 0;
    }
    if (parsed.positionals.length === 0) throw new UsageError("Give at least one folder, file or pattern to scan.");
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`scan: ${error.message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const { flags, positionals } = parsed;
  const algorithm = flags.algorithm ?? (flags.fingerprint ? "sha1" : undefined);
  try {
    const paths = await expandPaths(positionals, { recursive: flags.recursive });
    const progress = algorithm && !flags.json ? new Progress({ label: `${algorithm}` }) : undefined;
    const found = await scanFiles(paths, {
      assemble: {
        minimumItems: flags.minimum,
        caseSensitive: !flags["ignore-case"],
        assumePaddedWhenAmbiguous: flags["assume-padded"],
      },
      fingerprint: algorithm,
      onProgress: progress ? (p) => progress.update(p.bytes, p.totalBytes) : undefined,
    });
    progress?.finish();
    console.log(flags.json ? JSON.stringify(toJson(found), null, 2) : toText(found));
    return EXIT.OK;
  } catch (error) {
    if (error instanceof PatternError) {
      console.error(`scan: ${error.message}\n\nRun 'deno task scan --help' for the patterns.`);
      return EXIT.USAGE;
    }
    // Unreadable paths and files, and anything unexpected: one line, exit 1 (FERRY_DEBUG=1 for the stack).
    console.error(`scan: ${(error as Error)?.message ?? String(error)}`);
    if (!(error instanceof NoMatchError || error instanceof FingerprintError) && Deno.env.get("FERRY_DEBUG")) {
      console.error((error as Error)?.stack);
    }
    return EXIT.FAILED;
  }
}

function describeSequence(sequence: FoundSequence): string {
  const { collection } = sequence;
  const holes = collection.holes();
  const parts = [`${collection.size} files`, formatBytes(sequence.bytes)];
  if (holes.size > 0) parts.push(`holes: ${holes.format("{ranges}")}`);
  const digest = sequence.fingerprint ? ` ${sequence.fingerprint.algorithm}:${sequence.fingerprint.hex}` : "";
  return `${collection.format()} (${parts.join(", ")})${digest}`;
}

function toText(found: Array<FoundSequence | FoundFile>): string {
  const lines: string[] = [];
  let folder: string | undefined;
  const cwd = Deno.cwd();
  const heading = (directory: string) => {
    if (directory === folder) return;
    folder = directory;
    const near = relative(cwd, directory);
    lines.push(`${near === "" ? "." : near.startsWith("..") ? directory : near}:`);
  };
  for (const item of found) {
    if (item.kind === "sequence") {
      heading(item.directory);
      lines.push(`  ${describeSequence(item)}`);
    }
  }
  for (const item of found) {
    if (item.kind !== "file") continue;
    const at = item.path.lastIndexOf("/");
    heading(item.path.slice(0, at) || "/");
    const digest = item.fingerprint ? ` ${item.fingerprint.algorithm}:${item.fingerprint.hex}` : "";
    lines.push(`  ${item.path.slice(at + 1)} (${formatBytes(item.bytes)})${digest}`);
  }
  const sequences = found.filter((item) => item.kind === "sequence").length;
  lines.push(
    `${sequences} sequence${sequences === 1 ? "" : "s"}, ${found.length - sequences} single file${
      found.length - sequences === 1 ? "" : "s"
    }`,
  );
  return lines.join("\n");
}

function toJson(found: Array<FoundSequence | FoundFile>) {
  return {
    sequences: found.filter((item): item is FoundSequence => item.kind === "sequence").map((sequence) => ({
      directory: sequence.directory,
      pattern: sequence.collection.format("{head}{padding}{tail}"),
      head: sequence.collection.head,
      tail: sequence.collection.tail,
      padding: sequence.collection.padding,
      frames: sequence.collection.format("{ranges}"),
      first: sequence.collection.first,
      last: sequence.collection.last,
      holes: sequence.collection.holes().format("{ranges}"),
      files: sequence.collection.size,
      bytes: sequence.bytes,
      fingerprint: sequence.fingerprint
        ? {
          algorithm: sequence.fingerprint.algorithm,
          hex: sequence.fingerprint.hex,
          members: sequence.fingerprint.members.map((member) => member.hex),
        }
        : undefined,
    })),
    files: found.filter((item): item is FoundFile => item.kind === "file").map((file) => ({
      path: file.path,
      bytes: file.bytes,
      fingerprint: file.fingerprint,
    })),
  };
}

if (import.meta.main) Deno.exit(await main(Deno.args));
