/**
 * Resolves the request's `project/…/shot` path and task to tracker entities.
 *
 * @module
 */
import { definePlugin } from "../publish/plugin.ts";
import { CollectorOrder } from "../publish/orders.ts";
import { resolveContext } from "../src/tracker/resolve_context.ts";
import { requestOf, sessionOf } from "./_contract.ts";

/** `context.data.tracker` = { project, chain, entity, task }, or `trackerError` saying why not. */
export const CollectTrackerContext = definePlugin({
  kind: "context",
  name: "CollectTrackerContext",
  label: "Collect the tracker context",
  order: CollectorOrder - 0.2,
  async process(context, { log }) {
    const request = requestOf(context);
    try {
      const resolved = await resolveContext(sessionOf(context), request.context.path, request.context.task);
      context.data.tracker = resolved;
      log.info(
        `context ${request.context.path} (${resolved.entity.__entity_type__} ${resolved.entity.id}), task ${resolved.task?.name}`,
      );
    } catch (error) {
      context.data.trackerError = (error as Error).message;
      throw error;
    }
  },
});
