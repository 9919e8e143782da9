import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";

/** A command-line usage error: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  /** Commands exit with 2 (usage error). */
  readonly exitCode = 2 as const;

  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses flags with `node:util`'s `parseArgs`, then validates them with a zod schema, so every
 * bad flag is reported by name with the value given.
 */
export function parseFlags<S extends z.ZodType>(
  args: string[],
  options: NonNullable<ParseArgsConfig["options"]>,
  schema: S,
): { flags: z.infer<S>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const result = schema.safeParse(parsed.values);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const flag = issue.path.join(".");
      const given = (parsed.values as Record<string, unknown>)[flag];
      return `--${flag}${given === undefined ? "" : ` '${given}'`}: ${issue.message}`;
    });
    throw new UsageError(problems.join("\n"));
  }
  return { flags: result.data, positionals: parsed.positionals };
}
