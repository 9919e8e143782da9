/**
 * Large uploads go with their length (`Content-Length`, not chunked) so that the storage can serve
 * other clients meanwhile (issue 8, item 9), and are still checked against what the storage holds.
 */
import { createHash, randomUUID } from "node:crypto";
import http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { proxiedUrl, putStream, putStreamReaches } from "../src/tracker/put_stream.ts";
import { uploadFile } from "../src/tracker/upload_file.ts";
import { memoryTracker, openSession } from "./_tracker.ts";
import { tempFolder } from "./_publish.ts";

const sha1 = (bytes: Uint8Array) => createHash("sha1").update(bytes).digest("hex");

/** A node:http storage on a free port that records each request and answers with `answer`. */
async function recordingStorage(
  answer: (receivedSha1: string) => { status?: number; headers?: Record<string, string> },
) {
  const seen: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders; bytes: number }> = [];
  const server = http.createServer((request, response) => {
    const hash = createHash("sha1");
    let bytes = 0;
    request.on("data", (piece: Uint8Array) => {
      hash.update(piece);
      bytes += piece.length;
    });
    request.on("end", () => {
      seen.push({ method: request.method, url: request.url, headers: request.headers, bytes });
      const received = hash.digest("hex");
      const { status = 200, headers = {} } = answer(received);
      response.writeHead(status, { "x-received-sha1": received, ...headers });
      response.end(String(bytes));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/bucket/plate.mov?signature=abc`,
    seen,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

Deno.test("putStream() sends a stream with its Content-Length, not chunked, and returns the answer as a Response", async () => {
  await using storage = await recordingStorage(() => ({ status: 201, headers: { etag: '"abc"' } }));
  const bytes = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => i % 253);
  const response = await putStream({
    url: storage.url,
    headers: { "x-amz-acl": "private", "content-type": "video/quicktime" },
    body: new Blob([bytes]).stream(),
    contentLength: bytes.length,
  });
  strictEqual(response.status, 201);
  strictEqual(response.headers.get("etag"), '"abc"');
  strictEqual(response.headers.get("x-received-sha1"), sha1(bytes));
  strictEqual(await response.text(), String(bytes.length));
  const [request] = storage.seen;
  strictEqual(request?.method, "PUT");
  strictEqual(request?.url, "/bucket/plate.mov?signature=abc");
  strictEqual(request?.headers["content-length"], String(bytes.length));
  strictEqual(request?.headers["transfer-encoding"], undefined);
  strictEqual(request?.headers["x-amz-acl"], "private");
  strictEqual(request?.headers["content-type"], "video/quicktime");
});

Deno.test("putStream() refuses a body shorter or longer than announced, and rejects with the signal's reason when aborted", async () => {
  await using storage = await recordingStorage(() => ({}));
  await rejects(
    putStream({ url: storage.url, body: new Blob(["four"]).stream(), contentLength: 10 }),
    { name: "RangeError", message: "the body ended after 4 of the 10 bytes announced" },
  );
  await rejects(
    putStream({ url: storage.url, body: new Blob(["four"]).stream(), contentLength: 2 }),
    { name: "RangeError", message: "the body gave more than the 2 bytes announced" },
  );
  const abort = new AbortController();
  // A body that never ends: only the abort can stop the request.
  const endless = new ReadableStream<Uint8Array>({
    pull: (controller) => controller.enqueue(new Uint8Array(64 * 1024)),
  });
  const sending = putStream({ url: storage.url, body: endless, contentLength: 1 << 30, signal: abort.signal });
  setTimeout(() => abort.abort(new Error("stopped by the test")), 50);
  await rejects(sending, { message: "stopped by the test" });
  await rejects(
    putStream({ url: "ftp://example.com/x", body: new Blob([]).stream(), contentLength: 0 }),
    { name: "TypeError", message: /Cannot PUT to 'ftp:\/\/example\.com\/x': only http: and https:/ },
  );
  strictEqual(storage.seen.length, 0);
});

Deno.test("uploadFile() sends a file over 32 MiB with a Content-Length and the signed URL's headers, and still refuses corrupted storage", async () => {
  await using tracker = await memoryTracker();
  const session = await openSession(tracker);
  await using folder = await tempFolder();
  const large = new Uint8Array(33 * 1024 * 1024 + 17).map((_, i) => (i * 7) % 251);
  const path = join(folder.path, "plate.mov");
  await writeFile(path, large);
  const upload = (url: string, extra: Record<string, unknown> = {}) =>
    uploadFile(session, {
      componentId: randomUUID(),
      path,
      fileName: "plate.mov",
      target: { url, headers: { "x-amz-meta-show": "demo" }, ...extra },
    });

  // A storage that returns the SHA-1 of what it received, then one whose bytes are one bit off.
  await using honest = await recordingStorage((received) => ({ headers: { "x-ferry-sha1": received } }));
  const uploaded = await upload(honest.url, { sha1_header: "x-ferry-sha1" });
  strictEqual(uploaded.hex, sha1(large));
  strictEqual(honest.seen[0]?.headers["content-length"], String(large.length));
  strictEqual(honest.seen[0]?.headers["transfer-encoding"], undefined);
  strictEqual(honest.seen[0]?.headers["x-amz-meta-show"], "demo");
  strictEqual(honest.seen[0]?.bytes, large.length);

  const corrupted = large.slice();
  corrupted[corrupted.length - 1]! ^= 1;
  await using lying = await recordingStorage(() => ({ headers: { "x-ferry-sha1": sha1(corrupted) } }));
  await rejects(upload(lying.url, { sha1_header: "x-ferry-sha1" }), {
    name: "UploadError",
    message: new RegExp(`plate\\.mov': the storage holds different bytes \\(stored SHA-1 ${sha1(corrupted)}`),
  });
  strictEqual(lying.seen[0]?.headers["content-length"], String(large.length));

  // S3-style storage: the ETag is the MD5 of what it stored.
  const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");
  await using s3 = await recordingStorage(() => ({ headers: { etag: `"${md5(large)}"` } }));
  strictEqual((await upload(s3.url)).md5, md5(large));
  await using badS3 = await recordingStorage(() => ({ headers: { etag: `"${md5(corrupted)}"` } }));
  await rejects(upload(badS3.url), /the storage holds different bytes \(ETag [0-9a-f]{32}, sent MD5/);
  await using refusing = await recordingStorage(() => ({ status: 403, headers: {} }));
  await rejects(upload(refusing.url), /plate\.mov': the storage answered 403/);

  // The embedded tracker stores it byte for byte.
  const componentId = randomUUID();
  const stored = await uploadFile(session, { componentId, path, fileName: "plate.mov" });
  deepStrictEqual(tracker.tracker.files.info(componentId), { size: large.length, sha1: stored.hex });
  ok(stored.hex === sha1(large));
});

Deno.test("proxiedUrl() tells the URLs that go through an environment proxy (fetch's way), honouring NO_PROXY; putStreamReaches() leaves those to fetch", () => {
  const env = { https_proxy: "http://proxy:3128", NO_PROXY: "127.0.0.1, .studio.local,minio:9000" };
  strictEqual(proxiedUrl("https://bucket.s3.eu-west-1.amazonaws.com/key?X-Amz-Signature=1", env), true);
  strictEqual(proxiedUrl("http://bucket.s3.eu-west-1.amazonaws.com/key", env), false); // no HTTP_PROXY
  strictEqual(proxiedUrl("https://127.0.0.1:8070/upload/x", env), false);
  strictEqual(proxiedUrl("https://ftrack.studio.local/upload/x", env), false);
  strictEqual(proxiedUrl("https://studio.local/upload/x", env), false);
  strictEqual(proxiedUrl("https://minio/bucket/key", env), false);
  strictEqual(proxiedUrl("https://notstudio.local/upload/x", env), true);
  strictEqual(proxiedUrl("https://anything/x", { ...env, NO_PROXY: "*" }), false);
  strictEqual(proxiedUrl("https://anything/x", {}), false);
  // Nor where Deno is told which authorities to trust: node:https would not know them.
  strictEqual(putStreamReaches("https://minio.studio.local/k", { DENO_TLS_CA_STORE: "system" }), false);
  strictEqual(putStreamReaches("https://minio.studio.local/k", env), true);
  strictEqual(putStreamReaches("https://bucket.s3.amazonaws.com/k", env), false);
});

Deno.test("uploadFile() sends a large file over https (S3-style signed URL) with a Content-Length, checked by the MD5 ETag", async () => {
  await using folder = await tempFolder();
  const made = await new Deno.Command("openssl", {
    args: ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
      .concat(["-addext", "subjectAltName=DNS:localhost", "-keyout", "key.pem", "-out", "cert.pem"]),
    cwd: folder.path,
    stderr: "piped",
  }).output();
  ok(made.success, new TextDecoder().decode(made.stderr));
  const large = join(folder.path, "plate.mov");
  await writeFile(large, new Uint8Array(33 * 1024 * 1024 + 3).map((_, i) => i % 249));
  // The uploader runs in its own process: node:https reads NODE_EXTRA_CA_CERTS when it starts.
  const script = `
    import https from "node:https";
    import { createHash } from "node:crypto";
    import { readFileSync } from "node:fs";
    import { uploadFile } from ${JSON.stringify(new URL("../src/tracker/upload_file.ts", import.meta.url).href)};
    const [dir] = Deno.args;
    const seen = [];
    const server = https.createServer(
      { key: readFileSync(dir + "/key.pem"), cert: readFileSync(dir + "/cert.pem") },
      (request, response) => {
        const md5 = createHash("md5");
        request.on("data", (piece) => md5.update(piece));
        request.on("end", () => {
          seen.push({ length: request.headers["content-length"], chunked: request.headers["transfer-encoding"] });
          response.writeHead(200, { etag: '"' + md5.digest("hex") + '"' }).end();
        });
      },
    );
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const uploaded = await uploadFile({}, {
      componentId: "c1", path: dir + "/plate.mov", fileName: "plate.mov",
      target: { url: "https://localhost:" + server.address().port + "/bucket/plate.mov?X-Amz-Signature=1" },
    });
    server.close();
    console.log(JSON.stringify({ uploaded, seen }));
  `;
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script, folder.path],
    env: { NODE_EXTRA_CA_CERTS: join(folder.path, "cert.pem"), HTTPS_PROXY: "", https_proxy: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(run.stderr);
  ok(run.success, stderr);
  const { uploaded, seen } = JSON.parse(new TextDecoder().decode(run.stdout).trim());
  const bytes = new Uint8Array(33 * 1024 * 1024 + 3).map((_, i) => i % 249);
  strictEqual(uploaded.md5, createHash("md5").update(bytes).digest("hex"));
  strictEqual(uploaded.hex, sha1(bytes));
  deepStrictEqual(seen, [{ length: String(bytes.length) }]);
});
