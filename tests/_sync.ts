/**
 * Sync tests' helpers: the leecher and processor (ferry's own handlers) running on an embedded
 * tracker and a store; waiting for the queue to settle; setting custom attribute values.
 */
import type { Session } from "@ftrack/api";
import { createLogger } from "../src/cli/service_log.ts";
import { LEECH_TOPIC, type PipelineStore, PROC_TOPIC } from "../src/store/mod.ts";
import { startLeecher } from "../services/leecher/leecher.ts";
import { discoverHandlers } from "../services/processor/discover_handlers.ts";
import { startProcessor } from "../services/processor/processor.ts";
import { BUILTIN_HANDLERS } from "../services/processor/main.ts";
import { openSession } from "./_tracker.ts";

/** Polls until `condition` holds, failing with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Sets a custom attribute's own value on a tracker entity. */
export async function setValue(session: Session, key: string, entityId: string, value: unknown): Promise<void> {
  const configuration = (await session.query(`select id from CustomAttributeConfiguration where key is "${key}"`))
    .data[0]!;
  await session.update("ContextCustomAttributeValue", [configuration.id, entityId], { value });
}

/** Leecher and processor with ferry's own handlers, stopped when disposed. */
export async function startServices(
  running: { url: string; apiUser: string; apiKey: string },
  store: PipelineStore,
  options: { variant?: "production" | "staging" | "dev" } = {},
): Promise<AsyncDisposable & { session: Session }> {
  const credentials = { server: running.url, apiUser: running.apiUser, apiKey: running.apiKey };
  let connects = 0;
  const leecher = await startLeecher({
    store,
    credentials,
    log: createLogger({ name: "leecher", level: "error" }),
    onConnect: (n) => (connects = n),
  });
  await waitFor(() => connects >= 1, "the leecher");
  const { handlers } = await discoverHandlers([BUILTIN_HANDLERS]);
  const session = await openSession(running);
  const processor = await startProcessor({
    store,
    session,
    handlers,
    variant: options.variant ?? "production",
    log: createLogger({ name: "processor", level: "error" }),
    settingsRefreshMs: 20,
  });
  return {
    session,
    [Symbol.asyncDispose]: async () => {
      await processor.stop();
      await leecher.close();
    },
  };
}

/**
 * Waits until every stored tracker event has a finished job and no new one arrives between two
 * looks (the event count settles: nothing echoes). Returns the number of tracker events.
 */
export async function settle(store: PipelineStore, what = "the events to settle"): Promise<number> {
  let last = -1;
  let stable = 0;
  let count = 0;
  await waitFor(async () => {
    count = await store.countEvents({ topic: LEECH_TOPIC });
    const done = await store.countEvents({ topic: PROC_TOPIC, status: "finished" });
    if (count === done && count === last) stable++;
    else stable = 0;
    last = count;
    if (stable < 3) await new Promise((resolve) => setTimeout(resolve, 150));
    return stable >= 3;
  }, what);
  return count;
}
