/**
 * Pipeline stores for tests: a SQLite file in a temporary folder, or a PostgreSQL schema of its
 * own on the test server (so parallel runs never share tables), dropped afterwards.
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { openStore, type PipelineStore } from "../src/store/mod.ts";

/** The test server: `FERRY_TEST_POSTGRES`, else the local one with trust auth. */
export const POSTGRES_URL = Deno.env.get("FERRY_TEST_POSTGRES") ?? "postgres://postgres@127.0.0.1:5432/test";

let reachable: Promise<boolean> | undefined;

/** Whether the PostgreSQL test server answers (asked once); says loudly when it does not. */
export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const sql = postgres(POSTGRES_URL, { connect_timeout: 3, max: 1, onnotice: () => {} });
    try {
      await sql`select 1`;
      return true;
    } catch (error) {
      console.warn(
        `\n!!! PostgreSQL at ${POSTGRES_URL} is unreachable (${
          (error as Error).message
        }): the PostgreSQL store tests are SKIPPED !!!\n`,
      );
      return false;
    } finally {
      await sql.end({ timeout: 1 });
    }
  })();
  return reachable;
}

/** A place for a store that can be opened several times (several "processes") and is removed when disposed. */
export interface StoreSite extends AsyncDisposable {
  kind: "sqlite" | "postgres";
  /** The location to give `openStore` (or a service's `--store`). */
  location: string;
  open(options?: { migrateTo?: number }): Promise<PipelineStore>;
}

/** A SQLite file in a fresh temporary folder. */
export async function sqliteSite(): Promise<StoreSite> {
  const folder = await Deno.makeTempDir({ prefix: "ferry-store-" });
  const location = `${folder}/store.db`;
  return {
    kind: "sqlite",
    location,
    open: (options) => openStore(location, options),
    [Symbol.asyncDispose]: () => Deno.remove(folder, { recursive: true }),
  };
}

/** A fresh schema on the PostgreSQL test server. */
export function postgresSite(): Promise<StoreSite> {
  const schema = `ferry_test_${randomBytes(6).toString("hex")}`;
  const location = `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}schema=${schema}`;
  return Promise.resolve({
    kind: "postgres",
    location,
    open: (options) => openStore(location, options),
    [Symbol.asyncDispose]: async () => {
      const sql = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
  });
}

/** Both adapters, PostgreSQL marked `ignore` (and announced) when its server is unreachable. */
export async function storeKinds(): Promise<
  Array<{ kind: "sqlite" | "postgres"; site: () => Promise<StoreSite>; ignore: boolean }>
> {
  return [
    { kind: "sqlite", site: sqliteSite, ignore: false },
    { kind: "postgres", site: postgresSite, ignore: !(await postgresReachable()) },
  ];
}
