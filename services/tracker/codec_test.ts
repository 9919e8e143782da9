import { equal, ok } from "node:assert/strict";
import { canonicalDate, isStoredDate, now } from "./codec.ts";

Deno.test("now() is the current time in stored form, never going back between calls", () => {
  const before = canonicalDate(new Date());
  let previous = now();
  ok(isStoredDate(previous), previous);
  ok(previous >= before, `${previous} is not before ${before}`);
  for (let i = 0; i < 10_000; i++) {
    const next = now();
    ok(isStoredDate(next) && next >= previous, `${next} after ${previous}`);
    previous = next;
  }
  const after = canonicalDate(new Date());
  ok(previous <= after, `${previous} is not after ${after}`);
  equal(previous.length, "2026-11-22T21:00:00.000000".length);
});
