import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { Collection } from "./collection.ts";
import { CollectionError } from "./collection_error.ts";

const unpadded = (indexes: number[] = []) => new Collection({ head: "/head.", tail: ".ext", padding: 0, indexes });
const padded = (indexes: number[] = []) => new Collection({ head: "/head.", tail: ".ext", padding: 4, indexes });

Deno.test("Collection.match() follows clique's padding rules", async (t) => {
  const cases: Array<[string, Collection, string, number | null]> = [
    ["unpadded collection: unpadded item", unpadded(), "/head.1001.ext", 1001],
    ["unpadded collection: padded item", unpadded(), "/head.0001.ext", null],
    ["unpadded collection: a lone zero", unpadded(), "/head.0.ext", 0],
    ["padded collection: padded item", padded(), "/head.0001.ext", 1],
    ["padded collection: unpadded item within padding bounds", padded(), "/head.1001.ext", 1001],
    ["padded collection: unpadded item outside padding bounds", padded(), "/head.10001.ext", null],
    ["padded collection: too short", padded(), "/head.001.ext", null],
    ["other head", padded(), "/other.0001.ext", null],
    ["no digits", padded(), "/head..ext", null],
    ["non-digits in the middle", padded(), "/head.00a1.ext", null],
  ];
  for (const [name, collection, item, want] of cases) {
    await t.step(name, () => strictEqual(collection.match(item), want));
  }
  await t.step("head and tail are literal text, not patterns", () => {
    const literal = new Collection({ head: String.raw`prefix\file.`, tail: ".(x)", padding: 0, indexes: [1] });
    strictEqual(literal.match(String.raw`prefix\file.1.(x)`), 1);
    strictEqual(literal.match("prefixXfile.1.(x)"), null);
  });
});

Deno.test("Collection.add() and remove() take member names, refusing non-members with CollectionError", async (t) => {
  await t.step("add", () => {
    const collection = padded();
    collection.add("/head.0001.ext");
    collection.add("/head.1001.ext");
    collection.add("/head.0001.ext");
    deepStrictEqual(collection.indexes, [1, 1001]);
    throws(() => collection.add("/head.10001.ext"), CollectionError);
    throws(() => unpadded().add("/head.0001.ext"), { name: "CollectionError", message: /'\/head.0001.ext'/ });
  });
  await t.step("remove", () => {
    const collection = padded([1, 5, 10]);
    collection.remove("/head.0005.ext");
    deepStrictEqual(collection.indexes, [1, 10]);
    throws(() => collection.remove("/head.0100.ext"), CollectionError);
  });
  await t.step("contains", () => {
    const collection = padded([1, 5]);
    strictEqual(collection.contains("/head.0005.ext"), true);
    strictEqual(collection.contains("/head.0006.ext"), false);
    strictEqual(collection.contains("/head.5.ext"), false);
    strictEqual(collection.contains("/head.0005.ex"), false);
  });
  await t.step("addIndex / removeIndex / hasIndex keep indexes sorted and unique", () => {
    const collection = padded([5]);
    collection.addIndex(3);
    collection.addIndex(9);
    collection.addIndex(3);
    deepStrictEqual(collection.indexes, [3, 5, 9]);
    strictEqual(collection.removeIndex(5), true);
    strictEqual(collection.removeIndex(5), false);
    strictEqual(collection.hasIndex(9), true);
    deepStrictEqual([collection.first, collection.last, collection.size], [3, 9, 2]);
  });
});

Deno.test("Collection iterates member names in frame order, formatted like Python's %0Nd", () => {
  deepStrictEqual([...padded([3, 1, 2])], ["/head.0001.ext", "/head.0002.ext", "/head.0003.ext"]);
  deepStrictEqual([...unpadded([10, 9])], ["/head.9.ext", "/head.10.ext"]);
  deepStrictEqual([...padded([-5, -12345])], ["/head.-12345.ext", "/head.-005.ext"]);
  strictEqual(padded().name(7), "/head.0007.ext");
});

Deno.test("Collection.format() fills clique's fields", async (t) => {
  const collection = padded([1, 2, 3, 7, 9, 10, 11, 12]);
  const cases: Array<[string, string]> = [
    ["{head}", "/head."],
    ["{padding}", "%04d"],
    ["{tail}", ".ext"],
    ["{range}", "1-12"],
    ["{ranges}", "1-3, 7, 9-12"],
    ["{holes}", "4-6, 8"],
    ["{{head}} {head}", "{head} /head."],
  ];
  for (const [pattern, want] of cases) await t.step(pattern, () => strictEqual(collection.format(pattern), want));
  await t.step("default pattern", () => strictEqual(collection.format(), "/head.%04d.ext [1-3, 7, 9-12]"));
  await t.step("toString", () => strictEqual(String(unpadded([5, 6])), "/head.%d.ext [5-6]"));
  await t.step("empty and single", () => {
    strictEqual(padded().format("{range}|{ranges}|{holes}"), "||");
    strictEqual(padded([5]).format("{range}|{ranges}"), "5|5");
  });
  await t.step("a sparse collection formats without recursion or slowness", () => {
    strictEqual(padded([1, 1_000_000]).format("{ranges}"), "1, 1000000");
  });
  await t.step("unknown fields, conversions and stray braces are refused, naming the pattern", () => {
    throws(() => collection.format("{frames}"), { name: "RangeError", message: /'\{frames\}'.*'frames'/ });
    throws(() => collection.format("{range!r}"), { name: "SyntaxError" });
    throws(() => collection.format("{head"), { name: "SyntaxError" });
    throws(() => collection.format("head}"), { name: "SyntaxError" });
  });
});

Deno.test("Collection.isContiguous()", () => {
  strictEqual(padded().isContiguous(), true);
  strictEqual(padded([1]).isContiguous(), true);
  strictEqual(padded([1, 2, 3]).isContiguous(), true);
  strictEqual(padded([1, 3]).isContiguous(), false);
});

Deno.test("Collection.holes() lists the missing frames between first and last", async (t) => {
  const cases: Array<[string, number[], number[]]> = [
    ["empty", [], []],
    ["single index", [1], []],
    ["contiguous indexes", [8, 9, 10, 11], []],
    ["missing leading index", [2, 3], []],
    ["single missing index", [1, 3], [2]],
    ["range of missing indexes", [1, 5], [2, 3, 4]],
    ["multiple ranges of missing indexes", [1, 5, 6, 7, 12], [2, 3, 4, 8, 9, 10, 11]],
  ];
  for (const [name, indexes, want] of cases) {
    await t.step(name, () => {
      const holes = padded(indexes).holes();
      deepStrictEqual(holes.indexes, want);
      strictEqual(holes.head, "/head.");
      strictEqual(holes.padding, 4);
    });
  }
});

Deno.test("Collection.separate() splits into contiguous runs", async (t) => {
  const cases: Array<[string, number[], number[][]]> = [
    ["empty", [], [[]]],
    ["single index", [1], [[1]]],
    ["contiguous indexes", [1, 2, 3], [[1, 2, 3]]],
    ["non-contiguous indexes", [1, 2, 5, 6, 7, 9, 10], [[1, 2], [5, 6, 7], [9, 10]]],
  ];
  for (const [name, indexes, want] of cases) {
    await t.step(name, () => deepStrictEqual(padded(indexes).separate().map((part) => [...part.indexes]), want));
  }
});

Deno.test("Collection.merge() unites compatible collections and refuses others", async (t) => {
  const cases: Array<[string, number[], number[], number[]]> = [
    ["both empty", [], [], []],
    ["complementary", [1], [2], [1, 2]],
    ["duplicates", [1, 2], [2], [1, 2]],
  ];
  for (const [name, a, b, want] of cases) {
    await t.step(name, () => {
      const collection = padded(a);
      collection.merge(padded(b));
      deepStrictEqual(collection.indexes, want);
    });
  }
  const base = () => new Collection({ head: "head", tail: "tail", padding: 0 });
  for (
    const [name, other] of [
      ["incompatible head", new Collection({ head: "diff_head", tail: "tail" })],
      ["incompatible tail", new Collection({ head: "head", tail: "diff_tail" })],
      ["incompatible padding", new Collection({ head: "head", tail: "tail", padding: 4 })],
    ] as const
  ) {
    await t.step(name, () => {
      strictEqual(base().isCompatible(other), false);
      throws(() => base().merge(other), CollectionError);
    });
  }
});

Deno.test("Collection.compare() orders like clique: head, tail, padding, then number of frames", () => {
  const list = [
    new Collection({ head: "b", tail: "", padding: 0, indexes: [1] }),
    new Collection({ head: "a", tail: "z", padding: 0, indexes: [1] }),
    new Collection({ head: "a", tail: "y", padding: 4, indexes: [1, 2] }),
    new Collection({ head: "a", tail: "y", padding: 4, indexes: [1] }),
    new Collection({ head: "a", tail: "y", padding: 0, indexes: [1, 2, 3] }),
  ];
  deepStrictEqual(
    list.sort(Collection.compare).map((c) => `${c.head}${c.tail}${c.padding}:${c.size}`),
    ["ay0:3", "ay4:1", "ay4:2", "az0:1", "b0:1"],
  );
});

Deno.test("Collection.equals() and clone()", () => {
  const a = padded([1, 2]);
  const b = a.clone();
  strictEqual(a.equals(b), true);
  b.addIndex(3);
  strictEqual(a.equals(b), false);
  deepStrictEqual(a.indexes, [1, 2]);
  strictEqual(padded([1]).equals(unpadded([1])), false);
});

Deno.test("Collection refuses frame numbers beyond safe integers and bad padding, naming the value", () => {
  throws(() => padded([2 ** 53]), { name: "RangeError", message: /'9007199254740992'/ });
  throws(() => padded([1.5]), { name: "RangeError", message: /'1.5'/ });
  throws(() => new Collection({ head: "a", tail: "b", padding: -1 }), { name: "RangeError", message: /'-1'/ });
  const collection = padded();
  throws(() => (collection.padding = 2.5), RangeError);
  collection.padding = 3;
  collection.head = "new.";
  collection.tail = ".dpx";
  strictEqual(collection.name(1), "new.001.dpx");
});
