import type { ParseArgsConfig } from "node:util";
import type { z } from "zod";
import { parseFlags, UsageError } from "./args.ts";
import { EXIT } from "./exit_codes.ts";

/** Options of {@linkcode readCommandFlags}. */
export interface ReadCommandFlagsOptions<S extends z.ZodType<{ help: boolean; version?: boolean }>> {
  /** The command's name, put before a usage error (`bridge: …`). */
  name: string;
  /** `parseArgs` options; `help` (`-h`) and `version` are added. */
  options: NonNullable<ParseArgsConfig["options"]>;
  schema: S;
  usage: string;
  /** The line `--version` prints. */
  versionLine: string;
  /** Whether positional arguments are taken. @default {false} */
  positionals?: boolean;
}

/**
 * A command's flags, or the exit code it ends with: `--help` prints the usage (0), `--version`
 * the version line (0), a bad flag or an unexpected argument the error and the usage (2).
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
  const { name, schema, usage } = options;
  let parsed: { flags: z.infer<S>; positionals: string[] };
  try {
    parsed = parseFlags(args, {
      ...options.options,
      version: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    }, schema);
    if (!options.positionals && parsed.positionals.length > 0) {
      throw new UsageError(`Unexpected argument '${parsed.positionals[0]}'`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${name}: ${error.message}\n\n${usage}`);
      return { exit: EXIT.USAGE };
    }
    throw error;
  }
  if (parsed.flags.help) {
    console.log(usage);
    return { exit: EXIT.OK };
  }
  if (parsed.flags.version) {
    console.log(options.versionLine);
    return { exit: EXIT.OK };
  }
  return parsed;
}
