import { execFile } from "node:child_process";

/** What a command-line tool did. */
export interface ToolRun {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs a tool (ffmpeg, ffprobe, oiiotool) and collects its output; a tool that is not installed
 * gives `ok: false` with "… is not installed" instead of throwing.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { runTool } from "./run_tool.ts";
 *
 * const run = await runTool("definitely-not-a-tool-here", ["-version"]);
 * ok(!run.ok && run.stderr.includes("not installed"));
 * ```
 */
export function runTool(command: string, args: readonly string[]): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(command, [...args], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if ((error as { code?: unknown } | null)?.code === "ENOENT") {
        resolve({ ok: false, stdout: "", stderr: `${command} is not installed` });
      } else {
        resolve({ ok: error === null, stdout: String(stdout), stderr: String(stderr) });
      }
    });
  });
}

/** The media tools ferry runs: names on PATH or full paths. */
export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
}

/** ffmpeg and ffprobe from PATH. */
export const DEFAULT_MEDIA_TOOLS: MediaTools = { ffmpeg: "ffmpeg", ffprobe: "ffprobe" };

/** Whether ffmpeg and ffprobe can be run. */
export async function hasFfmpeg(tools: MediaTools = DEFAULT_MEDIA_TOOLS): Promise<boolean> {
  return (await runTool(tools.ffmpeg, ["-version"])).ok && (await runTool(tools.ffprobe, ["-version"])).ok;
}

/** ffmpeg output options of a review movie: H.264, yuv420p, even dimensions, streamable. */
export const H264_REVIEW_ARGS: readonly string[] = [
  "-c:v",
  "libx264",
  "-pix_fmt",
  "yuv420p",
  "-vf",
  "scale=trunc(iw/2)*2:trunc(ih/2)*2",
  "-movflags",
  "+faststart",
];

/** The last line of a tool's error output, for messages. */
export function lastLine(text: string): string {
  return text.trim().split("\n").pop() ?? "";
}
