/**
 * The hook of a leecher (re)connect: events sent while no leecher listened are lost to the log,
 * so a reconciliation is requested. It is recorded as a `ferry.reconcile.requested` event (once
 * per leecher start) for the sync handlers to act on.
 *
 * @module
 */
import { LEECHER_STARTED_TOPIC, RECONCILE_TOPIC, TRACKER_SENDER_TYPE } from "../../../src/store/topics.ts";
import { defineHandler } from "../define_handler.ts";

/** Records a reconciliation request for every leecher (re)connect. */
export const reconcileOnLeecherStart = defineHandler({
  name: "reconcile-on-leecher-start",
  subscription: `topic=${LEECHER_STARTED_TOPIC}`,
  priority: 0,
  async handle(event, { store, job, log }) {
    const data = (event.data ?? {}) as { sender?: string; connects?: number };
    const { duplicate } = await store.dispatch({
      topic: RECONCILE_TOPIC,
      hash: `${RECONCILE_TOPIC}:${event.id}`,
      sender: job.event.sender,
      senderType: TRACKER_SENDER_TYPE,
      payload: {
        reason: "leecher-started",
        leecher: data.sender ?? null,
        connects: data.connects ?? null,
        leechEvent: job.source.id,
      },
      description: `Reconcile: leecher ${data.sender ?? "?"} (re)connected (connection ${data.connects ?? "?"})`,
    });
    if (!duplicate) log.info("reconciliation requested", { leecher: data.sender, connects: data.connects });
  },
});
