/**
 * The processor and the transmitter wait for a tracker that is down, as the leecher does: each
 * attempt is logged with its reason, they start once it answers, and stop cleanly on SIGTERM while
 * waiting; refused credentials exit 3 at once (the leecher's too).
 */
import { ok, strictEqual } from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTracker } from "../services/tracker/server.ts";

const SERVICES = {
  processor: new URL("../services/processor/main.ts", import.meta.url).pathname,
  transmitter: new URL("../services/transmitter/main.ts", import.meta.url).pathname,
};

const LEECHER = new URL("../services/leecher/main.ts", import.meta.url).pathname;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A service process whose stderr lines are collected; `waitFor` resolves when a line matches. */
function spawnService(main: string, home: string, env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", main, "--store", join(home, "store.db"), ...(main === LEECHER ? [] : ["--port", "0"])],
    env: { FERRY_HOME: home, ...env },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(text)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    }
  })();
  return {
    child,
    get text() {
      return text;
    },
    waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
      if (pattern.test(text)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line ${pattern} in:\n${text}`)), timeoutMs);
        waiters.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
        reading.then(() => {
          clearTimeout(timer);
          reject(new Error(`the service ended without the log line ${pattern}:\n${text}`));
        });
      });
    },
    async exit(): Promise<number> {
      const { code } = await child.status;
      await reading;
      return code;
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      await reading;
    },
  };
}

for (const [name, main] of Object.entries(SERVICES)) {
  Deno.test(`${name} main() waits for a tracker that is down, logging each attempt, and starts once it answers`, async () => {
    const home = await mkdtemp(join(tmpdir(), `ferry-retry-${name}-`));
    try {
      const port = freePort();
      const env = { FTRACK_SERVER: `http://127.0.0.1:${port}`, FTRACK_API_USER: "svc", FTRACK_API_KEY: "secret-key" };
      await using service = spawnService(main, home, env);
      await service.waitFor(/cannot reach the tracker \(attempt 2\)/);
      ok(service.text.includes(`127.0.0.1:${port}`), `the reason names the server:\n${service.text}`);
      await using _tracker = await startTracker({ port, data: ":memory:", apiUser: "svc", apiKey: "secret-key" });
      await service.waitFor(/INFO \w+: health/);
      service.child.kill("SIGTERM");
      strictEqual(await service.exit(), 0, service.text);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
}

Deno.test("processor main() stops cleanly on SIGTERM while waiting for the tracker", async () => {
  const home = await mkdtemp(join(tmpdir(), "ferry-retry-stop-"));
  try {
    const env = { FTRACK_SERVER: `http://127.0.0.1:${freePort()}`, FTRACK_API_USER: "svc", FTRACK_API_KEY: "k" };
    await using service = spawnService(SERVICES.processor, home, env);
    await service.waitFor(/attempt 1/);
    service.child.kill("SIGTERM");
    strictEqual(await service.exit(), 0, service.text);
    ok(service.text.includes("stopped before the tracker could be reached"), service.text);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

for (const [name, main] of Object.entries({ ...SERVICES, leecher: LEECHER })) {
  Deno.test(`${name} main() exits 3 at once when the tracker refuses the API key`, async () => {
    const home = await mkdtemp(join(tmpdir(), `ferry-retry-key-${name}-`));
    try {
      await using tracker = await startTracker({ port: 0, data: ":memory:" });
      const env = { FTRACK_SERVER: tracker.url, FTRACK_API_USER: tracker.apiUser, FTRACK_API_KEY: "wrong-key" };
      await using service = spawnService(main, home, env);
      strictEqual(await service.exit(), 3, service.text);
      ok(/refused/.test(service.text) && !/attempt/.test(service.text), service.text);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
}
