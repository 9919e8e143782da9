import process from "node:process";
import { ferryHome } from "../config/ferry_home.ts";
import { openStore, storeLocation } from "../store/open_store.ts";
import type { PipelineStore } from "../store/pipeline_store.ts";
import { EXIT } from "./exit_codes.ts";

/** Options of {@linkcode openCommandStore}. */
export interface OpenCommandStoreOptions {
  /** `--store`: a SQLite file or a `postgres://` URL. @default {`FERRY_STORE`, else `<home>/store.db`} */
  store?: string;
  /** @default {process.env} */
  env?: Record<string, string | undefined>;
  /** ferry's data folder. @default {ferryHome()} */
  home?: string;
  /** Whether a missing SQLite store is made (commands that only read say no). @default {true} */
  create?: boolean;
  /** Where the reason goes when the store cannot be opened. @default {console.error} */
  report?: (line: string) => void;
}

/**
 * Opens the pipeline store a command names (`--store`, else `FERRY_STORE`, else
 * `<home>/store.db`), or gives the exit code 3 after printing why it cannot be opened.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { openCommandStore } from "./open_command_store.ts";
 *
 * const opened = await openCommandStore({ store: ":memory:", env: {}, home: "/nowhere" });
 * ok("store" in opened);
 * if ("store" in opened) await opened.store.close();
 * const missing = await openCommandStore({ store: "/nowhere/store.db", env: {}, home: "/nowhere", create: false, report: () => {} });
 * ok("exit" in missing && missing.exit === 3);
 * ```
 */
export async function openCommandStore(
  options: OpenCommandStoreOptions,
): Promise<{ store: PipelineStore } | { exit: number }> {
  const { env = process.env, home = ferryHome(), create = true, report = (line: string) => console.error(line) } =
    options;
  const location = options.store ?? storeLocation(env, home);
  try {
    return { store: await openStore(location, { create }) };
  } catch (error) {
    report((error as Error).message);
    return { exit: EXIT.ENVIRONMENT };
  }
}
