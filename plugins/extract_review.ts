/**
 * A thumbnail (JPEG) and a review movie (H.264 MP4) for image sequences, movies and images, made
 * with ffmpeg when it is installed; skipped with a warning when it is not.
 *
 * @module
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definePlugin } from "../publish/plugin.ts";
import { H264_REVIEW_ARGS, lastLine, runTool } from "../src/media/run_tool.ts";
import { extensionOf } from "./_extension.ts";
import { ExtractorOrder } from "../publish/orders.ts";
import { itemsOf, type ReviewMedia, settingsOf } from "./_contract.ts";

const IMAGE_TYPES = new Set([".exr", ".dpx", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".tga", ".bmp", ".webp"]);
const MOVIE_TYPES = new Set([".mov", ".mp4", ".mkv", ".avi", ".webm", ".mxf"]);

/** `instance.data.review` = { movie: { path, meta: ftr_meta }, image: { path } }. */
export const ExtractReview = definePlugin({
  kind: "instance",
  name: "ExtractReview",
  label: "Make a thumbnail and a review movie",
  order: ExtractorOrder + 0.1,
  families: ["render", "plate", "review", "image", "movie", "comp"],
  async process(instance, { log }) {
    if (!(await runTool("ffmpeg", ["-version"])).ok) {
      log.warning("ffmpeg is not installed: no thumbnail or review movie (apt-get install ffmpeg)");
      return;
    }
    const source = itemsOf(instance).find((item) =>
      item.kind === "sequence"
        ? IMAGE_TYPES.has(extensionOf(item.collection.tail).toLowerCase())
        : IMAGE_TYPES.has(extensionOf(item.path).toLowerCase()) || MOVIE_TYPES.has(extensionOf(item.path).toLowerCase())
    );
    if (source === undefined) {
      log.info("nothing to review: no image sequence, image or movie");
      return;
    }
    const fps = settingsOf(instance.context).reviewFrameRate;
    const work = await mkdtemp(join(tmpdir(), "ferry-review-"));
    (instance.context.data.temporary as string[] | undefined)?.push(work);
    let input: string[];
    let frameIn = 0;
    let frameOut = 0;
    if (source.kind === "sequence") {
      const { collection } = source;
      const pattern = join(source.directory, collection.format("{head}{padding}{tail}"));
      input = ["-framerate", String(fps), "-start_number", String(collection.first), "-i", pattern];
      frameIn = collection.first ?? 0;
      frameOut = collection.last ?? 0;
    } else {
      input = ["-i", source.path];
    }
    const movie = join(work, "review.mp4");
    const image = join(work, "thumbnail.jpg");
    const encoded = await runTool("ffmpeg", ["-y", "-v", "error", ...input, ...H264_REVIEW_ARGS, movie]);
    if (!encoded.ok) {
      log.warning(`ffmpeg could not make a review movie: ${lastLine(encoded.stderr)}`);
      return;
    }
    const middle = source.kind === "sequence" ? Math.floor((frameOut - frameIn) / 2) : 0;
    const still = await runTool("ffmpeg", [
      "-y",
      "-v",
      "error",
      ...input,
      "-vf",
      `select=gte(n\\,${middle}),scale=min(640\\,iw):-2`,
      "-frames:v",
      "1",
      image,
    ]);
    const probe = await runTool("ffprobe", [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-count_packets",
      "-show_entries",
      "stream=width,height,nb_read_packets",
      "-of",
      "json",
      movie,
    ]);
    const stream = probe.ok ? (JSON.parse(probe.stdout).streams?.[0] ?? {}) : {};
    const frames = Number(stream.nb_read_packets ?? frameOut - frameIn + 1);
    const review: ReviewMedia = {
      movie: {
        path: movie,
        meta: {
          frameIn: source.kind === "sequence" ? frameIn : 0,
          frameOut: source.kind === "sequence" ? frameOut : frames,
          frameRate: fps,
          width: Number(stream.width ?? 0),
          height: Number(stream.height ?? 0),
        },
      },
      image: still.ok ? { path: image } : undefined,
    };
    instance.data.review = review;
    log.info(`review movie of ${frames} frames${still.ok ? " and a thumbnail" : ""}`);
  },
});
