import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { Collection } from "./collection.ts";
import { parse } from "./parse.ts";

const plain = (c: Collection) => [c.head, c.tail, c.padding, [...c.indexes]];

Deno.test("parse() reads clique's examples", async (t) => {
  const cases: Array<[string, string | undefined, [string, string, number, number[]]]> = [
    ["/path/to/file.%04d.ext []", undefined, ["/path/to/file.", ".ext", 4, []]],
    ["/path/to/file.%04d.ext [1-3, 5, 7-8]", undefined, ["/path/to/file.", ".ext", 4, [1, 2, 3, 5, 7, 8]]],
    ["/path/to/file.%d.ext [1-3, 5, 7-8]", undefined, ["/path/to/file.", ".ext", 0, [1, 2, 3, 5, 7, 8]]],
    ["/path/to/file.%d.ext 1-8", "{head}{padding}{tail} {range}", ["/path/to/file.", ".ext", 0, [
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
    ]]],
    ["/path/to/file.%d.ext 1-8 [2, 4-6]", "{head}{padding}{tail} {range} [{holes}]", ["/path/to/file.", ".ext", 0, [
      1,
      3,
      7,
      8,
    ]]],
  ];
  for (const [value, pattern, want] of cases) {
    await t.step(value, () => deepStrictEqual(plain(parse(value, pattern)), want));
  }
});

Deno.test("parse() details: greedy head, '%4d' padding, reversed ranges, round trips", () => {
  strictEqual(parse("file.%d.%04d.exr [1]").head, "file.%d.");
  strictEqual(parse("a.%4d.b [1]").padding, 4);
  deepStrictEqual(parse("a.%d.b [5-3, 7]").indexes, [7]);
  const original = new Collection({ head: "/s/sh010/beauty.", tail: ".exr", padding: 4, indexes: [1001, 1002, 1005] });
  strictEqual(parse(original.format()).equals(original), true);
});

Deno.test("parse() refuses what does not match, naming the value", () => {
  throws(() => parse(""), { name: "SyntaxError", message: /Cannot parse ''/ });
  throws(() => parse("beauty.exr"), {
    name: "SyntaxError",
    message: /'beauty.exr'.*'\{head\}\{padding\}\{tail\} \[\{ranges\}\]'/,
  });
  throws(() => parse("a.%04d.b [1,,2]"), { name: "SyntaxError", message: /'' is not a frame/ });
  throws(() => parse("a.%04d.b 1-3 [9]", "{head}{padding}{tail} {range} [{holes}]"), /hole 9/);
  throws(() => parse("a.%04d.b", "{head}{padding}{tail}{frames}"), { name: "RangeError" });
  throws(() => parse("x", "{head}{head}"), { name: "SyntaxError", message: /twice/ });
  // '{range}' needs 'a-b': a single frame written with {range} cannot be read back (as in clique).
  throws(() => parse("a.%d.b 5", "{head}{padding}{tail} {range}"), SyntaxError);
});
