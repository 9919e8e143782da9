import http from "node:http";
import https from "node:https";
import process from "node:process";

/** Options of {@linkcode putStream}. */
export interface PutStreamOptions {
  /** Where the bytes go (`http:` or `https:`). */
  url: string;
  /** Request headers, e.g. those of a signed URL; `content-length` is set from `contentLength`. */
  headers?: HeadersInit;
  /** The body, pulled only as fast as the connection takes it. */
  body: ReadableStream<Uint8Array>;
  /** Bytes `body` gives, sent as `Content-Length` (the request is not chunked). */
  contentLength: number;
  /** Aborts the request and the reading of the answer (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Whether requests to `url` go through a proxy named by the environment (`HTTPS_PROXY`,
 * `HTTP_PROXY`, lower case too, unless `NO_PROXY` names the host), as Deno's `fetch` decides: it
 * uses such a proxy and {@linkcode putStream} does not, so a caller keeps `fetch` for these URLs.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { proxiedUrl } from "./put_stream.ts";
 *
 * const env = { HTTPS_PROXY: "http://proxy:3128", NO_PROXY: "localhost,.studio.local" };
 * ok(proxiedUrl("https://bucket.s3.amazonaws.com/key", env));
 * ok(!proxiedUrl("https://ftrack.studio.local/upload/x", env));
 * ok(!proxiedUrl("http://localhost:8070/upload/x", env));
 * ```
 */
export function proxiedUrl(url: string, env: Record<string, string | undefined> = process.env): boolean {
  const { protocol, hostname } = new URL(url);
  const named = (name: string) => env[name] || env[name.toLowerCase()];
  const proxy = protocol === "https:" ? named("HTTPS_PROXY") : named("HTTP_PROXY");
  if (!proxy) return false;
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return !(named("NO_PROXY") ?? "").split(/[\s,]+/).some((entry) => {
    const name = entry.replace(/:\d+$/, "").replace(/^\*?\./, "").toLowerCase();
    return entry === "*" || (name !== "" && (host === name || host.endsWith(`.${name}`)));
  });
}

/**
 * Whether {@linkcode putStream} reaches `url` as `fetch` would: not when `fetch` would go through
 * an environment proxy ({@linkcode proxiedUrl}), nor, for `https:`, when Deno is told which
 * certificate authorities to trust (`DENO_CERT`, `DENO_TLS_CA_STORE`), which `node:https` ignores
 * (it takes `NODE_EXTRA_CA_CERTS`). Elsewhere a caller keeps `fetch`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { putStreamReaches } from "./put_stream.ts";
 *
 * ok(putStreamReaches("https://bucket.s3.amazonaws.com/key", {}));
 * ok(!putStreamReaches("https://minio.studio.local/key", { DENO_CERT: "/etc/studio-ca.pem" }));
 * ok(putStreamReaches("http://127.0.0.1:8070/upload/x", { DENO_CERT: "/etc/studio-ca.pem" }));
 * ```
 */
export function putStreamReaches(url: string, env: Record<string, string | undefined> = process.env): boolean {
  if (proxiedUrl(url, env)) return false;
  return new URL(url).protocol !== "https:" || (!env.DENO_CERT && !env.DENO_TLS_CA_STORE);
}

/** Statuses whose answers carry no body (a `Response` refuses one for them). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * PUTs a streamed body with a known `Content-Length`, which `fetch` cannot do (it sends a stream
 * chunked). A server can then read the body at its own pace and let other requests in between
 * reads; with chunked bodies, ferry's embedded tracker cannot without slowing down (issue 8,
 * item 9). The body is pulled only when the connection has taken the previous piece, so a caller
 * that watches its pulls sees the real progress. Redirects are not followed (a streamed body
 * cannot be sent twice); the answer is returned as a `Response` like `fetch`'s. Network failures
 * reject with a `TypeError` whose `cause` is the socket's error, as `fetch` does; a body that
 * ends before `contentLength` bytes, or gives more, rejects with a `RangeError`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import http from "node:http";
 * import { putStream } from "./put_stream.ts";
 *
 * const server = http.createServer((request, response) => {
 *   let bytes = 0;
 *   request.on("data", (piece) => (bytes += piece.length));
 *   request.on("end", () => response.end(`${request.headers["content-length"]} ${bytes}`));
 * });
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const response = await putStream({
 *   url: `http://127.0.0.1:${port}/data`,
 *   body: new Blob(["hello ", "world"]).stream(),
 *   contentLength: 11,
 * });
 * ok((await response.text()) === "11 11");
 * server.close();
 * ```
 */
export async function putStream(options: PutStreamOptions): Promise<Response> {
  const { body, contentLength, signal } = options;
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new RangeError(`Cannot send a body of '${contentLength}' bytes: it must be a whole number ≥ 0`);
  }
  const url = new URL(options.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`Cannot PUT to '${options.url}': only http: and https: URLs are supported`);
  }
  const headers: Record<string, string> = {};
  new Headers(options.headers).forEach((value, name) => (headers[name] = value));
  headers["content-length"] = String(contentLength);
  delete headers["transfer-encoding"];

  return await new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const reader = body.getReader();
    let answered = false;
    let settled = false;
    let failBody: ((error: unknown) => void) | undefined;
    const fail = (error: unknown) => {
      done();
      request.destroy();
      reader.cancel(error).catch(() => {});
      failBody?.(error);
      if (!settled) {
        settled = true;
        reject(error);
      }
    };
    const onAbort = () => fail(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => signal?.removeEventListener("abort", onAbort);

    const request = (url.protocol === "https:" ? https : http).request(url, { method: "PUT", headers }, (answer) => {
      answered = true;
      // The storage answered (perhaps before taking every byte, e.g. to refuse): stop sending.
      reader.cancel().catch(() => {});
      const status = answer.statusCode ?? 0;
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value === undefined) continue;
        for (const one of Array.isArray(value) ? value : [value]) responseHeaders.append(name, one);
      }
      const stream = NULL_BODY.has(status) ? null : new ReadableStream<Uint8Array>({
        start(controller) {
          failBody = (error) => {
            try {
              controller.error(error);
            } catch { /* already closed */ }
          };
          answer.on("data", (piece: Uint8Array) => controller.enqueue(new Uint8Array(piece)));
          answer.on("end", () => {
            done();
            try {
              controller.close();
            } catch { /* already errored */ }
          });
          answer.on(
            "error",
            (error) => failBody!(new TypeError(`the answer broke off: ${error.message}`, { cause: error })),
          );
        },
        cancel() {
          done();
          answer.destroy();
        },
      });
      if (!stream) answer.resume().on("end", done);
      let response: Response;
      try {
        response = new Response(stream, { status, statusText: answer.statusMessage, headers: responseHeaders });
      } catch (error) {
        return fail(new TypeError(`the storage answered an unusable status ${status}`, { cause: error }));
      }
      settled = true;
      resolve(response);
    });
    request.on("error", (error) => {
      // A socket error after the answer began breaks the answer's body instead.
      if (settled) return failBody?.(new TypeError(`the answer broke off: ${error.message}`, { cause: error }));
      fail(new TypeError(`error sending request for url (${url.href}): ${error.message}`, { cause: error }));
    });

    (async () => {
      let sent = 0;
      while (!answered && !settled) {
        const { done: ended, value } = await reader.read();
        if (answered || settled) return;
        if (ended) break;
        sent += value.length;
        if (sent > contentLength) {
          throw new RangeError(`the body gave more than the ${contentLength} bytes announced`);
        }
        if (!request.write(value)) {
          await new Promise<void>((wake) => {
            const wakeUp = () => {
              request.off("drain", wakeUp);
              request.off("close", wakeUp);
              wake();
            };
            request.on("drain", wakeUp);
            request.on("close", wakeUp);
          });
        }
      }
      if (answered || settled) return;
      if (sent !== contentLength) {
        throw new RangeError(`the body ended after ${sent} of the ${contentLength} bytes announced`);
      }
      request.end();
    })().catch((error) => {
      if (!answered) fail(error);
    });
  });
}
