/**
 * Temporary folders of in-memory trackers carry their process id, and those of processes that are
 * gone are removed at the next start (a killed tracker cannot remove its own).
 */
import { mkdir, readdir, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { ownedTempFolder } from "../services/tracker/owned_temp_folder.ts";
import { tempFolder } from "./_publish.ts";

const exists = (path: string) => stat(path).then(() => true, () => false);

Deno.test("ownedTempFolder() names the folder after this process and removes those of processes that are gone", async () => {
  await using parent = await tempFolder();
  const dead = join(parent.path, "ferry-tracker-files-999999999-Ab12Cd"); // above any pid Linux gives
  const live = join(parent.path, "ferry-tracker-files-1-Xy34Zw"); // pid 1 always runs
  const oldUnowned = join(parent.path, "ferry-tracker-files-Qw56Er");
  const freshUnowned = join(parent.path, "ferry-tracker-files-Ty78Ui");
  const other = join(parent.path, "ferry-multipart-999999999-Op90As");
  for (const path of [dead, live, oldUnowned, freshUnowned, other]) await mkdir(path);
  await mkdir(join(dead, ".partial"));
  const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
  await utimes(oldUnowned, twoDaysAgo, twoDaysAgo);

  const made = await ownedTempFolder("ferry-tracker-files-", { parent: parent.path });
  ok(made.startsWith(join(parent.path, `ferry-tracker-files-${Deno.pid}-`)), made);
  deepStrictEqual(
    [await exists(dead), await exists(live), await exists(oldUnowned), await exists(freshUnowned), await exists(other)],
    [false, true, false, true, true],
  );
  strictEqual((await stat(made)).mode & 0o777, 0o700);
  // A second folder of the same live process leaves the first alone.
  const second = await ownedTempFolder("ferry-tracker-files-", { parent: parent.path });
  ok(await exists(made) && await exists(second) && made !== second);
  await rejects(ownedTempFolder("../escape-", { parent: parent.path }), {
    name: "TypeError",
    message: /Cannot make a temporary folder named '\.\.\/escape-…'/,
  });
});

Deno.test("ownedTempFolder() lets a tracker started after an in-memory tracker was killed remove the killed one's folders", async () => {
  await using tmp = await tempFolder();
  const start = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL("../services/tracker/main.ts", import.meta.url).pathname, "--port", "0"]
        .concat(["--data", ":memory:"]),
      env: { TMPDIR: tmp.path },
      stdout: "piped",
      stderr: "null",
    }).spawn();
  /** Waits until the tracker says it listens (its folders exist by then). */
  const listening = async (child: Deno.ChildProcess) => {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("listening")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the tracker stopped before listening: ${text}`);
      text += value;
    }
    reader.releaseLock();
  };
  const first = start();
  await listening(first);
  const owned = (await readdir(tmp.path)).filter((name) => name.includes(`-${first.pid}-`));
  ok(owned.some((name) => name.startsWith("ferry-tracker-files-")), owned.join());
  ok(owned.some((name) => name.startsWith("ferry-multipart-")), owned.join());
  first.kill("SIGKILL");
  await first.status;
  await first.stdout.cancel().catch(() => {});

  const second = start();
  try {
    await listening(second);
    const names = await readdir(tmp.path);
    deepStrictEqual(names.filter((name) => name.includes(`-${first.pid}-`)), []);
    ok(names.some((name) => name.startsWith(`ferry-tracker-files-${second.pid}-`)), names.join());
  } finally {
    second.kill("SIGKILL");
    await second.status;
    await second.stdout.cancel().catch(() => {});
  }
});
