/**
 * A thumbnail (JPEG) and a review movie (H.264 MP4) for image sequences, movies and images.
 *
 * - The movie is made with ffmpeg; the thumbnail (the middle frame, at most 640 wide) with
 *   oiiotool when it is installed, else with ffmpeg. With neither, both are skipped with a warning.
 * - Scene-linear EXR frames are shown through the sRGB transfer (oiiotool `--tocolorspace sRGB`,
 *   ffmpeg `-apply_trc iec61966_2_1`), so review media are not dark; other formats are taken as
 *   they are. There is no OCIO view transform.
 * - The tools come from `settings.tools` (names on PATH or full paths).
 *
 * @module
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definePlugin } from "../publish/plugin.ts";
import { H264_REVIEW_ARGS, lastLine, runTool } from "../src/media/run_tool.ts";
import { probeVideo } from "../src/media/probe_video.ts";
import { extensionOf } from "./_extension.ts";
import { ExtractorOrder } from "../publish/orders.ts";
import { itemsOf, type ReviewMedia, settingsOf } from "./_contract.ts";
import type { FoundFile, FoundSequence } from "../src/files/scan_files.ts";

type CollectedItem = FoundSequence | FoundFile;

const IMAGE_TYPES = new Set([".exr", ".dpx", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".tga", ".bmp", ".webp"]);
const MOVIE_TYPES = new Set([".mov", ".mp4", ".mkv", ".avi", ".webm", ".mxf"]);
const THUMBNAIL_WIDTH = 640;

/** The file name extension of an item, lower case. */
function typeOf(item: CollectedItem): string {
  return extensionOf(item.kind === "sequence" ? item.collection.tail : item.path).toLowerCase();
}

/** The frame a thumbnail shows: the middle member of a sequence, or the file itself. */
function middleFrame(item: CollectedItem): string {
  if (item.kind !== "sequence") return item.path;
  const members = [...item.collection];
  return join(item.directory, members[Math.floor((members.length - 1) / 2)]!);
}

/** A thumbnail with oiiotool: RGB, sRGB, at most 640 wide; the reason when it cannot. */
async function oiioThumbnail(oiiotool: string, frame: string, output: string): Promise<string | undefined> {
  const info = await runTool(oiiotool, ["--info", frame]);
  if (!info.ok) return lastLine(info.stderr);
  const width = Number(/:\s*(\d+)\s*x\s*\d+/.exec(info.stdout)?.[1] ?? 0);
  const channels = /\b(\d+) channel/.exec(info.stdout)?.[1] ?? "3";
  const args = [frame];
  if (Number(channels) >= 3) args.push("--ch", "R,G,B");
  if (width > THUMBNAIL_WIDTH) args.push("--resize", `${THUMBNAIL_WIDTH}x0`);
  args.push("--tocolorspace", "sRGB", "-o", output);
  const made = await runTool(oiiotool, args);
  return made.ok ? undefined : lastLine(made.stderr);
}

/** `instance.data.review` = { movie: { path, meta: ftr_meta }, image: { path } }. */
export const ExtractReview = definePlugin({
  kind: "instance",
  name: "ExtractReview",
  label: "Make a thumbnail and a review movie",
  order: ExtractorOrder + 0.1,
  families: ["render", "plate", "review", "image", "movie", "comp"],
  async process(instance, { log }) {
    const { tools, reviewFrameRate: fps } = settingsOf(instance.context);
    const ffmpeg = (await runTool(tools.ffmpeg, ["-version"])).ok;
    const oiiotool = (await runTool(tools.oiiotool, ["--version"])).ok;
    if (!ffmpeg && !oiiotool) {
      log.warning(
        "neither ffmpeg nor oiiotool is installed: no thumbnail or review movie (apt-get install ffmpeg openimageio-tools)",
      );
      return;
    }
    const source = itemsOf(instance).find((item) =>
      IMAGE_TYPES.has(typeOf(item)) || (item.kind !== "sequence" && MOVIE_TYPES.has(typeOf(item)))
    );
    if (source === undefined) {
      log.info("nothing to review: no image sequence, image or movie");
      return;
    }
    const isImage = IMAGE_TYPES.has(typeOf(source));
    const work = await mkdtemp(join(tmpdir(), "ferry-review-"));
    (instance.context.data.temporary as string[] | undefined)?.push(work);
    // EXR holds scene-linear light: show it through the sRGB transfer.
    const transfer = typeOf(source) === ".exr" ? ["-apply_trc", "iec61966_2_1"] : [];
    let input: string[];
    let frameIn = 0;
    let frameOut = 0;
    if (source.kind === "sequence") {
      const { collection } = source;
      const pattern = join(source.directory, collection.format("{head}{padding}{tail}"));
      input = [...transfer, "-framerate", String(fps), "-start_number", String(collection.first), "-i", pattern];
      frameIn = collection.first ?? 0;
      frameOut = collection.last ?? 0;
    } else {
      input = [...transfer, "-i", source.path];
    }

    const review: ReviewMedia = {};
    let movieFrames = 0;
    if (ffmpeg) {
      const movie = join(work, "review.mp4");
      const encoded = await runTool(tools.ffmpeg, ["-y", "-v", "error", ...input, ...H264_REVIEW_ARGS, movie]);
      if (encoded.ok) {
        const probed = await probeVideo({ ffprobe: tools.ffprobe, path: movie });
        if ("problem" in probed) log.warning(`ffprobe could not read the review movie: ${probed.problem}`);
        const video = "video" in probed ? probed.video : undefined;
        const frames = video?.frames || frameOut - frameIn + 1;
        review.movie = {
          path: movie,
          meta: {
            frameIn: source.kind === "sequence" ? frameIn : 0,
            frameOut: source.kind === "sequence" ? frameOut : frames,
            frameRate: fps,
            width: video?.width ?? 0,
            height: video?.height ?? 0,
          },
        };
        movieFrames = frames;
      } else {
        log.warning(`ffmpeg could not make a review movie: ${lastLine(encoded.stderr)}`);
      }
    } else {
      log.warning("ffmpeg is not installed: no review movie, only a thumbnail (apt-get install ffmpeg)");
    }

    const image = join(work, "thumbnail.jpg");
    let thumbnailBy: string | undefined;
    if (oiiotool && isImage) {
      const problem = await oiioThumbnail(tools.oiiotool, middleFrame(source), image);
      if (problem === undefined) thumbnailBy = "oiiotool";
      else log.warning(`oiiotool could not make a thumbnail: ${problem}`);
    }
    if (thumbnailBy === undefined && ffmpeg) {
      const middle = source.kind === "sequence" ? Math.floor((source.collection.indexes.length - 1) / 2) : 0;
      const still = await runTool(tools.ffmpeg, [
        "-y",
        "-v",
        "error",
        ...input,
        "-vf",
        `select=gte(n\\,${middle}),scale=min(${THUMBNAIL_WIDTH}\\,iw):-2`,
        "-frames:v",
        "1",
        image,
      ]);
      if (still.ok) thumbnailBy = "ffmpeg";
      else log.warning(`ffmpeg could not make a thumbnail: ${lastLine(still.stderr)}`);
    }
    if (thumbnailBy !== undefined) review.image = { path: image };
    if (review.movie === undefined && review.image === undefined) return;
    instance.data.review = review;
    const made = [
      review.movie ? `a review movie of ${movieFrames} frames` : "",
      thumbnailBy ? `a thumbnail (${thumbnailBy})` : "",
    ].filter(Boolean);
    log.info(made.join(" and "));
  },
});
