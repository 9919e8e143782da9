import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Options of {@linkcode loadSchemas}. */
export interface LoadSchemasOptions {
  /** The folder schemas are kept in, one file per schema hash (made when missing). */
  folder: string;
  /** The `query_server_information` operation the client asks first. */
  information: Record<string, unknown>;
  /** Sends operations to the server, answers in order. */
  call(operations: Array<Record<string, unknown>>): Promise<unknown[]>;
}

/** Schema hashes ferry keeps a file of (anything else is asked for every time). */
const HASH = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * The answers to the client's first call (`[server information, schemas]`) with the schemas read
 * from `folder` when the server's `schema_hash` names a file there; otherwise asked and kept under
 * that hash. A server without a schema hash is asked for both at once, as without a cache; an
 * unreadable or unwritable folder only costs the download.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadSchemas } from "./schema_cache.ts";
 *
 * const folder = await mkdtemp(join(tmpdir(), "schemas-"));
 * const asked: string[] = [];
 * const call = (operations: Array<Record<string, unknown>>) => {
 *   asked.push(...operations.map((operation) => String(operation.action)));
 *   return Promise.resolve(operations.map((operation) =>
 *     operation.action === "query_schemas" ? [{ id: "Shot" }] : { schema_hash: "abc" }
 *   ));
 * };
 * const options = { folder, information: { action: "query_server_information" }, call };
 * await loadSchemas(options);
 * const [, schemas] = await loadSchemas(options);
 * ok(asked.join() === "query_server_information,query_schemas,query_server_information");
 * ok((schemas as Array<{ id: string }>)[0]?.id === "Shot");
 * await rm(folder, { recursive: true });
 * ```
 */
export async function loadSchemas(options: LoadSchemasOptions): Promise<[unknown, unknown]> {
  const { folder, information, call } = options;
  const [info] = await call([information]);
  const hash = (info as { schema_hash?: unknown } | null)?.schema_hash;
  if (typeof hash !== "string" || !HASH.test(hash)) {
    const [schemas] = await call([{ action: "query_schemas" }]);
    return [info, schemas];
  }
  const file = join(folder, `${hash}.json`);
  try {
    const kept = JSON.parse(await readFile(file, "utf8"));
    if (Array.isArray(kept) && kept.length > 0) return [info, kept];
  } catch {
    // not kept yet, or unreadable: asked below
  }
  const [schemas] = await call([{ action: "query_schemas" }]);
  try {
    await mkdir(folder, { recursive: true });
    const partial = `${file}.${crypto.randomUUID()}.partial`;
    await writeFile(partial, JSON.stringify(schemas));
    await rename(partial, file);
  } catch {
    // a folder ferry cannot write: the schemas are asked again next time
  }
  return [info, schemas];
}
