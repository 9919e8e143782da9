import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { now } from "./codec.ts";
import { LOCATION_IDS } from "./schema/definitions.ts";
import type { Tracker } from "./tracker.ts";
import { H264_REVIEW_ARGS, hasFfmpeg, lastLine, runTool } from "../../src/media/run_tool.ts";
import { probeVideo } from "../../src/media/probe_video.ts";

/** What `encode_media` was asked to do. */
export interface EncodeRequest {
  jobId: string;
  componentId: string;
  versionId: string | undefined;
  userId: string;
  /** The ids the outputs get, listed in the Job's data from the start. */
  outputIds: { movie: string; image: string };
}

/** The outputs an `encode_media` job makes, as its Job's `data.output` lists them. */
export function plannedOutputs(ids: { movie: string; image: string }): Array<{ format: string; component_id: string }> {
  return [{ format: "video/mp4", component_id: ids.movie }, { format: "image/jpeg", component_id: ids.image }];
}

export { DEFAULT_MEDIA_TOOLS, hasFfmpeg, type MediaTools } from "../../src/media/run_tool.ts";

/**
 * The `encode_media` job: an H.264 review movie (`ftrackreview-mp4`) and a JPEG
 * (`ftrackreview-image`, also the version's thumbnail) made with ffmpeg from the component's data
 * in `ftrack.server`, linked to the Job through `job_components`. Without ffmpeg, or when it fails,
 * the Job ends `failed` with the reason in its data.
 */
export async function encodeMedia(tracker: Tracker, request: EncodeRequest): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "ferry-encode-"));
  try {
    if (!tracker.files.has(request.componentId)) {
      throw new Error(`component '${request.componentId}' has no data in ftrack.server to encode`);
    }
    const tools = tracker.mediaTools;
    if (!(await hasFfmpeg(tools))) {
      throw new Error("ffmpeg is not installed on the tracker's machine; install ffmpeg (and ffprobe) to encode media");
    }
    const source = tracker.files.path(request.componentId);
    const probed = await probeVideo({ ffprobe: tools.ffprobe, path: source });
    if ("problem" in probed) throw new Error(`ffprobe cannot read the media: ${probed.problem}`);
    const { width, height } = probed.video;
    const frameRate = probed.video.frameRate ?? 24;
    const frames = probed.video.frames || 1;
    const movie = join(work, "review.mp4");
    const image = join(work, "review.jpg");
    const encodeMovie = await runTool(tools.ffmpeg, ["-y", "-v", "error", "-i", source, ...H264_REVIEW_ARGS, movie]);
    if (!encodeMovie.ok) {
      throw new Error(`ffmpeg could not encode the movie: ${lastLine(encodeMovie.stderr)}`);
    }
    const encodeImage = await runTool(tools.ffmpeg, [
      "-y",
      "-v",
      "error",
      "-i",
      source,
      "-frames:v",
      "1",
      "-vf",
      "scale=min(1280\\,iw):-2",
      image,
    ]);
    if (!encodeImage.ok) {
      throw new Error(`ffmpeg could not make the image: ${lastLine(encodeImage.stderr)}`);
    }
    const outputs = [
      {
        name: "ftrackreview-mp4",
        path: movie,
        type: ".mp4",
        format: "video/mp4",
        meta: { frameIn: 0, frameOut: frames, frameRate, width, height },
      },
      { name: "ftrackreview-image", path: image, type: ".jpg", format: "image/jpeg", meta: { format: "image" } },
    ].map((output) => ({
      ...output,
      id: output.format === "video/mp4" ? request.outputIds.movie : request.outputIds.image,
    }));
    const bytes = await Promise.all(outputs.map((output) => readFile(output.path)));
    await Promise.all(outputs.map((output, i) => tracker.files.write(output.id, bytes[i]!)));
    tracker.writeAsServer((writer) => {
      for (const [i, output] of outputs.entries()) {
        writer.create("FileComponent", {
          id: output.id,
          name: output.name,
          file_type: output.type,
          size: bytes[i]!.length,
          version_id: request.versionId ?? null,
        });
        writer.create("ComponentLocation", {
          component_id: output.id,
          location_id: LOCATION_IDS["ftrack.server"],
          resource_identifier: output.id,
        });
        writer.create("Metadata", {
          parent_id: output.id,
          parent_type: "FileComponent",
          key: "ftr_meta",
          value: JSON.stringify(output.meta),
        });
        writer.create("JobComponent", { job_id: request.jobId, component_id: output.id });
      }
      if (request.versionId) writer.update("AssetVersion", request.versionId, { thumbnail_id: outputs[1]!.id });
      const data = JSON.parse(String(tracker.graph.byKey("Job", request.jobId)?.data ?? "{}"));
      writer.update("Job", request.jobId, {
        status: "done",
        finished_at: { __type__: "datetime", value: now() },
        data: JSON.stringify({
          ...data,
          output: outputs.map((output) => ({ format: output.format, component_id: output.id })),
        }),
      });
    });
  } catch (error) {
    const reason = (error as Error).message;
    tracker.writeAsServer((writer) => {
      const data = JSON.parse(String(tracker.graph.byKey("Job", request.jobId)?.data ?? "{}"));
      writer.update("Job", request.jobId, {
        status: "failed",
        finished_at: { __type__: "datetime", value: now() },
        data: JSON.stringify({ ...data, error: `Cannot encode media: ${reason}` }),
      });
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
