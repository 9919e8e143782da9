/**
 * The tracker's thumbnail cache folder is an owned temporary folder: named after the process, and
 * the folders of processes that are gone are removed when the next one is made.
 */
import { mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { deepStrictEqual, ok, rejects } from "node:assert/strict";
import { Thumbnails } from "../services/tracker/thumbnails.ts";
import { tempFolder } from "./_publish.ts";

Deno.test("Thumbnails makes its cache folder with the process id and sweeps those of dead processes", async () => {
  await using parent = await tempFolder();
  const dead = join(parent.path, "ferry-thumbnails-999999999-Ab12Cd"); // above any pid Linux gives
  await mkdir(dead);
  // A tool that fails: the folder is made before the tool runs.
  const thumbnails = new Thumbnails(() => ({ ffmpeg: "false", ffprobe: "false" }), { tempParent: parent.path });
  const source = { componentId: "c1", path: join(parent.path, "missing.png"), sha1: "ab", fileType: ".png" };
  await rejects(thumbnails.scaled(source, 10), { name: "ThumbnailError" });
  const names = await readdir(parent.path);
  deepStrictEqual(names.length, 1, names.join());
  ok(names[0]!.startsWith(`ferry-thumbnails-${Deno.pid}-`), names[0]);
  ok((await stat(join(parent.path, names[0]!))).isDirectory());
  await thumbnails.close();
  deepStrictEqual(await readdir(parent.path), []);
});
