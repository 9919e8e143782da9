import type { ParseArgsConfig } from "node:util";
import type { z } from "zod";
import { parseFlags, UsageError } from "./args.ts";
import { EXIT } from "./exit_codes.ts";

/** Options of {@linkcode readCommandFlags}. */
export interface ReadCommandFlagsOptions<S extends z.ZodType<{ help: boolean; version?: boolean }>> {
  /** The command's name, put before a usage error (`bridge: …`). */
  name: string;
  /** `parseArgs` options; `help` (`-h`) is added, and `version` when there is a `versionLine`. */
  options: NonNullable<ParseArgsConfig["options"]>;
  schema: S;
  usage: string;
  /** The line `--version` prints. @default {undefined (no --version flag)} */
  versionLine?: string;
  /** Whether positional arguments are taken. @default {false} */
  positionals?: boolean;
  /**
   * Further checks of the flags and positionals (a subcommand, a needed argument): a
   * {@linkcode UsageError} thrown here is reported like a bad flag (exit 2).
   */
  check?: (parsed: { flags: z.infer<S>; positionals: string[] }) => void;
  /** Where `--help` and `--version` print. @default {console.log} */
  write?: (text: string) => void;
}

/**
 * A command's flags, or the exit code it ends with: `--help` prints the usage (0), `--version`
 * the version line (0), a bad flag, an unexpected argument or a failed `check` the error and the
 * usage on stderr (2). `--help` wins over a failed `check` (`deno task x list --help`).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { z } from "zod";
 * import { readCommandFlags } from "./read_command_flags.ts";
 *
 * const schema = z.object({ port: z.coerce.number().default(8071), version: z.boolean().default(false), help: z.boolean().default(false) });
 * const read = readCommandFlags(["--port", "0"], { name: "demo", options: { port: { type: "string" } }, schema, usage: "Usage: demo", versionLine: "demo 1" });
 * ok("flags" in read && read.flags.port === 0);
 * ```
 */
export function readCommandFlags<S extends z.ZodType<{ help: boolean; version?: boolean }>>(
  args: string[],
  options: ReadCommandFlagsOptions<S>,
): { flags: z.infer<S>; positionals: string[] } | { exit: number } {
  const { name, schema, usage, versionLine, write = (text: string) => console.log(text) } = options;
  let parsed: { flags: z.infer<S>; positionals: string[] };
  try {
    parsed = parseFlags(args, {
      ...options.options,
      ...(versionLine === undefined ? {} : { version: { type: "boolean" } }),
      help: { type: "boolean", short: "h" },
    }, schema);
    if (parsed.flags.help) {
      write(usage);
      return { exit: EXIT.OK };
    }
    if (parsed.flags.version && versionLine !== undefined) {
      write(versionLine);
      return { exit: EXIT.OK };
    }
    if (!options.positionals && parsed.positionals.length > 0) {
      throw new UsageError(`Unexpected argument '${parsed.positionals[0]}'`);
    }
    options.check?.(parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${name}: ${error.message}\n\n${usage}`);
      return { exit: EXIT.USAGE };
    }
    throw error;
  }
  return parsed;
}
