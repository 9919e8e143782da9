/**
 * `encode_media` on the embedded tracker: a reviewable movie and image made with ffmpeg when it is
 * installed (the test says loudly when it skips), a failed Job with a clear message when not.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasFfmpeg } from "../services/tracker/encode_media.ts";
import { startTracker } from "../services/tracker/server.ts";
import type { Tracker } from "../services/tracker/tracker.ts";

const FFMPEG = await hasFfmpeg();
if (!FFMPEG) {
  console.warn(
    "SKIPPED: tracker_media_test 'encode_media makes a review movie' needs ffmpeg and ffprobe (apt-get install ffmpeg)",
  );
}

function call(tracker: Tracker, operations: unknown[]): Array<Record<string, unknown>> {
  const user = tracker.graph.lookup("User", "username", tracker.apiUser)![0]!;
  const result = tracker.call(operations, { user, baseUrl: "" });
  if (!Array.isArray(result)) throw new Error(JSON.stringify(result));
  return result as Array<Record<string, unknown>>;
}

/** A version with one uploaded file component holding `bytes`. */
async function versionWithFile(tracker: Tracker, bytes: Uint8Array) {
  const [schema] = call(tracker, [{ action: "query", expression: "select id from ProjectSchema" }])[0]!.data as Array<
    { id: string }
  >;
  const project = call(tracker, [{
    action: "create",
    entity_type: "Project",
    entity_data: { name: "media", project_schema_id: schema!.id },
  }])[0]!.data as { id: string };
  const render = [...tracker.graph.rowsOf("AssetType")].find((row) => row.short === "render")!;
  const [asset, version] = call(tracker, [
    {
      action: "create",
      entity_type: "Asset",
      entity_data: { id: "asset-1", name: "beauty", context_id: project.id, type_id: render.id },
    },
    { action: "create", entity_type: "AssetVersion", entity_data: { id: "version-1", asset_id: "asset-1" } },
  ]).map((result) => result.data as { id: string });
  const component = call(tracker, [{
    action: "create",
    entity_type: "FileComponent",
    entity_data: { name: "main", file_type: ".mp4", version_id: version!.id },
  }])[0]!.data as { id: string };
  await tracker.files.write(component.id, bytes);
  return { asset: asset!, version: version!, component };
}

async function waitForJob(tracker: Tracker, jobId: string): Promise<Record<string, unknown>> {
  await tracker.settle();
  const [result] = call(tracker, [{
    action: "query",
    expression: `select status, data, job_components.component_id from Job where id is ${jobId}`,
  }]);
  return (result!.data as Array<Record<string, unknown>>)[0]!;
}

Deno.test({
  name: "encode_media makes a review movie and image, linked to the job and the version",
  ignore: !FFMPEG,
  fn: async () => {
    const work = await mkdtemp(join(tmpdir(), "ferry-media-"));
    await using running = await startTracker({ port: 0 });
    try {
      const source = join(work, "source.mp4");
      const made = await new Deno.Command("ffmpeg", {
        args: [
          "-v",
          "error",
          "-f",
          "lavfi",
          "-i",
          "testsrc=duration=1:size=160x120:rate=24",
          "-pix_fmt",
          "yuv420p",
          source,
        ],
      }).output();
      ok(made.success, new TextDecoder().decode(made.stderr));
      const { version, component } = await versionWithFile(running.tracker, await readFile(source));
      const [answer] = call(running.tracker, [{
        action: "encode_media",
        component_id: component.id,
        version_id: version.id,
        keep_original: false,
      }]);
      const job = await waitForJob(running.tracker, String(answer!.job_id));
      strictEqual(job.status, "done", String(job.data));
      const data = JSON.parse(String(job.data));
      deepStrictEqual(data.output.map((output: { format: string }) => output.format), ["video/mp4", "image/jpeg"]);
      strictEqual(data.source_component_id, component.id);
      strictEqual((job.job_components as unknown[]).length, 2);
      const [components] = call(running.tracker, [{
        action: "query",
        expression:
          `select name, file_type, metadata, component_locations.location_id from Component where version_id is ${version.id} order by name`,
      }]);
      const byName = new Map((components!.data as Array<Record<string, unknown>>).map((row) => [row.name, row]));
      ok(byName.has("ftrackreview-mp4") && byName.has("ftrackreview-image"));
      const meta = JSON.parse(
        ((byName.get("ftrackreview-mp4")!.metadata as Array<{ key: string; value: string }>)[0]!).value,
      );
      strictEqual(meta.frameRate, 24);
      strictEqual(meta.width, 160);
      strictEqual(meta.frameOut, 24);
      const [thumb] = call(running.tracker, [{
        action: "query",
        expression: `select thumbnail.name from AssetVersion where id is ${version.id}`,
      }]);
      strictEqual(((thumb!.data as Array<{ thumbnail: { name: string } }>)[0]!).thumbnail.name, "ftrackreview-image");
      const movie = String(data.output[0].component_id);
      ok((await running.tracker.files.size(movie))! > 0);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
});

Deno.test("encode_media without ffmpeg ends in a failed Job that says why", async () => {
  await using running = await startTracker({
    port: 0,
    mediaTools: { ffmpeg: "/nonexistent/ffmpeg", ffprobe: "/nonexistent/ffprobe" },
  });
  const { version, component } = await versionWithFile(running.tracker, new Uint8Array([1, 2, 3]));
  const [answer] = call(running.tracker, [{
    action: "encode_media",
    component_id: component.id,
    version_id: version.id,
  }]);
  const job = await waitForJob(running.tracker, String(answer!.job_id));
  strictEqual(job.status, "failed");
  ok(/ffmpeg is not installed/.test(JSON.parse(String(job.data)).error), String(job.data));
});

Deno.test("encode_media of a component with no stored data fails clearly", async () => {
  await using running = await startTracker({ port: 0 });
  const [answer] = call(running.tracker, [{
    action: "encode_media",
    component_id: "no-such-component",
    version_id: null,
  }]);
  const job = await waitForJob(running.tracker, String(answer!.job_id));
  strictEqual(job.status, "failed");
  ok(/has no data in ftrack.server/.test(JSON.parse(String(job.data)).error));
});
