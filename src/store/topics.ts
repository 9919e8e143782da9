/**
 * Topics of the event pipeline, shared by the services (which never import each other).
 *
 * @module
 */

/** Tracker events as the leecher stores them (hash = the tracker event's id). */
export const LEECH_TOPIC = "tracker.leech";
/** The processor's jobs, one per leech event. */
export const PROC_TOPIC = "tracker.proc";
/** The payload topic of the leech event recorded on every leecher (re)connect. */
export const LEECHER_STARTED_TOPIC = "ferry.leecher.started";
/** Recorded by the processor's hook on a leecher (re)connect: what may have been missed needs reconciling. */
export const RECONCILE_TOPIC = "ferry.reconcile.requested";
/** The sender type of what comes from the tracker (and of what the processor writes on its behalf). */
export const TRACKER_SENDER_TYPE = "tracker";
