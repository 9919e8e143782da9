import { z } from "zod";

/** The parts of `deno.json` the npm build reads: the package's name, its version and the import map. */
export const DenoConfigSchema = z.object({
  name: z.string().regex(
    /^@[a-z0-9-~][a-z0-9-._~]*\/[a-z0-9-~][a-z0-9-._~]*$/,
    "expected a scoped name like @ferry/ferry",
  ),
  version: z.string().regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/, "expected a semver version"),
  imports: z.record(z.string(), z.string()).default({}),
});

/** `deno.json`, validated. */
export type DenoConfig = z.infer<typeof DenoConfigSchema>;

/**
 * Validates the text of `deno.json`; a `TypeError` names the file and every bad field with its value.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseDenoConfig } from "./deno_config.ts";
 *
 * const config = parseDenoConfig(`{ "name": "@ferry/ferry", "version": "0.1.0" }`, "deno.json");
 * ok(config.version === "0.1.0" && Object.keys(config.imports).length === 0);
 * ```
 */
export function parseDenoConfig(text: string, path: string): DenoConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`Cannot read '${path}': ${(error as Error).message}`, { cause: error });
  }
  const result = DenoConfigSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const field = issue.path.join(".");
      const given = issue.path.reduce<unknown>(
        (value, key) => (value as Record<PropertyKey, unknown> | undefined)?.[key],
        json,
      );
      return `${field || "(root)"} ${JSON.stringify(given)}: ${issue.message}`;
    });
    throw new TypeError(`Cannot read '${path}': ${problems.join("; ")}`);
  }
  return result.data;
}
