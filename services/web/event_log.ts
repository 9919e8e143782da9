import { existsSync } from "node:fs";
import { LEECH_TOPIC, openStore, type PipelineStore, PROC_TOPIC, type Variant } from "../../src/store/mod.ts";
import type { QueueFigures } from "./pages/events_pages.ts";

/** Opens the pipeline store on first use, or says there is none. */
export type FindStore = () => Promise<PipelineStore | undefined>;

/**
 * The pipeline store at `location` (a SQLite file or a `postgres://` URL), opened on first use and
 * kept open; a SQLite file that does not exist yet is not made (the services make it).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { storeAt } from "./event_log.ts";
 *
 * const store = storeAt("/nonexistent/store.db");
 * ok(await store.find() === undefined);
 * await store.close();
 * ```
 */
export function storeAt(location: string): { find: FindStore; close(): Promise<void> } {
  let opened: Promise<PipelineStore> | undefined;
  return {
    find() {
      if (opened) return opened;
      const isUrl = /^postgres(ql)?:\/\//.test(location);
      if (!isUrl && location !== ":memory:" && !existsSync(location)) return Promise.resolve(undefined);
      opened = openStore(location);
      opened.catch(() => (opened = undefined));
      return opened;
    },
    async close() {
      const store = await opened?.catch(() => undefined);
      opened = undefined;
      await store?.close();
    },
  };
}

/**
 * Queue depth (sources not handed out plus jobs waiting, with the processor settings of the
 * variant), the lag of the newest job (from its
 * source being stored to the job starting) and the age of the oldest job waiting to run.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { openStore } from "../../src/store/mod.ts";
 * import { queueFigures } from "./event_log.ts";
 *
 * await using store = await openStore(":memory:");
 * await store.dispatch({ topic: "tracker.leech", hash: "e1" });
 * const figures = await queueFigures(store);
 * ok(figures.depth === 1 && figures.lagSeconds === null);
 * ```
 */
export async function queueFigures(
  store: PipelineStore,
  options: { variant?: Variant; now?: number } = {},
): Promise<QueueFigures> {
  const { variant = "production", now = Date.now() } = options;
  // A failed job counts as waiting only while the processor would still retry it.
  const { maxRetries } = (await store.getSettings(variant)).processor;
  const [depth, newest, waiting] = await Promise.all([
    store.queueDepth(LEECH_TOPIC, PROC_TOPIC, { maxRetries }),
    store.listEvents({ topic: PROC_TOPIC, limit: 1, newestFirst: true }),
    store.listEvents({ topic: PROC_TOPIC, status: "pending", limit: 1 }),
  ]);
  let lagSeconds: number | null = null;
  const last = newest[0];
  if (last?.dependsOn) {
    const source = await store.getEvent(last.dependsOn);
    if (source) lagSeconds = Math.max(0, (last.createdAt - source.createdAt) / 1000);
  }
  const oldest = waiting[0];
  return { depth, lagSeconds, oldestWaitingSeconds: oldest ? Math.max(0, (now - oldest.createdAt) / 1000) : null };
}
