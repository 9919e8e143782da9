// The common module's behaviours, run by `node --test` against the installed npm package, once through
// `import` (package_esm.mjs) and once through `require` (package_cjs.cjs). Plain CommonJS so both can load it.
"use strict";
const { test } = require("node:test");
const assert = require("node:assert/strict");
const { createHash, randomBytes } = require("node:crypto");
const { mkdtempSync, rmSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const sha1 = (data) => createHash("sha1").update(data).digest("hex");

/** A temporary folder with `files` (name → contents), removed after the test. */
function folderWith(t, files) {
  const dir = mkdtempSync(join(tmpdir(), "ferry-npm-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return dir;
}

/** Registers every behaviour test against `ferry`, the package as loaded by `how` ("import" or "require"). */
exports.behaviours = function behaviours(ferry, how) {
  test(`assemble() groups frames into collections and keeps the strays [${how}]`, () => {
    const { collections, remainder } = ferry.assemble([
      "sh010.1001.exr",
      "sh010.1002.exr",
      "sh010.1004.exr",
      "notes.txt",
      "beauty.0001.exr",
      "beauty.0002.exr",
    ]);
    assert.deepEqual(collections.map((c) => c.format()).sort(), [
      "beauty.%04d.exr [1-2]",
      "sh010.%d.exr [1001-1002, 1004]",
    ]);
    assert.deepEqual(remainder, ["notes.txt"]);
    assert.ok(collections.every((c) => c instanceof ferry.Collection));
  });

  test(`parse() reads a formatted collection back, padding and holes included [${how}]`, () => {
    const beauty = ferry.parse("/shots/sh010/beauty.%04d.exr [1001-1003, 1005]");
    assert.equal(beauty.head, "/shots/sh010/beauty.");
    assert.equal(beauty.tail, ".exr");
    assert.equal(beauty.padding, 4);
    assert.deepEqual(beauty.indexes, [1001, 1002, 1003, 1005]);
    const withHoles = ferry.parse("/p/file.%d.ext 1-8 [2, 4-6]", "{head}{padding}{tail} {range} [{holes}]");
    assert.deepEqual(withHoles.indexes, [1, 3, 7, 8]);
    assert.throws(() => ferry.parse("no frames here"), (error) => error instanceof SyntaxError);
  });

  test(`Collection formats, matches, finds holes and rejects foreign items [${how}]`, () => {
    const beauty = new ferry.Collection({ head: "beauty.", tail: ".exr", padding: 4, indexes: [3, 1, 2, 5] });
    assert.equal(beauty.format(), "beauty.%04d.exr [1-3, 5]");
    assert.equal(beauty.match("beauty.0005.exr"), 5);
    assert.equal(beauty.holes().format("{ranges}"), "4");
    assert.deepEqual([...beauty], ["beauty.0001.exr", "beauty.0002.exr", "beauty.0003.exr", "beauty.0005.exr"]);
    beauty.add("beauty.0004.exr");
    assert.equal(beauty.format(ferry.DEFAULT_FORMAT), "beauty.%04d.exr [1-5]");
    assert.throws(() => beauty.add("beauty.10001.exr"), (error) => {
      assert.ok(error instanceof ferry.CollectionError);
      assert.equal(error.name, "CollectionError");
      assert.match(error.message, /Cannot add 'beauty\.10001\.exr'/);
      return true;
    });
  });

  test(`fingerprintFiles() on worker threads gives node:crypto's SHA-1 of every file, in order [${how}]`, async (t) => {
    const contents = {
      "a.bin": randomBytes(300_000),
      "b.bin": Buffer.alloc(0),
      "c.txt": "abc",
      "d.bin": randomBytes(70_000),
    };
    const dir = folderWith(t, contents);
    const names = Object.keys(contents);
    const progress = [];
    const digests = await ferry.fingerprintFiles(names.map((name) => join(dir, name)), {
      threads: true,
      concurrency: 3,
      onProgress: (p) => progress.push(p.files),
    });
    assert.deepEqual(
      digests.map((d) => [d.algorithm, d.hex, d.size]),
      names.map((name) => ["sha1", sha1(contents[name]), Buffer.byteLength(contents[name])]),
    );
    assert.equal(progress.at(-1), names.length);
  });

  test(`HashPool hashes on the worker module shipped in the package and closes [${how}]`, async (t) => {
    const dir = folderWith(t, { "x.txt": "x".repeat(1000), "y.txt": "y" });
    const pool = new ferry.HashPool({ size: 2 });
    try {
      assert.equal(pool.size, 2);
      const [x, y] = await Promise.all([
        pool.hash(join(dir, "x.txt")),
        pool.hash(join(dir, "y.txt"), { algorithm: "md5" }),
      ]);
      assert.equal(x.hex, sha1("x".repeat(1000)));
      assert.equal(y.hex, createHash("md5").update("y").digest("hex"));
      await assert.rejects(pool.hash(join(dir, "missing.txt")), (error) => {
        assert.ok(error instanceof ferry.FingerprintError);
        assert.equal(error.problem, "missing");
        return true;
      });
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.hash(join(dir, "x.txt")), (error) => error.problem === "aborted");
  });

  test(`fingerprintFile() streams one file; a missing one is a FingerprintError naming it [${how}]`, async (t) => {
    const dir = folderWith(t, { "one.txt": "abc" });
    const digest = await ferry.fingerprintFile(join(dir, "one.txt"), { algorithm: "sha256" });
    assert.deepEqual(digest, { algorithm: "sha256", hex: createHash("sha256").update("abc").digest("hex"), size: 3 });
    const missing = join(dir, "nope.txt");
    await assert.rejects(ferry.fingerprintFile(missing), (error) => {
      assert.ok(error instanceof ferry.FingerprintError);
      assert.equal(error.message, `Cannot fingerprint '${missing}': it does not exist`);
      return true;
    });
    assert.throws(() => ferry.checkAlgorithm("crc32"), TypeError);
  });

  test(`fingerprintSequence() combines the members like 'sha1sum beauty.* | sha1sum' [${how}]`, async (t) => {
    const frames = { "beauty.0001.exr": "one", "beauty.0002.exr": "two", "beauty.0003.exr": "" };
    const dir = folderWith(t, frames);
    const collection = ferry.parse("beauty.%04d.exr [1-3]");
    const result = await ferry.fingerprintSequence(collection, { directory: dir, threads: true });
    const manifest = Object.entries(frames).map(([name, data]) => `${sha1(data)}  ${name}\n`).join("");
    assert.equal(result.hex, sha1(manifest));
    assert.equal(result.size, 6);
    assert.deepEqual(result.members.map((m) => [m.frame, m.path, m.hex]), [
      [1, join(dir, "beauty.0001.exr"), sha1("one")],
      [2, join(dir, "beauty.0002.exr"), sha1("two")],
      [3, join(dir, "beauty.0003.exr"), sha1("")],
    ]);
  });

  test(`parseExpression() and matchExpression() follow ftrack's subscription expressions [${how}]`, () => {
    const event = { topic: "ftrack.update", data: { n: "7" }, source: { user: { username: "jenkins" } } };
    const match = (text) => ferry.matchExpression(ferry.parseExpression(text), event);
    assert.ok(match("topic=ftrack.update and source.user.username=jenkins"));
    assert.ok(match("topic=ftrack.*"));
    assert.ok(match("not topic=other or data.n=8"));
    assert.ok(!match("topic=ftrack.update and (data.n!=7 or data.missing=1)"));
    assert.ok(match(""));
    assert.deepEqual(ferry.parseExpression("topic=a"), {
      kind: "condition",
      field: "topic",
      path: ["topic"],
      operator: "=",
      value: "a",
    });
    assert.throws(() => ferry.parseExpression("topic=a and"), SyntaxError);
    const cache = new ferry.ExpressionCache();
    assert.ok(cache.matches("topic=ftrack.update", event));
    assert.equal(cache.get("topic=a"), cache.get("topic=a"));
  });

  test(`toWireEvent() validates with zod and keeps exactly the seven wire keys [${how}]`, () => {
    const wire = ferry.toWireEvent({ topic: "ferry.publish.finished", id: "1", data: { versionId: "v" } });
    assert.deepEqual(wire, {
      topic: "ferry.publish.finished",
      id: "1",
      data: { versionId: "v" },
      source: {},
      target: "",
      inReplyToEvent: null,
      sent: null,
    });
    assert.equal(ferry.EventSchema.safeParse({ topic: "", id: "1" }).success, false);
  });

  test(`mapLimit() keeps input order with bounded concurrency [${how}]`, async () => {
    let running = 0;
    let most = 0;
    const result = await ferry.mapLimit([5, 1, 3, 2], 2, async (n) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return n * 10;
    });
    assert.deepEqual(result, [50, 10, 30, 20]);
    assert.equal(most, 2);
  });
};
