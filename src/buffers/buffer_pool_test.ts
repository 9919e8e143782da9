import { notStrictEqual, strictEqual, throws } from "node:assert/strict";
import { BufferPool } from "./buffer_pool.ts";

Deno.test("BufferPool hands back returned buffers that are large enough, keeps at most `keep`", () => {
  const pool = new BufferPool({ minimumBytes: 1024, keep: 2 });
  const small = pool.take(10);
  const large = pool.take(5000);
  strictEqual(small.length, 1024);
  strictEqual(large.length, 8192);
  pool.give(small);
  pool.give(large);
  pool.give(new Uint8Array(1024)); // beyond `keep`: dropped
  strictEqual(pool.take(3000), large, "the first returned buffer that fits");
  strictEqual(pool.take(1000), small);
  notStrictEqual(pool.take(1000), small, "nothing left to reuse: a new buffer");
  throws(() => new BufferPool({ minimumBytes: 0 }), /'0'-byte buffers: it must be a whole number ≥ 1/);
});
