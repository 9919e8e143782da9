import { rm } from "node:fs/promises";
import type { GatheredWriter } from "./gathered_writer.ts";

/**
 * Undoes an upload that failed part-way: the request body is cancelled, the writes queued so far
 * end before the file is closed, and the partial file is removed. Each piece may be missing (the
 * failure came before it existed).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { abandonUpload } from "./abandon_upload.ts";
 *
 * const path = await Deno.makeTempFile();
 * await abandonUpload({ partial: path });
 * ok(!(await Deno.stat(path).then(() => true, () => false)));
 * ```
 */
export async function abandonUpload(upload: {
  reader?: ReadableStreamDefaultReader<Uint8Array>;
  writer?: GatheredWriter;
  file?: { close(): void };
  partial: string;
}): Promise<void> {
  await upload.reader?.cancel().catch(() => {});
  await upload.writer?.release();
  try {
    upload.file?.close();
  } catch {
    // already closed
  }
  await rm(upload.partial, { force: true });
}
