/**
 * Multi-part uploads (issue 14): `get_upload_metadata` with `parts` answers one signed URL per part,
 * each part's ETag is its MD5, and `complete_multipart_upload` joins them into the component's
 * data. Through the official client (a 200 MiB file, as it uploads large files) and on the wire
 * (the Python client's requests).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import loglevel from "npm:loglevel@1";
import { memoryTracker, openSession } from "./_tracker.ts";
import { installXhrPolyfill } from "./_xhr_polyfill.ts";

loglevel.getLogger("ftrack_api").setLevel("silent");

// deno-lint-ignore no-explicit-any
type E = any;
type Running = Awaited<ReturnType<typeof memoryTracker>>;

const MIB = 1024 * 1024;
const SERVER_LOCATION_ID = "3a372bde-05bc-11e4-8908-20c9d081909b";

/** Deterministic bytes: 1 MiB blocks, each different. */
function block(index: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(MIB);
  const view = new DataView(bytes.buffer);
  for (let at = 0; at < MIB; at += 4) view.setUint32(at, (index * 2654435761 + at * 40503) >>> 0);
  return bytes;
}

async function wire(running: Running, operations: unknown[]): Promise<E> {
  const response = await fetch(`${running.url}/api`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "ftrack-user": running.apiUser,
      "ftrack-api-key": running.apiKey,
      "ftrack-strict-api": "false",
    },
    body: JSON.stringify(operations),
  });
  return await response.json();
}

/** The SHA-1 of a component's data as `/component/get` serves it, read as a stream. */
async function downloadedSha1(running: Running, componentId: string): Promise<string> {
  const response = await fetch(
    `${running.url}/component/get?id=${componentId}&username=${running.apiUser}&apiKey=${running.apiKey}`,
  );
  strictEqual(response.status, 200);
  const hash = createHash("sha1");
  for await (const chunk of response.body!) hash.update(chunk);
  return hash.digest("hex");
}

/** What the browser-only parts of the client's multi-part uploader read: `window.navigator.onLine`, listeners. */
function browserWindow(): Disposable {
  const global = globalThis as { window?: unknown };
  const before = global.window;
  global.window = { navigator: { onLine: true }, addEventListener() {}, removeEventListener() {} };
  return { [Symbol.dispose]: () => void (global.window = before) };
}

Deno.test("Session.createComponent uploads a 200 MiB file in parts through the signed part URLs; SHA-1 of the download matches", async () => {
  installXhrPolyfill();
  using _window = browserWindow();
  await using running = await memoryTracker();
  const session = await openSession(running);
  const sha1 = createHash("sha1");
  const blocks: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < 200; i++) {
    const bytes = block(i);
    sha1.update(bytes);
    blocks.push(bytes);
  }
  const file = new File(blocks, "plate.bin");
  blocks.length = 0;
  // Which URLs the client put its parts to (the XMLHttpRequest polyfill goes through fetch).
  const puts: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    if (init?.method === "PUT") puts.push(String(input));
    return realFetch(input, init);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const uploaded = session.createComponent(file, { data: { name: "plate" } });
    // The client never settles when its completion fails: a bound instead of a hang.
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the multi-part upload did not finish within 120 s")), 120_000);
    });
    const [created, location, metadata] = await Promise.race([uploaded, bound]) as E;
    const componentId = created.data.id as string;
    // The client takes the part URLs out of the answer as it uploads them.
    ok(typeof metadata.upload_id === "string" && Array.isArray(metadata.urls), "the tracker answered with parts");
    strictEqual(puts.length, 13, "200 MiB in 16 MiB parts");
    deepStrictEqual(
      puts.map((url) => Number(url.split("/").pop())).sort((a, b) => a - b),
      [...Array(13).keys()].map((i) => i + 1),
    );
    ok(puts.every((url) => url.startsWith(`${running.url}/upload/${metadata.upload_id}/part/`)), puts[0]);
    strictEqual(location.data.location_id, SERVER_LOCATION_ID);
    strictEqual(await downloadedSha1(running, componentId), sha1.digest("hex"));
    strictEqual(running.tracker.files.info(componentId)?.size, 200 * MIB);
    strictEqual(await running.tracker.multipart.heldBytes(), 0, "no parts are left behind");
  } finally {
    clearTimeout(timer);
    globalThis.fetch = realFetch;
  }
});

Deno.test("complete_multipart_upload: parts in any order, retried, checked by ETag and size (the Python client's requests)", async () => {
  await using running = await memoryTracker();
  const componentId = crypto.randomUUID();
  const bytes = new TextEncoder().encode("0123456789abcdefghij");
  const [metadata] = await wire(running, [
    {
      action: "get_upload_metadata",
      component_id: componentId,
      file_name: "a.txt",
      file_size: 20,
      checksum: null,
      parts: 3,
    },
  ]);
  strictEqual(metadata.component_id, componentId);
  deepStrictEqual(metadata.urls.map((url: E) => url.part_number), [1, 2, 3]);
  const put = async (part: number, body: Uint8Array<ArrayBuffer>) => {
    const url = metadata.urls[0].signed_url.replace(/\/part\/1$/, `/part/${part}`);
    const response = await fetch(url, { method: "PUT", body });
    await response.body?.cancel();
    return response;
  };
  const etags: Record<number, string> = {};
  for (const [part, slice] of [[3, bytes.slice(16)], [1, bytes.slice(0, 8)], [2, bytes.slice(8, 16)]] as const) {
    const response = await put(part, slice);
    strictEqual(response.status, 200);
    etags[part] = response.headers.get("etag")!.replaceAll('"', "");
    strictEqual(etags[part], createHash("md5").update(slice).digest("hex"));
  }
  // A retried part replaces the first try.
  strictEqual((await put(2, bytes.slice(8, 16))).status, 200);
  strictEqual((await put(4, bytes.slice(0, 1))).status, 400, "no part 4");

  const complete = (parts: Array<{ part_number: number; e_tag: string }>) =>
    wire(running, [{
      action: "complete_multipart_upload",
      upload_id: metadata.upload_id,
      component_id: componentId,
      parts,
    }]);
  const wrong = await complete([{ part_number: 1, e_tag: "0".repeat(32) }]);
  strictEqual(wrong.exception, "ValidationError");
  ok(/part 1 has ETag/.test(wrong.content), wrong.content);
  const parts = [1, 2, 3].map((n) => ({ part_number: n, e_tag: etags[n]! }));
  const [done] = await complete(parts);
  strictEqual(done.action, "complete_multipart_upload");
  strictEqual(done.component_id, componentId);
  strictEqual(await downloadedSha1(running, componentId), createHash("sha1").update(bytes).digest("hex"));
  // Completed once: the parts are gone; recorded in ftrack.server (as the client does next), data is written once.
  strictEqual((await put(1, bytes.slice(0, 8))).status, 404);
  const recorded = await wire(running, [
    { action: "create", entity_type: "FileComponent", entity_data: { id: componentId, name: "a", size: 20 } },
    {
      action: "create",
      entity_type: "ComponentLocation",
      entity_data: { component_id: componentId, location_id: SERVER_LOCATION_ID, resource_identifier: componentId },
    },
  ]);
  ok(Array.isArray(recorded), JSON.stringify(recorded));
  const again = await wire(running, [
    { action: "get_upload_metadata", component_id: componentId, file_name: "a.txt", file_size: 20, parts: 3 },
  ]);
  ok(/already stored/.test(again.content), again.content);
});

Deno.test("complete_multipart_upload: a missing part, bytes short of the size announced or another checksum are refused", async () => {
  await using running = await memoryTracker();
  const start = async () =>
    (await wire(running, [{
      action: "get_upload_metadata",
      component_id: crypto.randomUUID(),
      file_name: "b.bin",
      file_size: 10,
      parts: 2,
    }]))[0];
  const first = await start();
  await (await fetch(first.urls[0].signed_url, { method: "PUT", body: new Uint8Array(5) })).body?.cancel();
  const missing = await wire(running, [
    { action: "complete_multipart_upload", upload_id: first.upload_id, component_id: first.component_id, parts: [] },
  ]);
  ok(/part 2 of 2 was not received/.test(missing.content), missing.content);
  const second = await start();
  for (const url of second.urls) {
    await (await fetch(url.signed_url, { method: "PUT", body: new Uint8Array(2) })).body?.cancel();
  }
  const short = await wire(running, [
    { action: "complete_multipart_upload", upload_id: second.upload_id, component_id: second.component_id },
  ]);
  ok(/hold 4 bytes, but 10 were announced/.test(short.content), short.content);
  const tooLarge = await fetch(second.urls[0].signed_url, { method: "PUT", body: new Uint8Array(9) });
  strictEqual(tooLarge.status, 400);
  ok((await tooLarge.text()).includes("more than the 10 bytes"));
  // The Python client's checksum (the whole file's MD5, base64) is checked on the joined data.
  const checked = (await wire(running, [{
    action: "get_upload_metadata",
    component_id: crypto.randomUUID(),
    file_name: "c.bin",
    file_size: 4,
    checksum: createHash("md5").update("abcd").digest("base64"),
    parts: 2,
  }]))[0];
  for (const url of checked.urls) {
    await (await fetch(url.signed_url, { method: "PUT", body: new TextEncoder().encode("xy") })).body?.cancel();
  }
  const mismatch = await wire(running, [
    { action: "complete_multipart_upload", upload_id: checked.upload_id, component_id: checked.component_id },
  ]);
  ok(/MD5 .* does not match/.test(mismatch.content), mismatch.content);
  strictEqual(running.tracker.files.has(checked.component_id), false);
  const other = await wire(running, [{ action: "complete_multipart_upload", upload_id: "nope", component_id: "x" }]);
  ok(/unknown, finished or expired/.test(other.content), other.content);
});

Deno.test("complete_multipart_upload sent twice at once: one join, both answered", async () => {
  await using running = await memoryTracker();
  const componentId = crypto.randomUUID();
  const [metadata] = await wire(running, [
    { action: "get_upload_metadata", component_id: componentId, file_name: "d.bin", file_size: 4 * MIB, parts: 2 },
  ]);
  for (const [index, url] of metadata.urls.entries()) {
    const body = new Uint8Array(2 * MIB).fill(index + 1);
    await (await fetch(url.signed_url, { method: "PUT", body })).body?.cancel();
  }
  const complete = { action: "complete_multipart_upload", upload_id: metadata.upload_id, component_id: componentId };
  const answers = await Promise.all([wire(running, [complete]), wire(running, [complete])]);
  for (const answer of answers) strictEqual(answer[0]?.component_id, componentId, JSON.stringify(answer));
  strictEqual(running.tracker.files.info(componentId)?.size, 4 * MIB);
});
