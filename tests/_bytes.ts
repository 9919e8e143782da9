/** Seeded test bytes, with no dependencies (shared by tests under `tests/` and `services/`). */

/** Bytes that differ from any other seed's (a seeded pattern): every call with the same seed gives the same bytes. */
export function bytesOf(seed: number, size: number): Uint8Array {
  const data = new Uint8Array(size);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return data;
}
