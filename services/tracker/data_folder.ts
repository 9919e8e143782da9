import { chmod, mkdir, open, stat } from "node:fs/promises";
import { join } from "node:path";
import { EXIT } from "../../src/cli/exit_codes.ts";

/** The tracker's database in its data folder (SQLite adds `-wal` and `-shm` beside it). */
export const DATABASE_FILE = "tracker.sqlite";

/** Folder and file modes of a data folder: readable by its owner only (it holds API key hashes). */
export const PRIVATE_FOLDER_MODE = 0o700;
/** Mode of every file the tracker writes. */
export const PRIVATE_FILE_MODE = 0o600;

/** A data folder that cannot be used: the message names the folder and the problem (exit code 3). */
export class DataFolderError extends Error {
  readonly path: string;
  readonly exitCode = EXIT.ENVIRONMENT;

  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`Cannot use '${path}' as the tracker's data folder: ${reason}`, options);
    this.name = "DataFolderError";
    this.path = path;
  }
}

const posix = () => (globalThis as { Deno?: { build: { os: string } } }).Deno?.build.os !== "windows";

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOTDIR":
    case "EEXIST":
      return "a part of its path is a file, not a folder";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "it is on a read-only file system";
    case "ENOENT":
      return "it cannot be created there (a parent folder is missing and cannot be made)";
    case "ENOSPC":
      return "the disk is full";
    default:
      return (error as Error).message;
  }
}

/**
 * Makes the tracker's data folder ready: creates it (mode 0700) or tightens an existing one to
 * 0700, and makes the database and lock files its owner's only (0600; SQLite gives its journal
 * files the database's mode). Throws {@linkcode DataFolderError} naming the folder when it is a
 * file, cannot be created or is not writable (e.g. under `/proc`).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { join } from "node:path";
 * import { openDataFolder } from "./data_folder.ts";
 *
 * const parent = await Deno.makeTempDir();
 * await openDataFolder(join(parent, "tracker"));
 * ok(((await Deno.stat(join(parent, "tracker"))).mode! & 0o777) === 0o700);
 * await Deno.remove(parent, { recursive: true });
 * ```
 */
export async function openDataFolder(path: string): Promise<void> {
  const found = await stat(path).catch(() => undefined);
  if (found && !found.isDirectory()) throw new DataFolderError(path, "it is a file, not a folder");
  try {
    if (!found) await mkdir(path, { recursive: true, mode: PRIVATE_FOLDER_MODE });
    if (posix()) await chmod(path, PRIVATE_FOLDER_MODE);
    // The database exists before SQLite opens it, with the mode its journal files then copy.
    await (await open(join(path, DATABASE_FILE), "a", PRIVATE_FILE_MODE)).close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = found && ["ENOENT", "EACCES", "EPERM"].includes(code ?? "")
      ? `files cannot be created in it (${code})`
      : reasonOf(error);
    throw new DataFolderError(path, reason, { cause: error });
  }
  if (!posix()) return;
  for (const name of [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, "tracker.json"]) {
    await chmod(join(path, name), PRIVATE_FILE_MODE).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw new DataFolderError(path, `'${name}': ${reasonOf(error)}`, { cause: error });
    });
  }
}

/**
 * A SQLite error met while opening the data folder's database, as a {@linkcode DataFolderError}
 * naming the database (a damaged or foreign `tracker.sqlite`); other errors unchanged.
 */
export function databaseProblem(path: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== "ERR_SQLITE_ERROR") return error;
  return new DataFolderError(
    path,
    `its database '${join(path, DATABASE_FILE)}' cannot be used: ${(error as Error).message}`,
    { cause: error },
  );
}
