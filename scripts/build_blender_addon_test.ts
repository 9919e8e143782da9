import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { addonLayout, buildBlenderAddon, main } from "./build_blender_addon.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("addonLayout() vendors the client under the add-on, leaves caches and non-Python files out, sorted", () => {
  deepStrictEqual(
    addonLayout(["panel.py", "__init__.py", "__pycache__/panel.cpython-311.pyc", "notes.txt"], [
      "sse.py",
      "__init__.py",
      "__pycache__/sse.cpython-311.pyc",
    ]),
    [
      { from: "addon", path: "__init__.py", to: "ferry_blender/__init__.py" },
      { from: "client", path: "__init__.py", to: "ferry_blender/ferry_host/__init__.py" },
      { from: "client", path: "sse.py", to: "ferry_blender/ferry_host/sse.py" },
      { from: "addon", path: "panel.py", to: "ferry_blender/panel.py" },
    ],
  );
  throws(() => addonLayout(["ferry_host/x.py"], []), /the add-on already has 'ferry_host\/x.py'/);
});

Deno.test("buildBlenderAddon() writes a zip whose files are the sources, byte for byte", async () => {
  const folder = await mkdtemp(join(tmpdir(), "ferry-addon-"));
  try {
    const built = await buildBlenderAddon({ out: join(folder, "out", "ferry_blender.zip") });
    const files = unzipSync(new Uint8Array(await readFile(built.path)));
    deepStrictEqual(Object.keys(files).sort(), [...built.entries].sort());
    const pairs: Array<[string, string]> = [
      ["ferry_blender/__init__.py", "hosts/blender/ferry_blender/__init__.py"],
      ["ferry_blender/operators.py", "hosts/blender/ferry_blender/operators.py"],
      ["ferry_blender/ferry_host/client.py", "hosts/python/ferry_host/client.py"],
      ["ferry_blender/ferry_host/bridge.py", "hosts/python/ferry_host/bridge.py"],
    ];
    for (const [name, source] of pairs) {
      deepStrictEqual(files[name], new Uint8Array(await readFile(join(ROOT, source))), name);
    }
    ok(!Object.keys(files).some((name) => name.includes("__pycache__") || name.includes("/tests/")));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

Deno.test("build_blender_addon main() prints help with 0 and refuses stray arguments with 2", async () => {
  const log = console.log;
  const error = console.error;
  const printed: string[] = [];
  console.log = (text: string) => printed.push(text);
  console.error = (text: string) => printed.push(text);
  try {
    strictEqual(await main(["--help"]), 0);
    ok(printed[0]!.startsWith("Usage: deno run"));
    strictEqual(await main(["extra"]), 2);
    ok(printed[1]!.includes("Unexpected argument 'extra'"));
    strictEqual(await main(["--out"]), 2);
  } finally {
    console.log = log;
    console.error = error;
  }
});
