// Runs the behaviours against the installed package through `require`, and checks that it is the CommonJS
// build, with its hash worker beside it.
"use strict";
const { test } = require("node:test");
const assert = require("node:assert/strict");
const { existsSync, readFileSync } = require("node:fs");
const { dirname, join } = require("node:path");
const { behaviours } = require("./_behaviours.cjs");

behaviours(require("@ferry/common"), "require");

test("require resolves to the package's CommonJS build, with the hash worker beside it", () => {
  const entry = require.resolve("@ferry/common");
  assert.match(entry, /node_modules[\\/]@ferry[\\/]common[\\/]script[\\/]mod\.js$/);
  assert.ok(existsSync(join(dirname(entry), "_hash_worker.js")));
  assert.match(readFileSync(entry, "utf8"), /module\.exports/);
  assert.equal(require.cache[entry]?.loaded, true);
});
