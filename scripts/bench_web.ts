/**
 * `deno task bench web`: the web view's version page on the demo data, in Chromium. `deno task
 * demo` publishes to a temporary FERRY_HOME, `deno task web` serves it as its own process, and
 * headless Chromium (playwright-core, cache disabled) loads the version page cold, several times:
 * bytes transferred (scripts, and everything until the network is idle, review movie metadata
 * included) and the time to show it (navigation start to the `load` event: HTML, stylesheet,
 * thumbnail, poster; also first contentful paint and the movie's metadata). Targets: under
 * 200 kB of script and under 300 ms. Figures are printed, not gated.
 *
 * @module
 */
import { chromiumAvailable, launchChromium } from "../services/web/_chromium.ts";
import { demoHome } from "../services/web/_demo_home.ts";
import type { PageDocument, PageNavigationTiming, PageResourceTiming, PageVideo } from "../services/web/_page_types.ts";

// What the page.evaluate callback below sees in the browser.
declare const document: PageDocument;

const WEB = new URL("../services/web/main.ts", import.meta.url).pathname;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

/** Starts `deno task web` on a free port for a FERRY_HOME; resolves to its login URL and a stop function. */
async function startWebProcess(env: Record<string, string | undefined>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", WEB, "--port", "0"],
    env: env as Record<string, string>,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const firstLine = async () => {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    return text.split("\n")[0]!;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const line = await Promise.race([
    firstLine(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("deno task web did not start in 60 s")), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));
  if (!line.includes("?token=")) {
    const stderr = await new Response(child.stderr).text();
    throw new Error(`deno task web did not print its address: ${stderr}`);
  }
  void child.stderr.cancel();
  return {
    loginUrl: line.trim(),
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await reader.cancel().catch(() => {});
    },
  };
}

/** Runs the benchmark and prints its figures. */
export async function benchWeb(quick: boolean): Promise<void> {
  if (!chromiumAvailable("deno task bench web")) return;
  const rounds = quick ? 3 : 10;
  const setupStart = performance.now();
  await using demo = await demoHome({ frames: 48 });
  const web = await startWebProcess(demo.env);
  try {
    await using browser = await launchChromium();
    const page = await browser.context.newPage();
    const origin = new URL(web.loginUrl).origin;
    await page.goto(web.loginUrl);
    await page.goto(`${origin}/search?q=beauty`);
    const href = await page.locator(".card a").first().getAttribute("href");
    if (!href) throw new Error("the demo version is not on the search page");
    const versionUrl = `${origin}${href}`;
    console.log(
      `web view: version page of the demo (48 frames, beauty v001) from deno task web as its own process, Chromium headless, cache disabled; ${rounds} cold loads after 1 warm-up (set-up ${
        ((performance.now() - setupStart) / 1000).toFixed(1)
      } s)`,
    );

    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    const types = new Map<string, string>();
    // Bytes per request: what arrived (a movie's range requests are often cancelled once the
    // browser has what it wants, so they never "finish"), or the final count when they do.
    const received = new Map<string, { data: number; encoded: number; finished?: number }>();
    const entry = (id: string) => received.get(id) ?? received.set(id, { data: 0, encoded: 0 }).get(id)!;
    cdp.on("Network.responseReceived", (event) => types.set(event.requestId, event.type));
    cdp.on("Network.dataReceived", (event) => {
      // encodedDataLength is often 0 per chunk (then counted at the end), and stays 0 for the
      // chunks of a cancelled request; the decoded length counts those.
      const counts = entry(event.requestId);
      counts.data += event.dataLength;
      counts.encoded += event.encodedDataLength;
    });
    cdp.on("Network.loadingFinished", (event) => {
      entry(event.requestId).finished = event.encodedDataLength;
    });
    const tally = () => {
      const bytes = { total: 0, script: 0, document: 0, stylesheet: 0, image: 0, media: 0, other: 0, requests: 0 };
      for (const [id, counts] of received) {
        const count = counts.finished ?? Math.max(counts.data, counts.encoded);
        const type = (types.get(id) ?? "Other").toLowerCase();
        const key = (["script", "document", "stylesheet", "image", "media"].includes(type)
          ? type
          : "other") as keyof typeof bytes;
        bytes[key] += count;
        bytes.total += count;
        bytes.requests++;
      }
      received.clear();
      types.clear();
      return bytes;
    };

    const samples: Array<ReturnType<typeof tally> & { ttfb: number; fcp: number; load: number; metadata: number }> = [];
    for (let round = 0; round <= rounds; round++) {
      await page.goto("about:blank");
      tally();
      await page.goto(versionUrl, { waitUntil: "networkidle" });
      const timing = await page.evaluate(async () => {
        const video = document.querySelector<PageVideo>("video");
        if (video && video.readyState < 1) {
          await new Promise<void>((resolve) =>
            video.addEventListener("loadedmetadata", () => resolve(), { once: true })
          );
        }
        const navigation = performance.getEntriesByType("navigation")[0] as unknown as PageNavigationTiming;
        const fcp = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN;
        const metadata = (performance.getEntriesByType("resource") as unknown as PageResourceTiming[])
          .filter((entry) => entry.initiatorType === "video").map((entry) => entry.responseEnd);
        return {
          ttfb: navigation.responseStart,
          load: navigation.loadEventEnd,
          fcp,
          metadata: metadata.length ? Math.max(...metadata) : NaN,
        };
      });
      if (round > 0) samples.push({ ...tally(), ...timing });
    }
    const pick = (key: keyof (typeof samples)[number]) => median(samples.map((sample) => sample[key]));
    console.log("  transfer (median)      bytes");
    console.log(`    script               ${kB(pick("script")).padStart(9)}   (target < 200 kB)`);
    console.log(`    HTML                 ${kB(pick("document")).padStart(9)}`);
    console.log(`    stylesheet           ${kB(pick("stylesheet")).padStart(9)}`);
    console.log(`    images               ${kB(pick("image")).padStart(9)}   (thumbnail and poster)`);
    console.log(
      `    review movie         ${kB(pick("media")).padStart(9)}   (preload=metadata: what the browser asked for)`,
    );
    console.log(`    all                  ${kB(pick("total")).padStart(9)}   in ${pick("requests")} requests`);
    console.log("  time from navigation start (median, min–max)");
    const line = (label: string, key: "ttfb" | "fcp" | "load" | "metadata", note = "") => {
      const values = samples.map((sample) => sample[key]);
      console.log(
        `    ${label.padEnd(20)} ${median(values).toFixed(0).padStart(6)} ms  (${Math.min(...values).toFixed(0)}–${
          Math.max(...values).toFixed(0)
        })${note}`,
      );
    };
    line("first byte", "ttfb");
    line("first paint", "fcp");
    line("load (shown)", "load", "   (target < 300 ms)");
    line("movie metadata", "metadata");

    // The one page script, for what the live pages (Publishes, a job) cost.
    await page.goto("about:blank");
    tally();
    await page.goto(`${origin}/publishes`, { waitUntil: "networkidle" });
    const bytes = tally();
    console.log(`  Publishes page: script ${kB(bytes.script)}, all ${kB(bytes.total)} (the page script, minified)`);
  } finally {
    await web.stop();
  }
}

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(
      "Usage: deno task bench web [--quick]\n\nThe web view's version page in Chromium: bytes and time to show.",
    );
  } else await benchWeb(Deno.args.includes("--quick"));
}
