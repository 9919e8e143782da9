import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`). */
export const CHROMIUM = Deno.env.get("FERRY_CHROMIUM") ?? "/usr/bin/chromium";

/** Whether Chromium is installed; says loudly when not. */
export function chromiumAvailable(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  console.warn(
    `\n!!! SKIPPED: ${what} needs Chromium at ${CHROMIUM} (apt-get install chromium, or set FERRY_CHROMIUM) !!!\n`,
  );
  return false;
}

/** A headless Chromium with a fresh profile, closed and removed when disposed. */
export interface Chromium extends AsyncDisposable {
  context: BrowserContext;
}

/**
 * Starts headless Chromium through playwright-core with a fresh `--user-data-dir`, no sandbox, no
 * GPU and no background traffic, at 1280×800.
 */
export async function launchChromium(): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), "ferry-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
  return {
    context,
    async [Symbol.asyncDispose]() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}
