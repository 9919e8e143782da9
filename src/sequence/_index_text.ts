/**
 * Formats a frame number the way Python's `"%0Nd" % index` does: zero-padded to `padding`
 * characters, the minus sign counting towards the width (`-5` at padding 4 is `"-005"`).
 */
export function formatIndex(index: number, padding: number): string {
  if (index < 0) {
    return "-" + String(-index).padStart(padding - 1, "0");
  }
  return String(index).padStart(padding, "0");
}

/** The number of decimal digits of `|index|`, as clique's `len(str(abs(index)))`. */
export function indexWidth(index: number): number {
  return String(index < 0 ? -index : index).length;
}

/** Whether the UTF-16 code unit is an ASCII digit `0`–`9`. */
export function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Reads the ASCII digits `text[start..end)` as an integer, or `null` when the value is beyond
 * `Number.MAX_SAFE_INTEGER` (ferry treats such digit runs as not being frame numbers).
 */
export function readIndex(text: string, start: number, end: number): number | null {
  if (end - start < 16) {
    let value = 0;
    for (let i = start; i < end; i++) value = value * 10 + (text.charCodeAt(i) - 48);
    return value;
  }
  const value = Number(text.slice(start, end));
  return Number.isSafeInteger(value) ? value : null;
}

/** Sorts in place numerically and removes duplicates; returns the same array. */
export function sortUnique(values: number[]): number[] {
  let sorted = true;
  for (let i = 1; i < values.length; i++) {
    if (values[i - 1]! >= values[i]!) {
      sorted = false;
      break;
    }
  }
  if (sorted) return values;
  values.sort((a, b) => a - b);
  let write = 0;
  for (let read = 0; read < values.length; read++) {
    if (read === 0 || values[read] !== values[write - 1]) values[write++] = values[read]!;
  }
  values.length = write;
  return values;
}

/** Binary search in an ascending array. */
export function sortedHas(values: readonly number[], value: number): boolean {
  let low = 0;
  let high = values.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const found = values[middle]!;
    if (found === value) return true;
    if (found < value) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}
