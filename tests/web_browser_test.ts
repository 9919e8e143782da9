/**
 * The web view end to end in Debian's Chromium (playwright-core): after `deno task demo`, the page
 * lists the demo project, opens the version and plays its review movie; a publish started through
 * the bridge appears and finishes live; a failed event is retried from the page and ends finished.
 * Screenshots go to `.ferry/artifacts/web/`.
 */
import { ok, strictEqual } from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { toWireEvent } from "../src/events/event.ts";
import { LEECH_TOPIC, openStore, PROC_TOPIC } from "../src/store/mod.ts";
import { createLogger } from "../src/cli/service_log.ts";
import { startBridge } from "../services/bridge/server.ts";
import { defineHandler } from "../services/processor/define_handler.ts";
import { startProcessor } from "../services/processor/processor.ts";
import { startWeb } from "../services/web/server.ts";
import { chromiumAvailable, launchChromium } from "../services/web/_chromium.ts";
import { demoHome } from "../services/web/_demo_home.ts";
import type { PageDocument, PageElement, PageImage, PageStyle, PageVideo } from "../services/web/_page_types.ts";

// What the page.evaluate callbacks below see in the browser.
declare const document: PageDocument;
declare function getComputedStyle(element: PageElement): PageStyle;
import { bridgeEnv, NO_REVIEW, waitPlugins } from "./_bridge.ts";
import { writeFrames } from "./_publish.ts";

const ARTIFACTS = new URL("../.ferry/artifacts/web/", import.meta.url).pathname;
const available = chromiumAvailable("web_browser_test (the web view in a browser)");

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every element Tab reaches is a real link, button or form control, and shows a focus style. */
async function checkKeyboard(page: Page, presses: number) {
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const element = document.activeElement;
      if (!element || element === document.body) return null;
      const style = getComputedStyle(element);
      return { tag: element.tagName, outline: style.outlineStyle, width: style.outlineWidth };
    });
    if (focused === null) break;
    ok(
      ["A", "BUTTON", "INPUT", "SELECT", "VIDEO", "DIV", "SUMMARY"].includes(focused.tag),
      `Tab reached a ${focused.tag}`,
    );
    ok(focused.outline !== "none" && focused.width !== "0px", `a focus style on ${focused.tag}`);
  }
}

/** At 390×844 the page does not scroll sideways (wide tables scroll inside their own box). */
async function checkNarrow(page: Page, name: string) {
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth
  );
  ok(overflow <= 0, `${name}: no sideways scrolling in a narrow window (${overflow} px too wide)`);
  await page.screenshot({ path: join(ARTIFACTS, `${name}-390x844.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

Deno.test({
  name: "web view in Chromium: demo version with thumbnail and review movie, a live bridge publish, a retried event",
  ignore: !available,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await mkdir(ARTIFACTS, { recursive: true });
    await using demo = await demoHome({ frames: 24 });
    await using web = await startWeb({ port: 0, env: { ...demo.env, FERRY_VARIANT: "dev" } });
    await using browser = await launchChromium();
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    const foreign: string[] = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (!["data:", "about:"].includes(url.protocol) && url.origin !== new URL(web.url).origin) foreign.push(url.href);
    });
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });

    await t.step(
      "after deno task demo, the page lists the demo project and plays the version's review movie",
      async () => {
        await page.goto(web.loginUrl);
        strictEqual(new URL(page.url()).search, "", "the token left the address bar");
        await page.getByRole("link", { name: /demo/ }).click();
        await page.getByRole("link", { name: /sq010/ }).click();
        await page.getByRole("link", { name: /sh010/ }).click();
        await page.locator(".card a").first().click();
        await page.waitForSelector("h1:has-text('beauty v001')");
        await page.waitForFunction(() => {
          const image = document.querySelector<PageImage>("img#thumbnail");
          return image !== null && image.complete && image.naturalWidth > 0;
        });
        const hasVideo = await page.locator("video#review").count() === 1;
        const ffmpeg = await new Deno.Command("ffmpeg", { args: ["-version"], stdout: "null", stderr: "null" }).output()
          .then((output) => output.success, () => false);
        if (ffmpeg) {
          ok(hasVideo, "ffmpeg made a review movie, so the page has a <video>");
          await page.waitForFunction(() => document.querySelector<PageVideo>("video#review")!.readyState >= 1);
          const state = await page.evaluate(async () => {
            const video = document.querySelector<PageVideo>("video#review")!;
            video.muted = true;
            await video.play();
            await new Promise((resolve) => setTimeout(resolve, 300));
            return {
              readyState: video.readyState,
              duration: video.duration,
              time: video.currentTime,
              width: video.videoWidth,
            };
          });
          ok(state.duration > 0.5, `the movie has a duration (${state.duration} s)`);
          ok(state.width > 0, "the movie has frames");
          ok(state.time > 0, `the movie plays (at ${state.time} s)`);
          await page.evaluate(() => document.querySelector<PageVideo>("video#review")!.pause());
        } else {
          console.warn(
            "\n!!! web_browser_test: ffmpeg is missing, so no review movie to play (apt-get install ffmpeg) !!!\n",
          );
        }
        const text = await page.locator("table.components").innerText();
        ok(/sha1:[0-9a-f]{40}/.test(text), "fingerprints shown");
        ok(text.includes("1001-1024") && text.includes("24 files"), "the sequence's frames shown");
        ok(text.includes("ftrack.server"), "locations shown");
        if (ffmpeg) ok(text.includes("1001-1024 @ 24 fps, 640×360"), "the review movie's frames, rate and size shown");
        ok((await page.locator(".facts").innerText()).includes("Pending Review"), "the status shown");
        ok((await page.locator(".facts").innerText()).includes("ferry demo publish"), "the note shown");
        await page.evaluate(() => document.activeElement?.blur());
        await page.screenshot({ path: join(ARTIFACTS, "version-1280x800.png") });
        await checkKeyboard(page, 12);

        await checkNarrow(page, "version");

        await page.getByRole("searchbox", { name: "Search by name" }).fill("beau");
        await page.keyboard.press("Enter");
        await page.waitForSelector("text=Versions of assets (1)");
      },
    );

    await t.step("a publish started through the bridge appears on Publishes and finishes live", async () => {
      await using plugins = await waitPlugins();
      await using bridge = await startBridge({
        port: 0,
        settings: NO_REVIEW,
        pluginPaths: [plugins.path],
        env: bridgeEnv(demo.home, {
          url: web.tracker.credentials.server,
          apiUser: web.tracker.credentials.apiUser,
          apiKey: web.tracker.credentials.apiKey,
        }),
      });
      await page.goto(new URL("/publishes", web.url).href);
      await page.waitForSelector("#live-status:has-text('0 jobs')");
      await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
      const files = join(demo.home, "bridge-files");
      await writeFrames(files, [1001, 1002, 1003]);
      const response = await fetch(new URL("/v1/publish", bridge.url), {
        method: "POST",
        headers: { authorization: `Bearer ${bridge.token}`, "content-type": "application/json" },
        body: JSON.stringify({
          host: "blender",
          context: { path: "demo/sq010/sh010", task: "compositing" },
          instances: [{
            family: "render",
            name: "comp",
            files: [join(files, "beauty.####.exr")],
            options: { waitMs: 4000 },
          }],
          comment: "from the web view test",
        }),
      });
      strictEqual(response.status, 202);
      const { job } = await response.json();
      const row = page.locator(`tr[data-job="${job.id}"]`);
      await row.waitFor();
      ok(
        ["queued", "running"].includes(await row.getAttribute("data-state") ?? ""),
        "the job appears while it runs",
      );
      await page.screenshot({ path: join(ARTIFACTS, "publishes-running.png") });
      await page.waitForSelector(`tr[data-job="${job.id}"][data-state="succeeded"]`, { timeout: 30_000 });
      strictEqual(
        await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker),
        42,
        "updated in place, not reloaded",
      );

      // A job's page follows the bridge's event stream; the second job is watched from its start.
      const second = await (await fetch(new URL("/v1/publish", bridge.url), {
        method: "POST",
        headers: { authorization: `Bearer ${bridge.token}`, "content-type": "application/json" },
        body: JSON.stringify({
          host: "blender",
          context: { path: "demo/sq010/sh010", task: "compositing" },
          instances: [{
            family: "render",
            name: "comp",
            files: [join(files, "beauty.####.exr")],
            options: { waitMs: 1500 },
          }],
          comment: "second",
        }),
      })).json();
      await page.goto(new URL(`/publishes/${second.job.id}`, web.url).href);
      await page.waitForSelector("#job-state:has-text('succeeded')", { timeout: 30_000 });
      await page.waitForSelector("#job-results li:has-text('IntegrateVersion')");
      await page.waitForSelector("#job-report");
      ok(
        (await page.locator("#job-results").innerText()).includes("waiting 1500 ms"),
        "the plugin's log shown with its result",
      );
      await page.screenshot({ path: join(ARTIFACTS, "publish-job.png") });
      await checkNarrow(page, "publish-job");
      await page.goto(new URL("/publishes", web.url).href);
      await checkNarrow(page, "publishes");
    });

    await t.step("a failed event is retried from the Events page and ends finished", async () => {
      await using store = await openStore(join(demo.home, "store.db"));
      await store.setSettings("dev", {
        processor: { maxRetries: 0, retryBackoffMs: 50, leaseMs: 2_000 },
        handlers: { flaky: { failing: true } },
      });
      const flaky = defineHandler({
        name: "flaky",
        subscription: "topic=ferry.web.test",
        handle(event, { settings }) {
          if (settings.failing !== false) throw new Error(`boom on ${(event.data as { n: number }).n}`);
        },
      });
      await using _processor = await startProcessor({
        store,
        session: web.tracker.session,
        handlers: [flaky],
        variant: "dev",
        log: createLogger({ name: "processor", level: "error" }),
        pollMs: 50,
        settingsRefreshMs: 50,
      });
      const { event: source } = await store.dispatch({
        topic: LEECH_TOPIC,
        project: "demo",
        payload: toWireEvent({ id: crypto.randomUUID(), topic: "ferry.web.test", data: { n: 7 } }),
        description: "ferry.web.test from the tracker",
      });
      await waitFor(
        async () => (await store.listEvents({ dependsOn: source.id }))[0]?.status === "failed",
        "the job to fail",
      );
      await store.setSettings("dev", {
        processor: { maxRetries: 0, retryBackoffMs: 50, leaseMs: 2_000 },
        handlers: { flaky: { failing: false } },
      });

      await page.goto(new URL("/events", web.url).href);
      await page.selectOption("select[name=status]", "failed");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.waitForURL(/status=failed/);
      strictEqual(await page.locator("#queue-depth").innerText(), "0", "a job out of retries waits no more");
      await checkNarrow(page, "events");
      const failedRow = page.locator(`tr[data-status="failed"]`);
      strictEqual(await failedRow.count(), 1);
      await failedRow.getByRole("link").click();
      ok((await page.locator("#event-error").innerText()).includes("boom on 7"));
      ok((await page.locator("pre.stack").innerText()).includes("Error: boom on 7"), "the stack shown");
      await page.screenshot({ path: join(ARTIFACTS, "event-failed.png") });
      await checkNarrow(page, "event-failed");
      await page.getByRole("button", { name: "Retry" }).click();
      await page.waitForSelector("text=Retry requested");
      // The page follows the job by itself until it ends.
      await page.waitForSelector("#event-status:has-text('finished')", { timeout: 30_000 });
      ok(!(await page.locator("#retry").count()), "no Retry button on a finished job");
      strictEqual((await store.listEvents({ topic: PROC_TOPIC, dependsOn: source.id }))[0]!.status, "finished");
    });

    ok(errors.length === 0, `no script errors in the page: ${errors.join("; ")}`);
    ok(foreign.length === 0, `nothing is loaded from another origin: ${foreign.join(", ")}`);
  },
});
