import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";

/** Options of {@linkcode expandPaths}. */
export interface ExpandPathsOptions {
  /** Also list the files of sub-folders of folders given. @default {false} */
  recursive?: boolean;
  /** Folder relative inputs are resolved against. @default {process.cwd()} */
  cwd?: string;
}

/** No file matched an input; `input` is the text as given. */
export class NoMatchError extends Error {
  /** The input that matched nothing. */
  readonly input: string;

  /** Creates the error for one input. */
  constructor(input: string, reason: string) {
    super(`Cannot find files for '${input}': ${reason}`);
    this.name = "NoMatchError";
    this.input = input;
  }
}

/**
 * A file-name pattern cannot be used (e.g. the range of `[z-a]` is out of order); it names the
 * pattern. Commands exit with 2 (usage error).
 *
 * @example
 * ```ts
 * import { ok, throws } from "node:assert/strict";
 * import { PatternError, patternToRegExp } from "./expand_paths.ts";
 *
 * throws(() => patternToRegExp("[z-a].exr"), (error) => error instanceof PatternError && error.exitCode === 2);
 * ok(patternToRegExp("[a-z].exr").test("b.exr"));
 * ```
 */
export class PatternError extends SyntaxError {
  /** The pattern as given. */
  readonly pattern: string;
  /** Commands exit with 2 (usage error). */
  readonly exitCode = 2 as const;

  constructor(pattern: string, reason: string, options?: ErrorOptions) {
    super(`Cannot use the pattern '${pattern}': ${reason}`, options);
    this.name = "PatternError";
    this.pattern = pattern;
  }
}

/** Whether the last path segment uses glob or frame-number notation. */
export function isPattern(input: string): boolean {
  return /[*?[]|#|%0?\d*d|\$F\d?/.test(basename(input));
}

/**
 * Turns a file-name pattern into a RegExp: `*` (any text), `?` (one character), `[abc]`, and the
 * frame notations TDs use: `####` (exactly that many digits), `%04d` (four digits), `%d` (digits)
 * and Houdini's `$F4` / `$F`. A pattern that makes no valid expression (`[z-a]`) is a
 * {@linkcode PatternError} naming it.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { patternToRegExp } from "./expand_paths.ts";
 *
 * ok(patternToRegExp("beauty.####.exr").test("beauty.1001.exr"));
 * ok(!patternToRegExp("beauty.%04d.exr").test("beauty.10001.exr"));
 * ```
 */
export function patternToRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    const rest = pattern.slice(i);
    let match: RegExpMatchArray | null;
    if (char === "#") {
      let count = 1;
      while (pattern[i + count] === "#") count++;
      source += `\\d{${count}}`;
      i += count - 1;
    } else if ((match = rest.match(/^%0?(\d*)d/))) {
      source += match[1] ? `\\d{${Number(match[1])}}` : "\\d+";
      i += match[0].length - 1;
    } else if ((match = rest.match(/^\$F(\d?)/))) {
      source += match[1] ? `\\d{${Number(match[1])}}` : "\\d+";
      i += match[0].length - 1;
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else if (char === "[") {
      const close = pattern.indexOf("]", i + 1);
      if (close < 0) {
        source += "\\[";
      } else {
        const body = pattern.slice(i + 1, close).replace(/^!/, "^").replace(/\\/g, "\\\\");
        source += `[${body}]`;
        i = close;
      }
    } else {
      source += char.replace(/[\\^$.*+?()[\]{}|\/-]/g, "\\$&");
    }
  }
  try {
    return new RegExp(`^${source}$`);
  } catch (error) {
    const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/\w*: /, "");
    throw new PatternError(pattern, `${reason.charAt(0).toLowerCase()}${reason.slice(1)}`, { cause: error });
  }
}

/**
 * Expands files, folders and patterns into a sorted, de-duplicated list of absolute file paths.
 * A folder gives its regular files (and those of its sub-folders with `recursive`); a pattern is
 * matched against the names in its folder. An input that matches nothing is an error naming it.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { expandPaths } from "./expand_paths.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.0001.exr`, "");
 * await Deno.writeTextFile(`${dir}/a.0002.exr`, "");
 * const paths = await expandPaths([`${dir}/a.####.exr`]);
 * ok(paths.length === 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function expandPaths(inputs: readonly string[], options: ExpandPathsOptions = {}): Promise<string[]> {
  const { recursive = false, cwd = process.cwd() } = options;
  const found = new Set<string>();
  for (const input of inputs) {
    const absolute = resolve(cwd, input);
    const before = found.size;
    const info = await stat(absolute).catch(() => undefined);
    if (info?.isFile()) {
      found.add(absolute);
    } else if (info?.isDirectory()) {
      await listFolder(absolute, recursive, found);
      if (found.size === before) throw new NoMatchError(input, "the folder has no files");
    } else if (isPattern(input)) {
      const folder = dirname(absolute);
      const regexp = patternToRegExp(basename(absolute));
      const entries = await readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
        throw new NoMatchError(input, `its folder '${folder}' cannot be read (${error.code ?? error.message})`);
      });
      for (const entry of entries) if (entry.isFile() && regexp.test(entry.name)) found.add(join(folder, entry.name));
      if (found.size === before) throw new NoMatchError(input, "no file matches the pattern");
    } else {
      throw new NoMatchError(input, "it does not exist");
    }
  }
  return [...found].sort();
}

async function listFolder(folder: string, recursive: boolean, found: Set<string>): Promise<void> {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isFile()) found.add(path);
    else if (recursive && entry.isDirectory()) await listFolder(path, recursive, found);
  }
}
