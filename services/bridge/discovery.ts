import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { z } from "zod";

/** The discovery file a running bridge keeps in FERRY_HOME. */
export const BRIDGE_FILE = "bridge.json";

/** What `bridge.json` says: where the bridge listens and the token it wants. */
export const BridgeInfoSchema = z.object({
  url: z.string().url(),
  token: z.string().min(32),
  pid: z.number().int(),
  version: z.string(),
  startedAt: z.string(),
});
/** The contents of `bridge.json`. */
export type BridgeInfo = z.infer<typeof BridgeInfoSchema>;

/** Another live bridge already serves this FERRY_HOME. */
export class BridgeRunningError extends Error {
  readonly info: BridgeInfo;

  constructor(home: string, info: BridgeInfo) {
    super(
      `Cannot start a bridge for FERRY_HOME '${home}': the bridge of process ${info.pid} already serves it at ${info.url} (started ${info.startedAt}); use that one, or stop it first`,
    );
    this.name = "BridgeRunningError";
    this.info = info;
  }
}

/** Reads `bridge.json` of a FERRY_HOME; undefined when missing or unreadable. */
export async function readBridgeInfo(home: string): Promise<BridgeInfo | undefined> {
  try {
    return BridgeInfoSchema.parse(JSON.parse(await readFile(join(home, BRIDGE_FILE), "utf8")));
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** Whether a bridge.json names a live bridge: its process exists and its `/health` answers with its pid. */
export async function isBridgeAlive(info: BridgeInfo, options: { timeout?: number } = {}): Promise<boolean> {
  if (!isAlive(info.pid)) return false;
  try {
    const response = await fetch(new URL("/health", info.url), {
      signal: AbortSignal.timeout(options.timeout ?? 2000),
    });
    const body = await response.json() as { service?: string; pid?: number };
    return response.ok && body.service === "bridge" && body.pid === info.pid;
  } catch {
    return false;
  }
}

/**
 * The bridge serving a FERRY_HOME, when one is alive; a stale `bridge.json` (dead process, no
 * answer) is ignored.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { runningBridgeOf } from "./discovery.ts";
 *
 * ok(await runningBridgeOf("/nonexistent/ferry-home") === undefined);
 * ```
 */
export async function runningBridgeOf(home: string): Promise<BridgeInfo | undefined> {
  const info = await readBridgeInfo(home);
  return info && await isBridgeAlive(info) ? info : undefined;
}

/** The claim on a FERRY_HOME: releasing removes `bridge.json` if it is still this bridge's. */
export interface BridgeClaim {
  path: string;
  release(): Promise<void>;
}

/**
 * Writes `bridge.json` (mode 0600) for this bridge, exclusively: when a live bridge holds it,
 * {@linkcode BridgeRunningError}; a stale one is replaced.
 */
export async function claimBridgeFile(home: string, info: BridgeInfo): Promise<BridgeClaim> {
  await mkdir(home, { recursive: true });
  const path = join(home, BRIDGE_FILE);
  const text = JSON.stringify(info, null, 2);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await writeFile(path, text, { flag: "wx", mode: 0o600 });
      await chmod(path, 0o600).catch(() => {}); // no-op on Windows
      return {
        path,
        async release() {
          const current = await readBridgeInfo(home);
          if (current?.token === info.token) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    const before = await readFile(path, "utf8").catch(() => "");
    const existing = await readBridgeInfo(home);
    if (existing && await isBridgeAlive(existing)) throw new BridgeRunningError(home, existing);
    if (!existing) await new Promise((resolve) => setTimeout(resolve, 100)); // maybe being written
    const after = await readFile(path, "utf8").catch(() => "");
    if (after === before) await rm(path, { force: true });
  }
  throw new Error(`Cannot claim '${path}': other bridges keep starting on this FERRY_HOME`);
}
