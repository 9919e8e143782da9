/**
 * Large uploads to the tracker running as its own process (issue 8, item 9): the bytes stored are
 * the bytes sent, and other clients are answered while an upload runs. The speed itself is shown
 * by `deno task bench publish --large`, not asserted here.
 */
import { ok, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { openSession } from "./_tracker.ts";
import { runningTrackerOf } from "../services/tracker/server.ts";
import { SHA1_HEADER, uploadFile } from "../src/tracker/upload_file.ts";

const MIB = 1024 * 1024;

/** `deno task tracker` on a temporary data folder, stopped and removed when disposed. */
async function trackerProcess() {
  const data = await mkdtemp(join(tmpdir(), "ferry-large-"));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../services/tracker/main.ts", import.meta.url).pathname, "--port", "0"]
      .concat(["--data", data]),
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stop = async () => {
    child.kill("SIGTERM");
    await child.stderr.cancel();
    await child.status;
    await rm(data, { recursive: true, force: true });
  };
  for (let tries = 0; tries < 600; tries++) {
    const lock = await runningTrackerOf(data);
    if (lock) return { url: lock.url, apiUser: lock.apiUser, apiKey: lock.apiKey, [Symbol.asyncDispose]: stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error("the tracker process did not start within 30 s");
}

/** Deterministic bytes: 1 MiB blocks, each different. */
function block(index: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(MIB);
  const view = new DataView(bytes.buffer);
  for (let at = 0; at < MIB; at += 4) view.setUint32(at, (index * 2654435761 + at * 40503) >>> 0);
  return bytes;
}

async function targetFor(session: Session, size: number) {
  const component = (await session.create("FileComponent", { name: "plate", file_type: ".bin", size })).data;
  const [target] = await session.call<{ url: string; headers: Record<string, string>; sha1_header: string }>([
    { action: "get_upload_metadata", component_id: component.id, file_name: "plate.bin", file_size: size } as never,
  ]);
  return { id: component.id as string, target: target! };
}

Deno.test("uploadFile() stores a 100 MiB file on a tracker process byte for byte (SHA-1 of the download)", async () => {
  await using running = await trackerProcess();
  const folder = await mkdtemp(join(tmpdir(), "ferry-large-file-"));
  try {
    const path = join(folder, "plate.bin");
    const file = await open(path, "w");
    const sent = createHash("sha1");
    for (let index = 0; index < 100; index++) {
      const bytes = block(index);
      sent.update(bytes);
      await file.write(bytes);
    }
    await file.close();
    const expected = sent.digest("hex");
    const session = await openSession(running);
    const { id, target } = await targetFor(session, 100 * MIB);
    const uploaded = await uploadFile(session, { componentId: id, path, fileName: "plate.bin", target });
    strictEqual(uploaded.hex, expected);
    const download = await fetch(
      `${running.url}/component/get?id=${id}&username=${running.apiUser}&apiKey=${running.apiKey}`,
    );
    const stored = createHash("sha1");
    for await (const chunk of download.body!) stored.update(chunk);
    strictEqual(stored.digest("hex"), expected);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

Deno.test("the tracker answers another client's query while a 100 MiB upload is in progress", async () => {
  await using running = await trackerProcess();
  const uploader = await openSession(running);
  const other = await openSession(running);
  const size = 100 * MIB;
  const { target } = await targetFor(uploader, size);
  const sent = createHash("sha1");
  let index = 0;
  let uploadDone = false;
  let answeredDuringUpload: boolean | undefined;
  // Half-way through, the uploader waits for the other client's answer before sending the rest:
  // a tracker that stalls other clients during an upload never answers, and the test times out.
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index === 50) {
        const answer = await other.query('select id, name from Location where name is "ftrack.server"');
        strictEqual(answer.data.length, 1);
        answeredDuringUpload = !uploadDone;
      }
      if (index === 100) {
        controller.close();
        return;
      }
      const bytes = block(index++);
      sent.update(bytes);
      controller.enqueue(bytes);
    },
  });
  const response = await fetch(target.url, {
    method: "PUT",
    headers: { ...target.headers, "content-length": String(size) },
    body,
    duplex: "half",
  } as RequestInit);
  uploadDone = true;
  strictEqual(response.status, 200, await response.text());
  strictEqual(answeredDuringUpload, true);
  ok(response.headers.get(SHA1_HEADER));
  strictEqual(response.headers.get(SHA1_HEADER), sent.digest("hex"));
});

Deno.test("the tracker stores a 100 MiB upload of announced length (Content-Length, as curl and Python send) byte for byte", async () => {
  await using running = await trackerProcess();
  const session = await openSession(running);
  const bytes = new Uint8Array(100 * MIB);
  for (let index = 0; index < 100; index++) bytes.set(block(index), index * MIB);
  const { target } = await targetFor(session, bytes.length);
  const response = await fetch(target.url, { method: "PUT", headers: target.headers, body: bytes });
  strictEqual(response.status, 200, await response.text());
  strictEqual(response.headers.get(SHA1_HEADER), createHash("sha1").update(bytes).digest("hex"));
});
