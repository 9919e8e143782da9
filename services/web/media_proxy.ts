import type { TrackerCredentials } from "../../src/tracker/tracker_credentials.ts";
import { WebError } from "./web_error.ts";

const MEDIA_TYPES: Record<string, string> = {
  ".mp4": "video/mp4",
  ".m4v": "video/mp4",
  ".webm": "video/webm",
  ".mov": "video/quicktime",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
  ".gif": "image/gif",
  ".webp": "image/webp",
};

/**
 * The media type to serve a component's data with, from its file type (`.mp4` → `video/mp4`);
 * anything else is a download (`application/octet-stream`).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mediaType } from "./media_proxy.ts";
 *
 * ok(mediaType(".MP4") === "video/mp4" && mediaType(".exr") === "application/octet-stream");
 * ```
 */
export function mediaType(fileType: string): string {
  const key = fileType.toLowerCase();
  return MEDIA_TYPES[key.startsWith(".") ? key : `.${key}`] ?? "application/octet-stream";
}

/**
 * One byte range of a `Range` header (`bytes=0-`, `bytes=100-199`, `bytes=-500`) against a
 * length: `[start, end]` inclusive, `undefined` for no (or a multi-range) header, `null` when it
 * cannot be satisfied.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { parseRange } from "./media_proxy.ts";
 *
 * deepStrictEqual(parseRange("bytes=0-", 10), [0, 9]);
 * deepStrictEqual(parseRange("bytes=-4", 10), [6, 9]);
 * deepStrictEqual(parseRange("bytes=20-", 10), null);
 * ```
 */
export function parseRange(header: string | undefined, length: number): [number, number] | null | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) return null;
    start = Math.max(0, length - suffix);
    end = length - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? length - 1 : Math.min(Number(match[2]), length - 1);
  }
  if (start >= length || start > end) return null;
  return [start, end];
}

/** Bytes `start..end` (inclusive) of a stream; the rest is not read. */
function sliceStream(body: ReadableStream<Uint8Array>, start: number, end: number): ReadableStream<Uint8Array> {
  let offset = 0;
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (true) {
        const { value, done } = await reader.read();
        if (done || offset > end) {
          controller.close();
          await reader.cancel().catch(() => {});
          return;
        }
        const from = offset;
        offset += value.byteLength;
        if (offset <= start) continue;
        controller.enqueue(value.subarray(Math.max(0, start - from), Math.min(value.byteLength, end + 1 - from)));
        if (offset > end) {
          controller.close();
          await reader.cancel().catch(() => {});
        }
        return;
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** Options of {@linkcode proxyComponent}. */
export interface ProxyComponentOptions {
  /** `get` for the data, `thumbnail` for a thumbnail. @default {"get"} */
  route?: "get" | "thumbnail";
  /** The browser's `Range` header. */
  range?: string;
  /** The component's file type, for the media type. @default {""} */
  fileType?: string;
  signal?: AbortSignal;
}

/**
 * A component's data from the tracker (`/component/get` or `/component/thumbnail`, with the view's
 * credentials, which the browser never sees), with its media type and single byte ranges, so
 * that a `<video>` can seek. A range the tracker does not serve itself is cut from its answer.
 */
export async function proxyComponent(
  credentials: TrackerCredentials,
  id: string,
  options: ProxyComponentOptions = {},
): Promise<Response> {
  const { route = "get", range, fileType = "", signal } = options;
  const url = new URL(`/component/${route}`, credentials.server);
  url.searchParams.set("id", id);
  url.searchParams.set("username", credentials.apiUser);
  url.searchParams.set("apiKey", credentials.apiKey);
  let upstream: Response;
  try {
    upstream = await fetch(url, {
      headers: {
        "ftrack-user": credentials.apiUser,
        "ftrack-api-key": credentials.apiKey,
        ...(range ? { range } : {}),
      },
      redirect: "manual",
      signal,
    });
    // A hosted site answers with a signed storage URL: followed without the credentials.
    for (let hops = 0; hops < 5 && upstream.status >= 300 && upstream.status < 400; hops++) {
      const location = upstream.headers.get("location");
      await upstream.body?.cancel();
      if (!location) break;
      upstream = await fetch(new URL(location, url), {
        headers: range ? { range } : {},
        redirect: "manual",
        signal,
      });
    }
  } catch (error) {
    throw new WebError(502, "tracker_unreachable", `Cannot read component '${id}' from the tracker: ${error}`, {
      cause: error,
    });
  }
  if (upstream.status === 404) {
    await upstream.body?.cancel();
    throw new WebError(404, "component_data_not_found", `The tracker stores no data for component '${id}'`);
  }
  if (!upstream.ok || !upstream.body) {
    await upstream.body?.cancel();
    throw new WebError(502, "tracker_error", `The tracker answered ${upstream.status} for component '${id}'`);
  }
  const headers = new Headers({
    "content-type": mediaType(fileType),
    "cache-control": "private, max-age=3600",
    "accept-ranges": "bytes",
    "x-content-type-options": "nosniff",
  });
  const etag = upstream.headers.get("etag");
  if (etag) headers.set("etag", etag);
  const length = Number(upstream.headers.get("content-length") ?? NaN);
  if (upstream.status === 206) {
    for (const name of ["content-range", "content-length"]) {
      const value = upstream.headers.get(name);
      if (value) headers.set(name, value);
    }
    return new Response(upstream.body, { status: 206, headers });
  }
  if (!Number.isFinite(length)) return new Response(upstream.body, { status: 200, headers });
  const wanted = parseRange(range, length);
  if (wanted === null) {
    await upstream.body.cancel();
    headers.set("content-range", `bytes */${length}`);
    return new Response(null, { status: 416, headers });
  }
  if (wanted === undefined) {
    headers.set("content-length", String(length));
    return new Response(upstream.body, { status: 200, headers });
  }
  const [start, end] = wanted;
  headers.set("content-range", `bytes ${start}-${end}/${length}`);
  headers.set("content-length", String(end - start + 1));
  return new Response(sliceStream(upstream.body, start, end), { status: 206, headers });
}
