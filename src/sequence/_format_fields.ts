/** A piece of a parsed format pattern: literal text or a `{field}`. */
export type FormatPiece = { kind: "text"; text: string } | { kind: "field"; name: string };

/**
 * Splits a Python `str.format`-style pattern into literal text and `{field}` names, with `{{` and
 * `}}` as escaped braces. Conversions and format specs (`{range!r}`, `{head:>10}`) are not
 * supported and, like an unbalanced brace, raise a `SyntaxError` naming the pattern.
 */
export function parseFormatPattern(pattern: string): FormatPiece[] {
  const pieces: FormatPiece[] = [];
  let text = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "{") {
      if (pattern[i + 1] === "{") {
        text += "{";
        i++;
        continue;
      }
      const close = pattern.indexOf("}", i + 1);
      if (close < 0) throw new SyntaxError(`Cannot use format pattern '${pattern}': '{' at ${i} is never closed`);
      const name = pattern.slice(i + 1, close);
      if (!/^[a-z_]+$/.test(name)) {
        throw new SyntaxError(
          `Cannot use format pattern '${pattern}': field '{${name}}' is not a plain field name`,
        );
      }
      if (text) pieces.push({ kind: "text", text });
      text = "";
      pieces.push({ kind: "field", name });
      i = close;
    } else if (char === "}") {
      if (pattern[i + 1] !== "}") {
        throw new SyntaxError(`Cannot use format pattern '${pattern}': single '}' at ${i}`);
      }
      text += "}";
      i++;
    } else {
      text += char;
    }
  }
  if (text) pieces.push({ kind: "text", text });
  return pieces;
}
