/**
 * Timeouts of the tracker connection a publish uses: uploads fail when they make no progress, not
 * when they take long; API calls that get no answer fail naming the server.
 */
import { ok, rejects, strictEqual, throws } from "node:assert/strict";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { ConfigurationError } from "../src/config/configuration_error.ts";
import { trackerTimeout } from "../src/config/tracker_timeout.ts";
import { openSession } from "../src/tracker/open_session.ts";
import { TrackerConnectionError } from "../src/tracker/tracker_connection_error.ts";
import { uploadFile } from "../src/tracker/upload_file.ts";
import { memoryTracker, openSession as sessionOn } from "./_tracker.ts";
import { tempFolder } from "./_publish.ts";

const options = { sanitizeOps: false, sanitizeResources: false };
const SIZE = 40 * 1024 * 1024;

/** A 40 MiB file (streamed by the uploader, not sent as one buffer). */
async function bigFile(folder: string): Promise<string> {
  const path = join(folder, "plate.exr");
  const file = await open(path, "w");
  await file.truncate(SIZE);
  await file.close();
  return path;
}

/** A storage that takes uploads: `read` decides how it reads each request's body. */
function storage(read: (body: ReadableStream<Uint8Array>) => Promise<number>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const received = await read(request.body!);
    return new Response(String(received), { status: 200 });
  });
  return {
    url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/upload/x`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

Deno.test({
  ...options,
  name: "uploadFile() fails naming the storage when the upload makes no progress for idleTimeout",
  fn: async () => {
    await using tracker = await memoryTracker();
    const session = await sessionOn(tracker);
    await using folder = await tempFolder();
    const path = await bigFile(folder.path);
    const stopped = Promise.withResolvers<number>();
    // Reads nothing until the test ends: the upload stalls once the socket buffers are full.
    await using stalled = storage(() => stopped.promise);
    await rejects(
      uploadFile(session, {
        componentId: crypto.randomUUID(),
        path,
        fileName: "plate.exr",
        target: { url: stalled.url },
        idleTimeout: 1_000,
      }),
      (error: Error) => {
        ok(error instanceof TrackerConnectionError, String(error));
        strictEqual(error.problem, "timeout");
        ok(error.message.startsWith(`Cannot reach the tracker at '${new URL(stalled.url).origin}'`), error.message);
        ok(/the upload of '.*plate\.exr' made no progress for 1 s/.test(error.message), error.message);
        return true;
      },
    );
    stopped.resolve(0);
  },
});

Deno.test({
  ...options,
  name: "uploadFile() keeps going past idleTimeout while bytes keep moving",
  fn: async () => {
    await using tracker = await memoryTracker();
    const session = await sessionOn(tracker);
    await using folder = await tempFolder();
    const path = await bigFile(folder.path);
    let started = 0;
    // About 20 MiB/s (50 ms per MiB): the 40 MiB take about 2 s or more, longer than the 1 s limit,
    // and are never idle that long.
    await using slow = storage(async (body) => {
      started = performance.now();
      let received = 0;
      let owed = 0;
      for await (const chunk of body) {
        received += chunk.length;
        owed += chunk.length;
        if (owed >= 1024 * 1024) {
          await new Promise((resolve) => setTimeout(resolve, 50 * Math.floor(owed / (1024 * 1024))));
          owed %= 1024 * 1024;
        }
      }
      return received;
    });
    const uploaded = await uploadFile(session, {
      componentId: crypto.randomUUID(),
      path,
      fileName: "plate.exr",
      target: { url: slow.url },
      idleTimeout: 1_000,
    });
    strictEqual(uploaded.size, SIZE);
    const took = performance.now() - started;
    console.log(`40 MiB at a slow storage took ${(took / 1000).toFixed(1)} s with a 1 s no-progress limit`);
  },
});

Deno.test({
  ...options,
  name: "openSession() calls time out after `timeout` naming the server when it never answers",
  fn: async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    (async () => {
      for await (const conn of listener) held.push(conn);
    })().catch(() => {});
    const server = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    try {
      await rejects(openSession({ server, apiUser: "a", apiKey: "b" }, { timeout: 300 }), (error: Error) => {
        ok(error instanceof TrackerConnectionError, String(error));
        strictEqual(error.problem, "timeout");
        strictEqual(
          error.message,
          `Cannot reach the tracker at '${server}': it did not answer within 0.3 s (change the limit with --timeout <seconds> or FERRY_TRACKER_TIMEOUT)`,
        );
        return true;
      });
    } finally {
      listener.close();
      for (const conn of held) conn.close();
    }
  },
});

Deno.test("trackerTimeout() takes --timeout over FERRY_TRACKER_TIMEOUT over 60 s, refusing bad values by name", () => {
  strictEqual(trackerTimeout({ env: {} }), 60_000);
  strictEqual(trackerTimeout({ env: { FERRY_TRACKER_TIMEOUT: "" } }), 60_000);
  strictEqual(trackerTimeout({ env: { FERRY_TRACKER_TIMEOUT: "2.5" } }), 2_500);
  strictEqual(trackerTimeout({ env: { FERRY_TRACKER_TIMEOUT: "2.5" }, flag: 10 }), 10_000);
  for (
    const [env, flag, message] of [
      [{ FERRY_TRACKER_TIMEOUT: "soon" }, undefined, "Cannot use FERRY_TRACKER_TIMEOUT 'soon': must be a number"],
      [{ FERRY_TRACKER_TIMEOUT: "-1" }, undefined, "Cannot use FERRY_TRACKER_TIMEOUT '-1': must be a number"],
      [{}, "0", "Cannot use --timeout '0': must be a number"],
      [{}, " ", "Cannot use --timeout ' ': must be a number"],
    ] as const
  ) {
    throws(() => trackerTimeout({ env, flag }), (error: Error) => {
      ok(error instanceof ConfigurationError && error.exitCode === 3, String(error));
      ok(error.message.startsWith(message), error.message);
      return true;
    });
  }
});

Deno.test({
  ...options,
  name: "uploadFile() to a storage that is gone fails as a connection problem naming it, not as the file's",
  fn: async () => {
    await using tracker = await memoryTracker();
    const session = await sessionOn(tracker);
    await using folder = await tempFolder();
    const path = join(folder.path, "frame.exr");
    await Deno.writeTextFile(path, "pixels");
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const origin = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    listener.close();
    await rejects(
      uploadFile(session, {
        componentId: crypto.randomUUID(),
        path,
        fileName: "frame.exr",
        target: { url: `${origin}/u` },
      }),
      (error: Error) => {
        ok(error instanceof TrackerConnectionError, String(error));
        strictEqual(error.problem, "unreachable");
        ok(
          error.message.startsWith(`Cannot reach the tracker at '${origin}': the upload of '${path}' failed`),
          error.message,
        );
        return true;
      },
    );
  },
});
