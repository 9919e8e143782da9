import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { assemble, type AssembleOptions } from "./assemble.ts";
import { Collection } from "./collection.ts";
import { DIGITS_PATTERN } from "./patterns.ts";
import { referenceAssemble } from "./_clique_reference_test_helper.ts";

/** A collection as a plain tuple, for exact comparisons. */
function plain(collection: Collection): [string, string, number, number[]] {
  return [collection.head, collection.tail, collection.padding, [...collection.indexes]];
}

function sortedPlain(collections: Collection[]) {
  return [...collections].sort(Collection.compare).map(plain);
}

function expected(...list: Array<[string, string, number, number[]]>) {
  return list.map(([head, tail, padding, indexes]) => new Collection({ head, tail, padding, indexes }));
}

Deno.test("assemble() groups clique's big mixed example into its 14 collections and 2 strays", () => {
  const items = [
    "file.ext",
    "single.1.ext",
    "1",
    "3",
    "001",
    "003",
    "head.001.tail",
    "head.002.tail",
    "head.1.tail",
    "head.2.tail",
    "head.001.tail3",
    "head.002.tail3",
    "head_v01.tail",
    "head_v02.tail",
    "head_v1.tail",
    "head_v2.tail",
    "head1_010_v1.0001.tail",
    "head1_010_v1.0002.tail",
    "head1_010_v2.0001.tail",
    "head1_010_v2.0002.tail",
    "head1_020_v1.0001.tail",
    "head1_020_v1.0002.tail",
  ];
  const { collections, remainder } = assemble(items);
  deepStrictEqual(
    sortedPlain(collections),
    sortedPlain(expected(
      ["", "", 0, [1, 3]],
      ["", "", 3, [1, 3]],
      ["head.", ".tail", 3, [1, 2]],
      ["head.", ".tail", 0, [1, 2]],
      ["head.", ".tail3", 3, [1, 2]],
      ["head_v", ".tail", 2, [1, 2]],
      ["head_v", ".tail", 0, [1, 2]],
      ["head1_010_v1.", ".tail", 4, [1, 2]],
      ["head1_010_v2.", ".tail", 4, [1, 2]],
      ["head1_020_v1.", ".tail", 4, [1, 2]],
      ["head1_010_v", ".0001.tail", 0, [1, 2]],
      ["head1_010_v", ".0002.tail", 0, [1, 2]],
      ["head1_", "_v1.0001.tail", 3, [10, 20]],
      ["head1_", "_v1.0002.tail", 3, [10, 20]],
    )),
  );
  deepStrictEqual(remainder, ["file.ext", "single.1.ext"]);
});

Deno.test("assemble() returns collections in first-seen key order, as clique on Python 3", () => {
  const { collections } = assemble(["b.1.x", "a.1.x", "b.2.x", "a.2.x"]);
  deepStrictEqual(collections.map((c) => c.head), ["b.", "a."]);
});

Deno.test("assemble() respects case unless told not to, lower-casing collections then", async (t) => {
  await t.step("case-sensitive", () => {
    const { collections } = assemble(["head_v1.001.ext", "head_v1.002.ext", "HEAD_v1.003.ext", "HEAD_v1.004.ext"]);
    deepStrictEqual(collections.map(plain), [["head_v1.", ".ext", 3, [1, 2]], ["HEAD_v1.", ".ext", 3, [3, 4]]]);
  });
  await t.step("case-insensitive", () => {
    const { collections } = assemble(["head_v1.001.ext", "HEAD_v1.002.ext", "head_v1.003.ext"], {
      caseSensitive: false,
    });
    deepStrictEqual(collections.map(plain), [["head_v1.", ".ext", 3, [1, 2, 3]]]);
  });
  await t.step("remainder members come back lower-cased when case-insensitive (clique quirk)", () => {
    deepStrictEqual(assemble(["FILE.0001.jpg"], { caseSensitive: false }).remainder, ["file.0001.jpg"]);
    deepStrictEqual(assemble(["FILE.0001.jpg"]).remainder, ["FILE.0001.jpg"]);
  });
  await t.step("a lower-casing that changes the length is handled per head and tail", () => {
    const { collections } = assemble(["İx.001.exr", "İX.002.exr"], { caseSensitive: false });
    deepStrictEqual(collections.map(plain), [["i̇x.", ".exr", 3, [1, 2]]]);
  });
});

Deno.test("assemble() with an empty pattern list assembles nothing", () => {
  deepStrictEqual(assemble(["1", "2"], { patterns: [] }), { collections: [], remainder: ["1", "2"] });
});

Deno.test("assemble() takes custom patterns as RegExps, strings and Python-style strings", async (t) => {
  const items = ["head_v1.001.ext", "head_v1.002.ext"];
  const want = [["head_v1.", ".ext", 3, [1, 2]]];
  await t.step("RegExp", () => {
    const { collections } = assemble(items, { patterns: [new RegExp(String.raw`\.${DIGITS_PATTERN}\.ext$`)] });
    deepStrictEqual(collections.map(plain), want);
  });
  await t.step("string", () => {
    const { collections } = assemble(items, { patterns: [String.raw`\.${DIGITS_PATTERN}\.ext$`] });
    deepStrictEqual(collections.map(plain), want);
  });
  await t.step("Python (?P<name>) spelling", () => {
    const { collections } = assemble(items, { patterns: [String.raw`\.(?P<index>(?P<padding>0*)\d+)\.ext$`] });
    deepStrictEqual(collections.map(plain), want);
  });
  await t.step("a string pattern ignores case when case-insensitive; a RegExp keeps its own flags", () => {
    const mixed = ["a.001.EXR", "a.002.exr"];
    strictEqual(
      assemble(mixed, { patterns: [String.raw`\.${DIGITS_PATTERN}\.exr$`], caseSensitive: false })
        .collections.length,
      1,
    );
    strictEqual(
      assemble(mixed, { patterns: [new RegExp(String.raw`\.${DIGITS_PATTERN}\.exr$`)], caseSensitive: false })
        .collections.length,
      0,
    );
  });
  await t.step("a pattern without the digits group exactly once is refused, naming it", () => {
    throws(() => assemble(items, { patterns: [String.raw`\d+`] }), {
      name: "TypeError",
      message: /pattern '\\d\+'.*exactly once, found 0/,
    });
    throws(() => assemble(items, { patterns: [DIGITS_PATTERN + DIGITS_PATTERN] }), /found 2/);
    throws(() => assemble(items, { patterns: [`(${DIGITS_PATTERN}`] }), { name: "SyntaxError" });
  });
});

Deno.test("assemble() presets: frames and versions", () => {
  const items = ["sh010_v003.1001.exr", "sh010_v003.1002.exr", "sh010_v004.1001.exr", "notes.v2.tar.gz"];
  deepStrictEqual(assemble(items, { patterns: ["frames"] }).collections.map(plain), [
    ["sh010_v003.", ".exr", 0, [1001, 1002]],
  ]);
  deepStrictEqual(assemble(items, { patterns: ["versions"] }).collections.map(plain), [
    ["sh010_v", ".1001.exr", 3, [3, 4]],
  ]);
  // frames: the extension may end in one digit, and `.tar.gz` counts as the extension.
  deepStrictEqual(assemble(["a.0001.jpg1", "a.0002.jpg1"], { patterns: ["frames"] }).collections.map(plain), [
    ["a.", ".jpg1", 4, [1, 2]],
  ]);
  deepStrictEqual(assemble(["a.0001.tar.gz", "a.0002.tar.gz"], { patterns: ["frames"] }).collections.length, 1);
});

Deno.test("assemble() filters by minimumItems, returning dropped members to the remainder", async (t) => {
  const items = ["head_v1.001.ext", "head_v1.002.ext", "head_v1.003.ext", "head_v2.001.ext", "head_v2.002.ext"];
  await t.step("1", () => {
    deepStrictEqual(
      sortedPlain(assemble(items, { minimumItems: 1 }).collections),
      sortedPlain(expected(
        ["head_v", ".001.ext", 0, [1, 2]],
        ["head_v", ".002.ext", 0, [1, 2]],
        ["head_v", ".003.ext", 0, [1]],
        ["head_v1.", ".ext", 3, [1, 2, 3]],
        ["head_v2.", ".ext", 3, [1, 2]],
      )),
    );
  });
  await t.step("3", () => {
    const { collections, remainder } = assemble(items, { minimumItems: 3 });
    deepStrictEqual(collections.map(plain), [["head_v1.", ".ext", 3, [1, 2, 3]]]);
    deepStrictEqual(remainder, ["head_v2.001.ext", "head_v2.002.ext"]);
  });
  await t.step("5", () => {
    const { collections, remainder } = assemble(items, { minimumItems: 5 });
    deepStrictEqual(collections, []);
    deepStrictEqual([...remainder].sort(), [...items].sort());
  });
  await t.step("0 keeps singletons", () => {
    deepStrictEqual(assemble(["only.7.exr"], { minimumItems: 0 }).collections.map(plain), [["only.", ".exr", 0, [7]]]);
  });
  await t.step("a negative or fractional value is refused", () => {
    throws(() => assemble(items, { minimumItems: -1 }), { name: "RangeError", message: /'-1'/ });
    throws(() => assemble(items, { minimumItems: 1.5 }), { name: "RangeError" });
  });
});

Deno.test("assemble() merges across the padding boundary as clique does", async (t) => {
  await t.step("padding boundary aligned", () => {
    deepStrictEqual(assemble(["0999", "1000", "1001", "9999"]).collections.map(plain), [
      ["", "", 4, [999, 1000, 1001, 9999]],
    ]);
  });
  await t.step("ambiguous padding boundary", () => {
    deepStrictEqual(sortedPlain(assemble(["999", "0999", "1000", "1001", "9999"]).collections), [
      ["", "", 0, [999, 1000, 1001, 9999]],
      ["", "", 4, [999, 1000, 1001, 9999]],
    ]);
  });
  await t.step("non-padding boundary indexes", () => {
    deepStrictEqual(sortedPlain(assemble(["0999", "1000", "9999", "10001"]).collections), [
      ["", "", 0, [1000, 9999, 10001]],
      ["", "", 4, [999, 1000, 9999]],
    ]);
  });
  await t.step("a padded singleton reaches minimumItems by absorbing unpadded frames", () => {
    deepStrictEqual(assemble(["x.0999.exr", "x.1000.exr"]).collections.map(plain), [["x.", ".exr", 4, [999, 1000]]]);
  });
});

Deno.test("assemble() keeps no duplicates in the remainder", () => {
  deepStrictEqual(assemble(["00-11-22-33-44-55.jpg"]).remainder, ["00-11-22-33-44-55.jpg"]);
  // An item given twice whose collection is dropped comes back once; unmatched duplicates stay.
  deepStrictEqual(assemble(["a.1.x", "a.1.x", "b.txt", "b.txt"]).remainder, ["b.txt", "b.txt", "a.1.x"]);
});

Deno.test("assemble() orders the remainder: unmatched items in input order, then dropped members", () => {
  const { remainder } = assemble(["z.5.exr", "readme", "y.7.exr", "LICENSE"]);
  deepStrictEqual(remainder, ["readme", "LICENSE", "z.5.exr", "y.7.exr"]);
});

Deno.test("assemble() assumePaddedWhenAmbiguous", async (t) => {
  const cases: Array<[string, string[], boolean, Array<[string, string, number, number[]]>]> = [
    ["ambiguous assume unpadded", ["1000", "1001", "1002"], false, [["", "", 0, [1000, 1001, 1002]]]],
    ["ambiguous assume padded", ["1000", "1001", "1002"], true, [["", "", 4, [1000, 1001, 1002]]]],
    ["unambiguous unpadded assume unpadded", ["999", "1000", "1001"], false, [["", "", 0, [999, 1000, 1001]]]],
    ["unambiguous unpadded assume padded", ["999", "1000", "1001"], true, [["", "", 0, [999, 1000, 1001]]]],
    ["unambiguous padded assume unpadded", ["0999", "1000", "1001"], false, [["", "", 4, [999, 1000, 1001]]]],
    ["unambiguous padded assume padded", ["0999", "1000", "1001"], true, [["", "", 4, [999, 1000, 1001]]]],
    ["empty collection", [], true, []],
    ["0-2 becomes %01d (clique's cosmetic oddity)", ["0", "1", "2"], true, [["", "", 1, [0, 1, 2]]]],
  ];
  for (const [name, items, assumePaddedWhenAmbiguous, want] of cases) {
    await t.step(name, () => {
      deepStrictEqual(assemble(items, { assumePaddedWhenAmbiguous }).collections.map(plain), want);
    });
  }
});

Deno.test("assemble() reads digit runs as clique does: zeros, minus signs, huge numbers", async (t) => {
  await t.step("'0' is unpadded frame 0, '00' is padded width 2", () => {
    deepStrictEqual(sortedPlain(assemble(["a0b", "a1b", "c00d", "c01d"]).collections), [
      ["a", "b", 0, [0, 1]],
      ["c", "d", 2, [0, 1]],
    ]);
  });
  await t.step("a minus sign stays in the head", () => {
    deepStrictEqual(assemble(["file.-0001.exr", "file.-0002.exr"]).collections.map(plain), [
      ["file.-", ".exr", 4, [1, 2]],
    ]);
  });
  await t.step("a run beyond Number.MAX_SAFE_INTEGER is not a frame number", () => {
    const hashNamed = ["cache_123456789012345678901.bin", "cache_123456789012345678902.bin"];
    const { collections, remainder } = assemble(hashNamed);
    deepStrictEqual(collections, []);
    deepStrictEqual(remainder, hashNamed);
  });
  await t.step("only ASCII digits count", () => {
    deepStrictEqual(assemble(["a.٠١.exr", "a.٠٢.exr"]).remainder, ["a.٠١.exr", "a.٠٢.exr"]);
  });
  await t.step("non-string items are refused, naming them", () => {
    throws(() => assemble([1 as unknown as string]), { name: "TypeError", message: /item '1'/ });
  });
});

/** A small deterministic generator of tricky names: few characters, so collisions are frequent. */
function randomNames(seed: number, count: number): string[] {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const pieces = [
    "a",
    "B",
    "b",
    ".",
    "_v",
    "0",
    "00",
    "1",
    "9",
    "10",
    "99",
    "100",
    "999",
    "1000",
    "0999",
    "x1",
    ".exr",
  ];
  return Array.from({ length: count }, () => {
    const parts = 1 + Math.floor(random() * 6);
    return Array.from({ length: parts }, () => pieces[Math.floor(random() * pieces.length)]).join("");
  });
}

Deno.test("assemble() agrees with a literal transcription of clique's algorithm on random names", async (t) => {
  const variants: Array<[string, AssembleOptions, Parameters<typeof referenceAssemble>[1]]> = [
    ["defaults", {}, {}],
    ["minimumItems 1", { minimumItems: 1 }, { minimumItems: 1 }],
    ["minimumItems 3", { minimumItems: 3 }, { minimumItems: 3 }],
    ["case-insensitive", { caseSensitive: false }, { caseSensitive: false }],
    ["assume padded", { assumePaddedWhenAmbiguous: true }, { assumePadded: true }],
    [
      "frames + versions",
      { patterns: ["frames", "versions"] },
      {
        patterns: [
          new RegExp(String.raw`\.${DIGITS_PATTERN}\.\D+\d?$`),
          new RegExp(`v${DIGITS_PATTERN}`),
        ],
      },
    ],
    [
      "a pattern whose tail starts with a digit",
      { patterns: [String.raw`${DIGITS_PATTERN}9`] },
      { patterns: [new RegExp(String.raw`${DIGITS_PATTERN}9`)] },
    ],
  ];
  for (const [name, options, reference] of variants) {
    await t.step(name, () => {
      for (let seed = 1; seed <= 40; seed++) {
        const items = randomNames(seed, 60);
        const fast = assemble(items, options);
        const slow = referenceAssemble(items, reference);
        deepStrictEqual(
          fast.collections.map(plain),
          slow.collections.map((c) => [c.head, c.tail, c.padding, c.indexes]),
          `collections differ for seed ${seed}: ${JSON.stringify(items)}`,
        );
        deepStrictEqual(fast.remainder, slow.remainder, `remainder differs for seed ${seed}: ${JSON.stringify(items)}`);
      }
    });
  }
});
