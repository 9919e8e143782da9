/**
 * Custom handler archives: packaged, checked, stored per variant, taken by processors into a
 * folder of their own; broken ones refused without stopping the others.
 */
import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { hostname } from "node:os";
import { gzipSync, zipSync } from "fflate";
import { main as handlersMain } from "../scripts/handlers.ts";
import { takeHandlerArchives } from "../services/processor/archive_workspace.ts";
import { discoverHandlers } from "../services/processor/discover_handlers.ts";
import { packageHandlerFolder, readHandlerArchive } from "../services/processor/handler_archive.ts";
import { writeTar } from "../services/processor/_tar.ts";
import { sqliteSite } from "./_store.ts";

const text = (value: string) => new TextEncoder().encode(value);

/** A handler folder as a studio would write it: handlers/ plus a shared lib/. */
async function studioFolder(name: string): Promise<string> {
  const folder = `${await Deno.makeTempDir({ prefix: "ferry-archive-" })}/${name}`;
  await Deno.mkdir(`${folder}/handlers`, { recursive: true });
  await Deno.mkdir(`${folder}/lib`, { recursive: true });
  await Deno.writeTextFile(`${folder}/lib/shared.ts`, `export const PREFIX = "${name}";`);
  await Deno.writeTextFile(
    `${folder}/handlers/greet.ts`,
    `import { PREFIX } from "../lib/shared.ts";
     export const greet = { name: PREFIX + "-greet", subscription: "topic=ftrack.update", priority: 5, handle() {} };`,
  );
  await Deno.writeTextFile(`${folder}/handlers/_helper.ts`, `throw new Error("never loaded");`);
  return folder;
}

Deno.test("packageHandlerFolder() writes a manifest, and readHandlerArchive() reads .zip and .tar.gz back", async () => {
  const folder = await studioFolder("studio");
  try {
    for (const format of ["zip", "tar.gz"] as const) {
      const { bytes, manifest } = await packageHandlerFolder(folder, { format });
      deepStrictEqual(manifest, {
        version: "1.0.0",
        handler_subfolders: ["handlers"],
        module_path_subfolders: ["lib"],
      });
      const read = readHandlerArchive(`studio.${format}`, bytes);
      deepStrictEqual([...read.files.keys()].sort(), [
        "handlers/_helper.ts",
        "handlers/greet.ts",
        "lib/shared.ts",
        "manifest.json",
      ]);
    }
  } finally {
    await Deno.remove(`${folder}/..`, { recursive: true });
  }
});

Deno.test("readHandlerArchive() refuses a newer manifest, a missing one, missing folders and escaping paths", () => {
  const manifest = (value: unknown) => text(JSON.stringify(value));
  const ok1 = { version: "1.0.0", handler_subfolders: ["handlers"] };
  throws(
    () =>
      readHandlerArchive(
        "new.zip",
        zipSync({ "manifest.json": manifest({ ...ok1, version: "1.1.0" }), "handlers/a.ts": text("") }),
      ),
    /'new.zip': its manifest version 1.1.0 is newer than 1.0.0/,
  );
  throws(
    () => readHandlerArchive("none.zip", zipSync({ "handlers/a.ts": text("") })),
    /'none.zip': it has no manifest.json/,
  );
  throws(
    () => readHandlerArchive("hole.zip", zipSync({ "manifest.json": manifest(ok1), "other/a.ts": text("") })),
    /names the folder 'handlers', which the archive does not hold/,
  );
  throws(
    () =>
      readHandlerArchive(
        "evil.zip",
        zipSync({ "manifest.json": manifest(ok1), "handlers/a.ts": text(""), "../evil.ts": text("") }),
      ),
    /the path '..\/evil.ts' escapes the archive/,
  );
  const tar = gzipSync(
    writeTar([["manifest.json", manifest(ok1)], ["handlers/a.ts", text("")], ["handlers/../../x.ts", text("")]]),
  );
  throws(() => readHandlerArchive("evil.tar.gz", tar), /escapes the archive/);
  throws(() => readHandlerArchive("junk.zip", text("not a zip")), /'junk.zip': it cannot be read as zip/);
  throws(() => readHandlerArchive("notes.txt", text("hello")), /neither a .zip nor a .tar.gz/);
  throws(
    () => readHandlerArchive("bad.zip", zipSync({ "manifest.json": manifest({ version: "one" }) })),
    /version: must be a version like 1.0.0.*handler_subfolders/,
  );
});

Deno.test("handlers main() packages, adds, lists and removes archives per variant; refuses a broken one", async () => {
  const folder = await studioFolder("lighting");
  await using site = await sqliteSite();
  const out: string[] = [];
  const run = (...args: string[]) => handlersMain([...args, "--store", site.location], (line) => out.push(line));
  try {
    const zip = `${folder}.zip`;
    const tgz = `${folder}.tar.gz`;
    strictEqual(await handlersMain(["package", folder], (line) => out.push(line)), 0);
    strictEqual(await handlersMain(["package", folder, "--out", tgz], (line) => out.push(line)), 0);
    strictEqual(await run("add", zip, "--variant", "production"), 0);
    strictEqual(await run("add", tgz, "--variant", "staging", "--name", "lighting-tgz"), 0);
    out.length = 0;
    strictEqual(await run("list", "--json"), 0);
    deepStrictEqual(JSON.parse(out.join("")).map((a: { name: string; variant: string }) => `${a.variant}:${a.name}`), [
      "production:lighting",
      "staging:lighting-tgz",
    ]);
    const newer = `${folder}/../newer.zip`;
    await Deno.writeFile(
      newer,
      zipSync({ "manifest.json": text('{"version":"2.0.0","handler_subfolders":["h"]}'), "h/a.ts": text("") }),
    );
    strictEqual(await run("add", newer, "--variant", "production"), 1, "a newer manifest is refused");
    strictEqual(await run("add", zip), 2, "add needs --variant");
    strictEqual(await run("remove", "lighting", "--variant", "production"), 0);
    strictEqual(await run("remove", "lighting", "--variant", "production"), 1);
    out.length = 0;
    strictEqual(await run("list", "--variant", "production"), 0);
    deepStrictEqual(out, ["No handler archives."]);
  } finally {
    await Deno.remove(`${folder}/..`, { recursive: true });
  }
});

Deno.test("takeHandlerArchives() extracts the variant's archives into its own folder, skips broken ones, and cleans up after crashed processors", async () => {
  const studio = await studioFolder("comp");
  await using site = await sqliteSite();
  await using store = await site.open();
  const root = await Deno.makeTempDir({ prefix: "ferry-archives-root-" });
  try {
    const zip = await packageHandlerFolder(studio, { format: "zip" });
    const tgz = await packageHandlerFolder(studio, { format: "tar.gz" });
    // the same handlers under another name in the tar.gz: its module names its handler after the lib
    await store.addArchive(
      { name: "comp", variant: "production", filename: "comp.zip", manifest: zip.manifest },
      zip.bytes,
    );
    await store.addArchive(
      { name: "b-broken", variant: "production", filename: "b.zip", manifest: {} },
      text("PK garbage"),
    );
    await store.addArchive(
      { name: "other", variant: "staging", filename: "comp.tar.gz", manifest: tgz.manifest },
      tgz.bytes,
    );
    const left = `${root}/left-by-a-crash`;
    await Deno.mkdir(left);
    await Deno.writeTextFile(
      `${left}/owner.json`,
      JSON.stringify({ host: hostname(), pid: 2 ** 22 + 17, touchedAt: Date.now() }),
    );
    const alive = `${root}/another-processor`;
    await Deno.mkdir(alive);
    await Deno.writeTextFile(
      `${alive}/owner.json`,
      JSON.stringify({ host: hostname(), pid: Deno.pid, touchedAt: Date.now() }),
    );

    const workspace = await takeHandlerArchives({ store, variant: "production", root });
    await rejects(Deno.stat(left), Deno.errors.NotFound, "a crashed processor's folder is removed");
    ok((await Deno.stat(alive)).isDirectory, "a live processor's folder stays");
    strictEqual(workspace.handlerFolders.length, 1);
    strictEqual(workspace.failures.length, 1);
    ok(workspace.failures[0]!.path.includes("'b-broken'"));
    const { handlers, failures } = await discoverHandlers(workspace.handlerFolders);
    deepStrictEqual(handlers.map((handler) => handler.name), ["comp-greet"]);
    deepStrictEqual(failures, []);
    await workspace.close();
    await rejects(Deno.stat(workspace.folder), Deno.errors.NotFound, "removed on close");

    await using staging = await takeHandlerArchives({ store, variant: "staging", root });
    strictEqual(staging.handlerFolders.length, 1, "the tar.gz of staging");
    strictEqual(staging.failures.length, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(`${studio}/..`, { recursive: true });
  }
});
