/**
 * The tracker's data folder lock is taken atomically: of two tracker processes started at the
 * same instant on one data folder, exactly one runs and the other exits 3 naming the holder; a
 * lock left by a process that is gone is taken over.
 */
import { ok, strictEqual } from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claimLockFile } from "../services/tracker/data_folder.ts";
import { LOCK_FILE, runningTrackerOf, startTracker } from "../services/tracker/server.ts";

const MAIN = new URL("../services/tracker/main.ts", import.meta.url).pathname;

async function temporaryFolder(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "ferry-tracker-lock-"));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

Deno.test("startTracker() lets one of two tracker processes started at once on a data folder run (3 rounds)", async () => {
  await using folder = await temporaryFolder();
  for (let round = 0; round < 3; round++) {
    const data = join(folder.path, `data-${round}`);
    const start = () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", MAIN, "--port", "0", "--data", data],
        stdout: "null",
        stderr: "piped",
      }).spawn();
    const children = [start(), start()];
    try {
      // The loser exits by itself; the winner runs until stopped.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const first = await Promise.race([
        ...children.map((child, index) => child.status.then(() => index)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`round ${round}: both trackers kept running`)), 30_000);
        }),
      ]).finally(() => clearTimeout(timer));
      const loser = children[first]!;
      const winner = children[1 - first]!;
      const status = await loser.status;
      const stderr = new TextDecoder().decode((await loser.output()).stderr);
      strictEqual(status.code, 3, `round ${round}: ${stderr}`);
      ok(stderr.includes(data) && stderr.includes(`process ${winner.pid}`), stderr);
      let lock = await runningTrackerOf(data);
      for (let tries = 0; lock === undefined && tries < 600; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        lock = await runningTrackerOf(data);
      }
      strictEqual(lock?.pid, winner.pid, `round ${round}: the winner holds the lock`);
      const health = await fetch(`${lock!.url}/api`, { method: "POST", body: "[]" }).catch((error) => error);
      ok(!(health instanceof Error), `the winner answers at ${lock!.url}`);
      await (health as Response).body?.cancel();
    } finally {
      for (const child of children) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        await child.status;
      }
    }
  }
});

Deno.test("startTracker() takes over the lock file of a process that is gone", async () => {
  await using folder = await temporaryFolder();
  const data = join(folder.path, "data");
  await using _first = await startTracker({ port: 0, data });
  await _first.close();
  const stale = { pid: 999_999_999, url: "http://127.0.0.1:1", apiUser: "x", apiKey: "y" };
  await writeFile(join(data, LOCK_FILE), JSON.stringify(stale));
  await using running = await startTracker({ port: 0, data });
  const lock = JSON.parse(await readFile(join(data, LOCK_FILE), "utf8"));
  strictEqual(lock.pid, Deno.pid);
  strictEqual(lock.url, running.url);
  await running.close();
  ok(await readFile(join(data, LOCK_FILE)).then(() => false, () => true), "the lock goes with the tracker");
});

Deno.test("claimLockFile() gives a live holder's content and never a half-written lock", async () => {
  await using folder = await temporaryFolder();
  const path = join(folder.path, "x.lock");
  // pid 1 always runs.
  await writeFile(path, JSON.stringify({ pid: 1, url: "http://holder" }));
  const claimed = await claimLockFile(path, { pid: Deno.pid });
  ok("holder" in claimed && (claimed.holder as { url?: string }).url === "http://holder");
  await rm(path);
  const mine = await claimLockFile(path, { pid: Deno.pid });
  ok("lock" in mine);
  if ("lock" in mine) {
    await mine.lock.update({ pid: Deno.pid, url: "http://new" } as { pid: number });
    strictEqual(JSON.parse(await readFile(path, "utf8")).url, "http://new");
    await mine.lock.release();
  }
  ok(await readFile(path).then(() => false, () => true));
});

Deno.test("connectTracker() in two processes started at once on one FERRY_HOME: one starts the tracker, the other uses it", async () => {
  await using folder = await temporaryFolder();
  const processor = new URL("../services/processor/main.ts", import.meta.url).pathname;
  const env: Record<string, string> = { FERRY_HOME: folder.path };
  for (const name of ["FTRACK_SERVER", "FTRACK_API_USER", "FTRACK_API_KEY"]) env[name] = "";
  const start = (store: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", processor, "--store", join(folder.path, store), "--port", "0"],
      env,
      stdout: "null",
      stderr: "piped",
    }).spawn();
  const children = [start("a.db"), start("b.db")];
  const outputs = ["", ""];
  const readers = children.map(async (child, index) => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) outputs[index] += decoder.decode(chunk, { stream: true });
  });
  try {
    const deadline = Date.now() + 60_000;
    while (!outputs.every((text) => text.includes("health and metrics"))) {
      const ended = await Promise.race([
        ...children.map((child) => child.status.then((status) => status.code)),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
      ]);
      if (ended !== undefined) throw new Error(`a processor ended (exit ${ended}):\n${outputs.join("\n---\n")}`);
      if (Date.now() > deadline) throw new Error(`the processors did not both start:\n${outputs.join("\n---\n")}`);
    }
    const lock = await runningTrackerOf(join(folder.path, "tracker"));
    ok(lock && children.some((child) => child.pid === lock.pid), "one of them runs the tracker");
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    for (const child of children) await child.status;
    await Promise.all(readers);
  }
});
