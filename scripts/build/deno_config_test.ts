import { deepEqual, throws } from "node:assert/strict";
import { parseDenoConfig } from "./deno_config.ts";

Deno.test("parseDenoConfig() keeps the name, version and imports of deno.json", () => {
  const text = JSON.stringify({
    name: "@ferry/ferry",
    version: "1.2.3-rc.1",
    imports: { zod: "npm:zod@4" },
    tasks: {},
  });
  deepEqual(parseDenoConfig(text, "deno.json"), {
    name: "@ferry/ferry",
    version: "1.2.3-rc.1",
    imports: { zod: "npm:zod@4" },
  });
});

Deno.test("parseDenoConfig() names the file, the field and the value that is wrong", () => {
  throws(
    () => parseDenoConfig(`{ "name": "@ferry/ferry", "version": "one" }`, "/repo/deno.json"),
    /Cannot read '\/repo\/deno\.json': version "one": expected a semver version/,
  );
  throws(() => parseDenoConfig(`{ "version": "1.0.0" }`, "deno.json"), /name undefined: /);
  throws(() => parseDenoConfig(`{ nope`, "deno.json"), /Cannot read 'deno\.json': .*JSON/);
});
