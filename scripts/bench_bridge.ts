/**
 * `deno task bench bridge`: what the bridge adds to a publish. The demo sequence (48 frames,
 * rendered as `deno task demo` does) is published as `render` + `review` through the bridge
 * (POST /v1/publish, then its event stream to the end) and with `runPublish` called directly, in
 * interleaved rounds of one run against the same embedded tracker; the median of the per-round
 * ratios is the bridge's cost (target ≤ 5%). Also the time from the POST to the first event of
 * the stream (target ≤ 10 ms), over the rounds and over dry runs.
 *
 * @module
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { discover } from "../publish/discover.ts";
import { parsePublishRequest } from "../publish/request.ts";
import { runPublish } from "../publish/run_publish.ts";
import { parsePublishSettings } from "../publish/settings.ts";
import { openSession } from "../src/tracker/open_session.ts";
import { startTracker } from "../services/tracker/server.ts";
import { BUILT_IN_PLUGINS } from "../services/bridge/plugin_catalog.ts";
import { startBridge } from "../services/bridge/server.ts";
import { testFrame } from "./_png.ts";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The demo's frames: ffmpeg's test pattern (640×360 PNG) when installed, generated PNGs otherwise. */
async function renderDemo(folder: string, count: number): Promise<string> {
  await mkdir(folder, { recursive: true });
  try {
    const made = await new Deno.Command("ffmpeg", {
      args: ["-v", "error", "-f", "lavfi", "-i", `testsrc2=size=640x360:rate=24:duration=${count / 24}`]
        .concat(["-frames:v", String(count), "-start_number", "1001", join(folder, "beauty.%04d.png")]),
    }).output();
    if (made.success) return "ffmpeg's test pattern";
  } catch {
    // No ffmpeg: generated frames.
  }
  for (let i = 0; i < count; i++) await writeFile(join(folder, `beauty.${1001 + i}.png`), testFrame(1001 + i));
  return "generated PNGs (no ffmpeg: no review movie either)";
}

/** Lets `hub` go of the socket it shares with other hubs of this process, without closing it. */
function detachHub(hub: Session["eventHub"]): void {
  const inner = hub as unknown as {
    _socketIo?: { off(name: string, callback: unknown): void } | null;
    _onSocketConnected: unknown;
    _handle: unknown;
  };
  inner._socketIo?.off("connect", inner._onSocketConnected);
  inner._socketIo?.off("ftrack.event", inner._handle);
  inner._socketIo = null;
}

async function makeDemoShot(session: Session): Promise<void> {
  const schema = (await session.query("select id from ProjectSchema")).data[0]!;
  const project = (await session.create("Project", { name: "demo", full_name: "demo", project_schema_id: schema.id }))
    .data;
  const sequence = (await session.create("Sequence", { name: "sq010", parent_id: project.id })).data;
  const shot = (await session.create("Shot", { name: "sh010", parent_id: sequence.id })).data;
  await session.create("Task", { name: "lighting", parent_id: shot.id });
}

/** Reads an event stream until its first event; milliseconds from `start`. */
async function firstEventAfter(response: Response, start: number): Promise<{ ms: number; rest: Promise<string> }> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the event stream ended before its first event");
    text += value;
  }
  const ms = performance.now() - start;
  const rest = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += value;
    }
  })();
  return { ms, rest };
}

/** Runs the bridge benchmark and prints its figures. */
export async function benchBridge(quick: boolean): Promise<void> {
  const rounds = quick ? 3 : 7;
  const frames = 48;
  const scratch = await mkdtemp(join(tmpdir(), "ferry-bench-bridge-"));
  try {
    const renders = join(scratch, "renders");
    const source = await renderDemo(renders, frames);
    console.log(`demo sequence: ${frames} frames (${source}) in ${renders}`);
    await using tracker = await startTracker({ port: 0, data: ":memory:" });
    const credentials = { server: tracker.url, apiUser: tracker.apiUser, apiKey: tracker.apiKey };
    // Its hub connected as the bridge connects its own: it stays up between publishes.
    const session = await openSession(credentials, { eventHub: true });
    await makeDemoShot(session);
    const body = {
      host: "shell",
      context: { path: "demo/sq010/sh010", task: "lighting" },
      instances: [{
        family: "render",
        families: ["review"],
        name: "beauty",
        files: [join(renders, "beauty.####.png")],
      }],
      comment: "bench",
    };
    const request = parsePublishRequest(body);
    const { plugins } = await discover({ registeredPaths: [BUILT_IN_PLUGINS], hosts: ["shell"], env: {} });
    const noReview = parsePublishSettings({
      tools: { ffmpeg: "/nonexistent/ffmpeg", ffprobe: "/nonexistent/ffprobe", oiiotool: "/nonexistent/oiiotool" },
    });
    const cases = [
      { label: `the demo sequence (${frames} frames, render + review movie and thumbnail)`, settings: undefined },
      { label: `the same frames without review media (tracker calls and uploads only)`, settings: noReview },
    ];
    for (const [index, { label, settings }] of cases.entries()) {
      await using bridge = await startBridge({
        port: 0,
        settings,
        env: {
          FERRY_HOME: join(scratch, `home-${index}`),
          FTRACK_SERVER: tracker.url,
          FTRACK_API_USER: tracker.apiUser,
          FTRACK_API_KEY: tracker.apiKey,
          PATH: Deno.env.get("PATH"),
          HOME: Deno.env.get("HOME"),
        },
      });
      const auth = { authorization: `Bearer ${bridge.token}` };
      const direct = async () => {
        const start = performance.now();
        const { report } = await runPublish({ request, session, plugins, settings });
        if (!report.ok) {
          throw new Error(`the direct publish failed: ${JSON.stringify(report.results.filter((r) => !r.success))}`);
        }
        return performance.now() - start;
      };
      const throughBridge = async (dryRun = false) => {
        const start = performance.now();
        const posted = await fetch(`${bridge.url}/v1/publish`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({ ...body, dryRun }),
        });
        const { job } = await posted.json();
        const accepted = performance.now() - start;
        const stream = await fetch(`${bridge.url}/v1/jobs/${job.id}/events`, { headers: auth });
        const first = await firstEventAfter(stream, start);
        const text = await first.rest;
        const ms = performance.now() - start;
        if (!/"state":"succeeded"/.test(text)) {
          throw new Error(`the bridge publish did not succeed: ${text.slice(-500)}`);
        }
        return { ms, firstEvent: first.ms, accepted };
      };

      console.log(`\n${label}: warming up (one publish each way) …`);
      await direct();
      await throughBridge();
      const ratios: number[] = [];
      const directs: number[] = [];
      const bridged: number[] = [];
      const firstEvents: number[] = [];
      for (let round = 0; round < rounds; round++) {
        // Alternate which goes first, so that neither always meets the tracker after the other.
        let d: number;
        let b: { ms: number; firstEvent: number };
        if (round % 2 === 0) {
          d = await direct();
          b = await throughBridge();
        } else {
          b = await throughBridge();
          d = await direct();
        }
        directs.push(d);
        bridged.push(b.ms);
        firstEvents.push(b.firstEvent);
        ratios.push(b.ms / d);
        console.log(
          `  round ${round + 1}: runPublish ${d.toFixed(0)} ms, bridge ${b.ms.toFixed(0)} ms (${
            ((b.ms / d - 1) * 100).toFixed(1)
          }%), first event after ${b.firstEvent.toFixed(1)} ms`,
        );
      }
      console.log(`publish of ${label}, median of ${rounds} interleaved rounds`);
      console.log(`  runPublish called directly:                  ${median(directs).toFixed(0)} ms`);
      console.log(`  through the bridge (POST → final SSE event): ${median(bridged).toFixed(0)} ms`);
      console.log(
        `  the bridge's cost: ${
          ((median(ratios) - 1) * 100).toFixed(1)
        }% (median of the per-round ratios; target ≤ 5% on the demo sequence)`,
      );
      console.log(`  POST → first SSE event: ${median(firstEvents).toFixed(1)} ms (median over the publishes)`);
      if (index === 0) {
        const dry: Array<{ firstEvent: number; accepted: number }> = [];
        for (let i = 0; i < (quick ? 10 : 30); i++) dry.push(await throughBridge(true));
        const firsts = dry.map((run) => run.firstEvent);
        console.log(
          `  POST → first SSE event over ${dry.length} dry runs: median ${median(firsts).toFixed(1)} ms, max ${
            Math.max(...firsts).toFixed(1)
          } ms (target ≤ 10 ms); of which POST → 202: median ${median(dry.map((run) => run.accepted)).toFixed(1)} ms`,
        );
      }
      await bridge.close();
      // The bridge leaves its hub up; it shares the process's socket with `session`'s hub: let go
      // of it without closing it (a disconnected hub stays a listener of the socket).
      detachHub(bridge.tracker.session.eventHub);
    }
    session.eventHub.disconnect(); // the last user of the process's hub socket: let the process end
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchBridge(Deno.args.includes("--quick"));
