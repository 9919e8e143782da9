import { createHash } from "node:crypto";

/**
 * The pipeline id a sync gives the entity it makes for a tracker entity: a name-based UUID
 * (version 5 layout) of the tracker id, the same every time. Two syncs making the same entity at
 * once (events of one publish handled side by side) then write one entity, never two.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { pipelineIdOf } from "./pipeline_id.ts";
 *
 * ok(pipelineIdOf("tracker-1") === pipelineIdOf("tracker-1"));
 * ok(pipelineIdOf("tracker-1") !== pipelineIdOf("tracker-2"));
 * ok(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(pipelineIdOf("tracker-1")));
 * ```
 */
export function pipelineIdOf(trackerId: string): string {
  const bytes = createHash("sha1").update(`ferry.pipeline:${trackerId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
