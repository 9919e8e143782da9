import { Hono } from "hono";
import type { Variant } from "../../src/store/settings.ts";
import { type ProcessorMetrics, prometheusText } from "./processor_metrics.ts";

/** What `/health` reports. */
export interface ProcessorHealth {
  version: string;
  variant: Variant;
  sender: string;
  holder: string;
  store: { kind: string; location: string; schemaVersion: number };
  handlers: string[];
  /** Modules that failed to load (they are skipped). */
  handlerFailures: Array<{ path: string; error: string }>;
  startedAt: string;
}

/**
 * The processor's local HTTP routes: `GET /health` (JSON: status, version, variant, store, the
 * handlers) and `GET /metrics` (Prometheus text: events processed and failed, queue depth, lag).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { processorApp } from "./processor_app.ts";
 * import { emptyMetrics } from "./processor_metrics.ts";
 *
 * const app = processorApp(() => emptyMetrics(), () => ({
 *   version: "0.1.0", variant: "dev", sender: "p", holder: "h", handlers: [], handlerFailures: [],
 *   store: { kind: "sqlite", location: ":memory:", schemaVersion: 3 }, startedAt: new Date(0).toISOString(),
 * }));
 * const health = await (await app.request("/health")).json();
 * ok(health.status === "ok" && health.variant === "dev");
 * ok((await (await app.request("/metrics")).text()).includes("ferry_processor_queue_depth 0"));
 * ```
 */
export function processorApp(metrics: () => ProcessorMetrics, health: () => ProcessorHealth): Hono {
  const app = new Hono();
  app.get("/health", (c) => c.json({ status: "ok", ...health() }));
  app.get("/metrics", (c) => {
    const { version, variant } = health();
    return c.text(prometheusText(metrics(), { version, variant }), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });
  app.notFound((c) => c.json({ error: `No route ${c.req.method} ${c.req.path}: use /health or /metrics` }, 404));
  return app;
}
