import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** Folders named without an owner (made before owners were recorded) are swept after this long unchanged. */
const UNOWNED_AGE_MS = 24 * 60 * 60 * 1000;

/** Options of {@linkcode ownedTempFolder}. */
export interface OwnedTempFolderOptions {
  /** Where the folders go. @default {os.tmpdir()} */
  parent?: string;
  /** The owning process. @default {process.pid} */
  pid?: number;
}

/** Whether process `pid` still runs (one of another user counts as running). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * Makes a private temporary folder `<prefix><pid>-<random>` for this process, after removing the
 * folders of the same prefix whose process is gone: an in-memory tracker that was killed cannot
 * remove its own, and without this they pile up in the temporary folder. Folders of the prefix
 * named without a process id (made by older versions) are removed once unchanged for a day.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { ownedTempFolder } from "./owned_temp_folder.ts";
 *
 * const parent = await mkdtemp(join(tmpdir(), "ferry-example-"));
 * await mkdir(join(parent, "ferry-files-999999999-abc123")); // its process is gone
 * const folder = await ownedTempFolder("ferry-files-", { parent });
 * ok(folder.startsWith(join(parent, `ferry-files-${Deno.pid}-`)));
 * ok(await stat(join(parent, "ferry-files-999999999-abc123")).then(() => false, () => true));
 * await rm(parent, { recursive: true });
 * ```
 */
export async function ownedTempFolder(prefix: string, options: OwnedTempFolderOptions = {}): Promise<string> {
  const { parent = tmpdir(), pid = process.pid } = options;
  if (!/^[\w.-]+$/.test(prefix)) {
    throw new TypeError(`Cannot make a temporary folder named '${prefix}…': use letters, digits, '.', '_' and '-'`);
  }
  const names = await readdir(parent).catch(() => [] as string[]);
  const now = Date.now();
  await Promise.all(
    names.filter((name) => name.startsWith(prefix)).map(async (name) => {
      const owner = /^(\d+)-/.exec(name.slice(prefix.length))?.[1];
      const path = join(parent, name);
      if (owner !== undefined) {
        if (Number(owner) === pid || isRunning(Number(owner))) return;
      } else {
        const info = await stat(path).catch(() => undefined);
        if (!info?.isDirectory() || now - info.mtimeMs < UNOWNED_AGE_MS) return;
      }
      await rm(path, { recursive: true, force: true }).catch(() => {});
    }),
  );
  return await mkdtemp(join(parent, `${prefix}${pid}-`));
}
