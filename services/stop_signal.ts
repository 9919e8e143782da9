/**
 * How a service learns that it should stop: SIGINT (Ctrl-C) or SIGTERM (`systemctl stop`).
 *
 * @module
 */

/** An `AbortSignal` aborted by SIGINT or SIGTERM, and a promise settled then; dispose it to remove the listeners. */
export interface StopSignal extends Disposable {
  readonly signal: AbortSignal;
  /** Settles when the service is asked to stop (at once when it already was). */
  readonly stopped: Promise<void>;
}

/**
 * Listens for SIGINT and SIGTERM until disposed. Services run their work with `signal` and wait
 * on `stopped` before shutting down.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { stopSignal } from "./stop_signal.ts";
 *
 * using stop = stopSignal();
 * ok(!stop.signal.aborted);
 * ```
 */
export function stopSignal(): StopSignal {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  const stopped = new Promise<void>((resolve) => {
    if (controller.signal.aborted) resolve();
    else controller.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  return {
    signal: controller.signal,
    stopped,
    [Symbol.dispose]() {
      for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    },
  };
}
