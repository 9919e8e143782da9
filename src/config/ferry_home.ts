import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** Where ferry keeps its per-user data, given the environment (pure, for tests). */
export interface FerryHomeInput {
  env: Record<string, string | undefined>;
  platform: string;
  home: string;
}

/**
 * The per-user data folder: `FERRY_HOME` when set; otherwise `$XDG_DATA_HOME/ferry`
 * (`~/.local/share/ferry`) on Linux, `~/Library/Application Support/ferry` on macOS and
 * `%LOCALAPPDATA%\ferry` on Windows.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ferryHome } from "./ferry_home.ts";
 *
 * ok(ferryHome({ env: { FERRY_HOME: "/srv/ferry" }, platform: "linux", home: "/home/a" }) === "/srv/ferry");
 * ok(ferryHome({ env: {}, platform: "linux", home: "/home/a" }) === "/home/a/.local/share/ferry");
 * ```
 */
export function ferryHome(
  input: FerryHomeInput = { env: process.env, platform: process.platform, home: homedir() },
): string {
  const { env, platform, home } = input;
  if (env.FERRY_HOME) return env.FERRY_HOME;
  if (platform === "win32") return join(env.LOCALAPPDATA ?? join(home, "AppData", "Local"), "ferry");
  if (platform === "darwin") return join(home, "Library", "Application Support", "ferry");
  return join(env.XDG_DATA_HOME || join(home, ".local", "share"), "ferry");
}
