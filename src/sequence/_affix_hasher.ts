/**
 * Hashes of every prefix and every suffix of one string, computed in one pass each, so that the
 * (head, tail) pair around any digit run can be looked up without slicing or concatenating
 * strings. Hash equality is only a hint: callers confirm with `startsWith` / `endsWith`.
 */
export class AffixHasher {
  #prefix = new Int32Array(256);
  #suffix = new Int32Array(256);
  #length = 0;

  /** Loads a string: `prefix(i)` is the hash of `text[0, i)`, `suffix(j)` of `text[j, length)`. */
  load(text: string): void {
    const length = text.length;
    if (length + 1 > this.#prefix.length) {
      const size = Math.max(length + 1, this.#prefix.length * 2);
      this.#prefix = new Int32Array(size);
      this.#suffix = new Int32Array(size);
    }
    const prefix = this.#prefix;
    const suffix = this.#suffix;
    let hash = 0x811c9dc5 | 0;
    prefix[0] = hash;
    for (let i = 0; i < length; i++) {
      hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
      prefix[i + 1] = hash;
    }
    hash = 0x3c6ef372 | 0;
    suffix[length] = hash;
    for (let i = length - 1; i >= 0; i--) {
      hash = Math.imul(hash ^ text.charCodeAt(i), 0x5bd1e995);
      suffix[i] = hash;
    }
    this.#length = length;
  }

  /**
   * A small-integer hash of the pair (text before `start`, text from `end` on); the same for any
   * string with the same head and tail.
   */
  pair(start: number, end: number): number {
    let hash = Math.imul(this.#prefix[start]! ^ start, 0x27d4eb2d);
    hash = Math.imul(hash ^ this.#suffix[end]!, 0x165667b1);
    hash ^= this.#length - end;
    return (hash ^ (hash >>> 15)) & 0x3fffffff;
  }
}

/** Mixes a pair hash with the padding width into a small-integer group hash. */
export function groupHash(pair: number, padding: number): number {
  const hash = Math.imul(pair ^ (padding + 1), 0x9e3779b1);
  return (hash ^ (hash >>> 16)) & 0x3fffffff;
}
