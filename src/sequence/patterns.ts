/**
 * The digits group every assemble pattern must contain exactly once: the frame number with its
 * optional zero padding. clique's `DIGITS_PATTERN`, in JavaScript's named-group syntax. Python's
 * `(?P<name>…)` spelling is accepted in string patterns too.
 *
 * Digits are ASCII `0`–`9` only (Python's `\d` would also take other scripts' digits).
 */
export const DIGITS_PATTERN = String.raw`(?<index>(?<padding>0*)\d+)`;

/**
 * The preset patterns of {@linkcode assemble}, as clique's `PATTERNS` plus `digits`:
 * - `digits`: every run of digits anywhere (the default);
 * - `frames`: a dot-delimited number before a final extension (`.0001.exr`, also `.0001.tar.gz`);
 * - `versions`: a number after `v` (`_v003`), the `v` staying in the head.
 */
export const PATTERNS = {
  digits: DIGITS_PATTERN,
  frames: String.raw`\.${DIGITS_PATTERN}\.\D+\d?$`,
  versions: `v${DIGITS_PATTERN}`,
} as const;

/** A preset name, or a pattern string or RegExp containing {@linkcode DIGITS_PATTERN} exactly once. */
export type AssemblePattern = keyof typeof PATTERNS | string | RegExp;

/** A pattern ready for matching: the fast digit-run scanner or a global RegExp with indices. */
export type CompiledPattern = { kind: "digits" } | { kind: "regexp"; regexp: RegExp };

/**
 * Validates and compiles one pattern. Strings are compiled case-insensitively when
 * `caseSensitive` is false; RegExps are used with their own flags, as clique does.
 */
export function compilePattern(pattern: AssemblePattern, caseSensitive: boolean): CompiledPattern {
  if (pattern === "digits") return { kind: "digits" };
  if (typeof pattern === "string") {
    const source = pattern in PATTERNS ? PATTERNS[pattern as keyof typeof PATTERNS] : pattern.replaceAll("(?P<", "(?<");
    checkDigitsGroup(source, pattern);
    let regexp: RegExp;
    try {
      regexp = new RegExp(source, caseSensitive ? "gd" : "gdi");
    } catch (error) {
      throw new SyntaxError(`Cannot use assemble pattern '${pattern}': ${(error as Error).message}`, { cause: error });
    }
    return { kind: "regexp", regexp };
  }
  if (pattern instanceof RegExp) {
    checkDigitsGroup(pattern.source, pattern);
    const flags = new Set(pattern.flags);
    flags.add("g");
    flags.add("d");
    flags.delete("y");
    return { kind: "regexp", regexp: new RegExp(pattern.source, [...flags].join("")) };
  }
  throw new TypeError(`Cannot use assemble pattern '${String(pattern)}': expected a preset name, string or RegExp`);
}

function checkDigitsGroup(source: string, original: string | RegExp): void {
  const count = source.split(DIGITS_PATTERN).length - 1;
  if (count !== 1) {
    throw new TypeError(
      `Cannot use assemble pattern '${String(original)}': it must contain the digits group ` +
        `${DIGITS_PATTERN} exactly once, found ${count}`,
    );
  }
}
