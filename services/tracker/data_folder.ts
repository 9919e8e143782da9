import { chmod, link, mkdir, open, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
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

/** What a lock file holds: the owning process, and whatever else its owner tells. */
export type LockContent = { readonly pid: number };

/** A lock file this process holds. */
export interface HeldLock {
  /** The lock file. */
  readonly path: string;
  /** Replaces what the lock file says (atomically: readers see the old or the new content). */
  update(content: LockContent): Promise<void>;
  /** Removes the lock file (once). */
  release(): Promise<void>;
}

/** How long a half-done stale-lock removal (its `.break` file) is waited for before it is taken over. */
const BREAK_TIMEOUT_MS = 10_000;

const alive = (pid: unknown) => {
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

async function readLock(path: string): Promise<{ text: string; content: LockContent | undefined } | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const content = JSON.parse(text);
    return { text, content: content && typeof content === "object" ? content : undefined };
  } catch {
    return { text, content: undefined };
  }
}

/** Writes `content` to a new private file beside `path` and returns its name. */
async function written(path: string, content: LockContent): Promise<string> {
  const temporary = `${path}.${process.pid}.${crypto.randomUUID().slice(0, 8)}`;
  await writeFile(temporary, JSON.stringify(content, null, 2), { mode: PRIVATE_FILE_MODE, flag: "wx" });
  return temporary;
}

/**
 * Takes the lock file `path` atomically for this process: the content is written to a file of its
 * own first, then linked to `path` (`link()` fails when `path` exists), so of two processes
 * starting at the same instant exactly one gets it, and readers never see half a lock. A lock of
 * a process that is gone (or of this process, left by a tracker not closed) is removed and taken,
 * under a `.break` file so that two processes cannot both remove it. Returns the lock, or the
 * content of a live holder's lock.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { join } from "node:path";
 * import { claimLockFile } from "./data_folder.ts";
 *
 * const folder = await Deno.makeTempDir();
 * const claimed = await claimLockFile(join(folder, "x.lock"), { pid: Deno.pid });
 * ok("lock" in claimed);
 * if ("lock" in claimed) await claimed.lock.release();
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function claimLockFile(
  path: string,
  content: LockContent,
): Promise<{ lock: HeldLock } | { holder: LockContent }> {
  const deadline = Date.now() + 3 * BREAK_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const temporary = await written(path, content);
    try {
      await link(temporary, path);
      return { lock: heldLock(path) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      await unlink(temporary).catch(() => {});
    }
    const found = await readLock(path);
    if (found === undefined) continue; // released meanwhile: try again
    if (found.content && alive(found.content.pid)) return { holder: found.content };
    // Stale: removed by whoever creates the .break file first, after looking again.
    const breaker = `${path}.break`;
    try {
      await (await open(breaker, "wx", PRIVATE_FILE_MODE)).close();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const since = await stat(breaker).then((info) => Date.now() - info.mtimeMs, () => 0);
      if (since > BREAK_TIMEOUT_MS) await unlink(breaker).catch(() => {});
      else await new Promise((resolve) => setTimeout(resolve, 10));
      continue;
    }
    try {
      const again = await readLock(path);
      if (again?.text === found.text) await unlink(path).catch(() => {});
    } finally {
      await unlink(breaker).catch(() => {});
    }
  }
  throw new Error(`Cannot take the lock file '${path}': it stayed stale and could not be removed`);
}

function heldLock(path: string): HeldLock {
  let released = false;
  return {
    path,
    async update(content) {
      if (released) throw new Error(`Cannot update the lock file '${path}': it was released`);
      await rename(await written(path, content), path);
    },
    async release() {
      if (released) return;
      released = true;
      await unlink(path).catch(() => {});
    },
  };
}
