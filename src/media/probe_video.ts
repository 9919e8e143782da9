import { lastLine, runTool } from "./run_tool.ts";

/** The first video stream of a movie or image, as ffprobe reports it. */
export interface VideoProbe {
  width: number;
  height: number;
  /** Frames counted by reading the stream (not the container's claim). */
  frames: number;
  /** Frames per second, when the stream says. */
  frameRate: number | undefined;
}

/**
 * Probes the first video stream of a file with ffprobe, counting its frames; a `problem` (the
 * tool's last error line) when it cannot.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { probeVideo } from "./probe_video.ts";
 *
 * const probed = await probeVideo({ ffprobe: "definitely-not-ffprobe", path: "movie.mp4" });
 * ok("problem" in probed && probed.problem.includes("not installed"));
 * ```
 */
export async function probeVideo(
  options: { ffprobe: string; path: string },
): Promise<{ video: VideoProbe } | { problem: string }> {
  const run = await runTool(options.ffprobe, [
    "-v",
    "error",
    "-select_streams",
    "v:0",
    "-count_packets",
    "-show_entries",
    "stream=width,height,r_frame_rate,nb_read_packets",
    "-of",
    "json",
    options.path,
  ]);
  if (!run.ok) return { problem: lastLine(run.stderr) };
  const stream = (JSON.parse(run.stdout).streams?.[0] ?? {}) as Record<string, string | number | undefined>;
  const [numerator, denominator] = String(stream.r_frame_rate ?? "").split("/").map(Number);
  return {
    video: {
      width: Number(stream.width ?? 0),
      height: Number(stream.height ?? 0),
      frames: Number(stream.nb_read_packets ?? 0),
      frameRate: numerator && denominator ? numerator / denominator : undefined,
    },
  };
}
