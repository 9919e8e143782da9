/**
 * ExtractReview with each combination of media tools: oiiotool and ffmpeg, either alone, neither;
 * and EXR frames shown through the sRGB transfer rather than as dark linear values.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import { hasFfmpeg, runTool } from "../src/media/run_tool.ts";
import { publishFixture, publishWith } from "./_publish.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const FFMPEG = await hasFfmpeg();
const OIIOTOOL = (await runTool("oiiotool", ["--version"])).ok;
const MISSING = "/nonexistent/tool";
for (const [tool, present, install] of [["ffmpeg", FFMPEG, "ffmpeg"], ["oiiotool", OIIOTOOL, "openimageio-tools"]]) {
  if (!present) console.warn(`SKIPPED: publish_review_test cases that need ${tool} (apt-get install ${install})`);
}
const options = { sanitizeOps: false, sanitizeResources: false };

/** Scene-linear 18% grey EXR frames, 64 × 36, made with oiiotool. */
async function greyExrFrames(folder: string, frames: number[]): Promise<string> {
  for (const frame of frames) {
    const made = await runTool("oiiotool", [
      "--pattern",
      "constant:color=0.18,0.18,0.18",
      "64x36",
      "3",
      "-d",
      "half",
      "-o",
      join(folder, `beauty.${String(frame).padStart(4, "0")}.exr`),
    ]);
    ok(made.ok, made.stderr);
  }
  return join(folder, "beauty.####.exr");
}

async function publishReview(session: Session, files: string, tools: Record<string, string> = {}) {
  const { report } = await publishWith(session, {
    context: { path: "demo/sq010/sh010", task: "lighting" },
    instances: [{ family: "render", name: "beauty", files: [files] }],
  }, { settings: { tools } });
  ok(report.ok, JSON.stringify(report.results.filter((r) => !r.success)));
  const extract = report.results.find((result) => result.plugin === "ExtractReview")!;
  const components = (await session.query(
    `select name, id from Component where version_id is ${(report.created[0] as E).versionId}`,
  )).data as E[];
  return {
    records: extract.records,
    components: new Map(components.map((component) => [component.name as string, component.id as string])),
  };
}

/** Mean 8-bit RGB value of an image or a movie's first frame, decoded by ffmpeg. */
async function meanValue(path: string): Promise<number> {
  const decoded = await new Deno.Command("ffmpeg", {
    args: ["-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
    stdout: "piped",
  }).output();
  ok(decoded.success);
  return decoded.stdout.reduce((sum, value) => sum + value, 0) / decoded.stdout.length;
}

/**
 * Publishes `frames` grey EXR frames with the given tools on a fresh tracker; returns the
 * ExtractReview log, the component names, and the mean value of the thumbnail and movie made.
 */
async function reviewOfGreyExr(frames: number, tools: Record<string, string>) {
  await using fixture = await publishFixture();
  const { running, session, folder } = fixture;
  const files = await greyExrFrames(folder.path, Array.from({ length: frames }, (_, i) => i + 1));
  const { records, components } = await publishReview(session, files, tools);
  const mean = async (name: string) => {
    const id = components.get(name);
    return id === undefined ? undefined : await meanValue(running.tracker.files.path(id));
  };
  return {
    log: records.map((record) => [record.level, record.message]),
    names: [...components.keys()].sort(),
    thumbnail: await mean("thumbnail"),
    movie: await mean("ftrackreview-mp4"),
  };
}

/** 18% grey in linear light is 118 of 255 through the sRGB transfer; left linear it would be 46. */
function assertSrgbGrey(mean: number | undefined, tolerance: number): void {
  ok(mean !== undefined && Math.abs(mean - 118) <= tolerance, `mean ${mean}, expected 118 ± ${tolerance}`);
}

const ALL_REVIEW = ["exr", "ftrackreview-image", "ftrackreview-mp4", "thumbnail"];

Deno.test({
  ...options,
  name: "review of EXR renders: oiiotool thumbnail and ffmpeg movie, both through the sRGB transfer",
  ignore: !FFMPEG || !OIIOTOOL,
  fn: async () => {
    const review = await reviewOfGreyExr(5, {});
    deepStrictEqual(review.log, [["info", "a review movie of 5 frames and a thumbnail (oiiotool)"]]);
    deepStrictEqual(review.names, ALL_REVIEW);
    assertSrgbGrey(review.thumbnail, 3);
    assertSrgbGrey(review.movie, 6);
  },
});

Deno.test({
  ...options,
  name: "review without ffmpeg: oiiotool makes the thumbnail, no movie, and a warning says why",
  ignore: !OIIOTOOL || !FFMPEG,
  fn: async () => {
    const review = await reviewOfGreyExr(3, { ffmpeg: MISSING });
    deepStrictEqual(review.log, [
      ["warning", "ffmpeg is not installed: no review movie, only a thumbnail (apt-get install ffmpeg)"],
      ["info", "a thumbnail (oiiotool)"],
    ]);
    deepStrictEqual(review.names, ["exr", "ftrackreview-image", "thumbnail"]);
    assertSrgbGrey(review.thumbnail, 3);
  },
});

Deno.test({
  ...options,
  name: "review without oiiotool: ffmpeg makes both, the EXR thumbnail through the sRGB transfer too",
  ignore: !FFMPEG || !OIIOTOOL,
  fn: async () => {
    const review = await reviewOfGreyExr(3, { oiiotool: MISSING });
    deepStrictEqual(review.log, [["info", "a review movie of 3 frames and a thumbnail (ffmpeg)"]]);
    deepStrictEqual(review.names, ALL_REVIEW);
    assertSrgbGrey(review.thumbnail, 6);
    assertSrgbGrey(review.movie, 6);
  },
});

Deno.test({
  ...options,
  name: "review with neither tool: no review components, and a warning that names both tools",
  fn: async () => {
    await using fixture = await publishFixture();
    const { session, folder } = fixture;
    await Deno.writeFile(join(folder.path, "beauty.1.exr"), new Uint8Array(16));
    await Deno.writeFile(join(folder.path, "beauty.2.exr"), new Uint8Array(16));
    const { records, components } = await publishReview(session, join(folder.path, "beauty.#.exr"), {
      ffmpeg: MISSING,
      ffprobe: MISSING,
      oiiotool: MISSING,
    });
    deepStrictEqual(records.map((record) => [record.level, record.message]), [[
      "warning",
      "neither ffmpeg nor oiiotool is installed: no thumbnail or review movie (apt-get install ffmpeg openimageio-tools)",
    ]]);
    deepStrictEqual([...components.keys()], ["exr"]);
  },
});
