/**
 * `deno task settings`: the documents processors read, per variant with project overrides.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { main } from "../scripts/settings.ts";
import { sqliteSite } from "./_store.ts";

Deno.test("settings main() sets and shows documents per variant and project, refusing bad values", async () => {
  await using site = await sqliteSite();
  const folder = await Deno.makeTempDir({ prefix: "ferry-settings-" });
  try {
    const out: string[] = [];
    const run = (...args: string[]) => main([...args, "--store", site.location], (text) => out.push(text));
    await Deno.writeTextFile(
      `${folder}/studio.json`,
      JSON.stringify({ processor: { maxRetries: 5 }, handlers: { notes: { enabled: false } } }),
    );
    await Deno.writeTextFile(`${folder}/demo.json`, JSON.stringify({ handlers: { notes: { enabled: true } } }));
    await Deno.writeTextFile(`${folder}/bad.json`, JSON.stringify({ processor: { leaseMs: "soon" } }));
    strictEqual(await run("show", "--variant", "dev"), 3, "no store yet: nothing is made by show");
    strictEqual(await run("set", `${folder}/studio.json`, "--variant", "staging"), 0);
    strictEqual(await run("set", `${folder}/demo.json`, "--variant", "staging", "--project", "demo"), 0);
    strictEqual(await run("set", `${folder}/bad.json`, "--variant", "staging"), 1);
    out.length = 0;
    strictEqual(await run("show", "--variant", "staging", "--project", "demo"), 0);
    const demo = JSON.parse(out.join(""));
    strictEqual(demo.processor.maxRetries, 5);
    deepStrictEqual(demo.handlers.notes, { enabled: true });
    out.length = 0;
    strictEqual(await run("show", "--variant", "staging", "--stored"), 0);
    deepStrictEqual(JSON.parse(out.join("")), {
      processor: { maxRetries: 5 },
      handlers: { notes: { enabled: false } },
    });
    out.length = 0;
    strictEqual(await run("show", "--variant", "production"), 0);
    strictEqual(JSON.parse(out.join("")).processor.maxRetries, 3, "other variants keep their own");
    strictEqual(await run("show", "--variant", "nightly"), 2);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
