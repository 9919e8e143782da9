/**
 * Collects the scene facts a host sent and the tracker context's attributes the scene validators
 * compare them with.
 *
 * @module
 */
import type { Instance } from "../publish/context.ts";
import { CollectorOrder } from "../publish/orders.ts";
import { definePlugin } from "../publish/plugin.ts";
import type { SceneFacts } from "../publish/request.ts";
import { requestOf, sessionOf } from "./_contract.ts";
import type { TrackerAttributes } from "./_scene.ts";

function merge(base: SceneFacts | undefined, over: SceneFacts | undefined): SceneFacts {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over ?? {})) {
    const before = merged[key];
    merged[key] = value !== null && typeof value === "object" && before !== null && typeof before === "object"
      ? { ...before, ...value }
      : value;
  }
  return merged as SceneFacts;
}

/**
 * `context.data.scene` = the request's `context.scene`; each instance's `data.scene` = its own
 * facts over the context's; and, when any facts were sent and the tracker context is resolved,
 * `context.data.trackerAttributes` = the custom attributes of the shot or asset build
 * (hierarchical ones inherited from its parents, as ftrack reads them).
 */
export const CollectSceneFacts = definePlugin({
  kind: "context",
  name: "CollectSceneFacts",
  label: "Collect scene facts and the context's attributes",
  order: CollectorOrder - 0.1,
  async process(context, { log }) {
    const request = requestOf(context);
    context.data.scene = request.context.scene ?? {};
    const unmatched = new Set<Instance>(context.instances);
    let sent = request.context.scene !== undefined;
    for (const wanted of request.instances) {
      const instance = [...unmatched].find((candidate) => candidate.name === wanted.name);
      if (!instance) continue;
      unmatched.delete(instance);
      instance.data.scene = merge(request.context.scene, wanted.scene);
      sent ||= wanted.scene !== undefined;
    }
    for (const instance of unmatched) instance.data.scene ??= { ...request.context.scene };
    if (!sent) {
      log.debug("the host sent no scene facts");
      return;
    }
    const tracker = context.data.tracker as { entity?: { id: string; name: string; __entity_type__: string } };
    if (!tracker?.entity) {
      log.warning("the tracker context is not resolved: the scene is not compared with it");
      return;
    }
    const { entity } = tracker;
    const answer = await sessionOf(context).query(
      `select custom_attributes from TypedContext where id is "${entity.id}"`,
    );
    const row = answer.data[0] as { custom_attributes?: Array<{ key: string; value: unknown }> } | undefined;
    const values = Object.fromEntries((row?.custom_attributes ?? []).map((item) => [item.key, item.value]));
    const kind = entity.__entity_type__.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
    const attributes: TrackerAttributes = { source: `${kind} '${entity.name}'`, values };
    context.data.trackerAttributes = attributes;
    const shownKeys = [
      "fps",
      "frameStart",
      "frameEnd",
      "handleStart",
      "handleEnd",
      "resolutionWidth",
      "resolutionHeight",
    ];
    log.info(
      `${attributes.source}: ${
        shownKeys.filter((key) => key in values).map((key) => `${key} ${values[key]}`).join(", ")
      }`,
    );
  },
});
