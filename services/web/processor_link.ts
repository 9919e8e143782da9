import { z } from "zod";

/** The processor's default `/health` and `/metrics` address (`deno task processor --port 8075`). */
export const DEFAULT_PROCESSOR_URL = "http://127.0.0.1:8075";

const HealthSchema = z.object({
  status: z.string(),
  version: z.string(),
  variant: z.string(),
  holder: z.string(),
  handlers: z.array(z.string()),
  startedAt: z.string(),
});

/** What the Events page says about the processor. */
export type ProcessorStatus =
  | {
    kind: "running";
    url: string;
    health: z.infer<typeof HealthSchema>;
    /** Prometheus samples by metric name (labels dropped). */
    metrics: Record<string, number>;
  }
  | { kind: "absent"; url: string; reason: string };

/**
 * Prometheus text (version 0.0.4) as metric name → value, labels dropped and comments skipped.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseMetrics } from "./processor_link.ts";
 *
 * const metrics = parseMetrics('# HELP x y\nferry_processor_queue_depth 3\nferry_processor_info{variant="dev"} 1\n');
 * ok(metrics.ferry_processor_queue_depth === 3 && metrics.ferry_processor_info === 1);
 * ```
 */
export function parseMetrics(text: string): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line.trim());
    if (!match || line.startsWith("#")) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) metrics[match[1]!] = value;
  }
  return metrics;
}

/**
 * Asks a processor for its `/health` and `/metrics` (each within `timeout` ms); a processor that
 * does not answer, or something else on the port, is `absent` with the reason.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { processorStatus } from "./processor_link.ts";
 *
 * const status = await processorStatus("http://127.0.0.1:9", { timeout: 500 });
 * ok(status.kind === "absent");
 * ```
 */
export async function processorStatus(url: string, options: { timeout?: number } = {}): Promise<ProcessorStatus> {
  const { timeout = 1000 } = options;
  try {
    const [health, metrics] = await Promise.all([
      fetch(new URL("/health", url), { signal: AbortSignal.timeout(timeout) }),
      fetch(new URL("/metrics", url), { signal: AbortSignal.timeout(timeout) }),
    ]);
    if (!health.ok || !metrics.ok) {
      await Promise.all([health.body?.cancel(), metrics.body?.cancel()]);
      return { kind: "absent", url, reason: `it answered ${health.status} / ${metrics.status}` };
    }
    const parsed = HealthSchema.safeParse(await health.json());
    const text = await metrics.text();
    if (!parsed.success) return { kind: "absent", url, reason: "what answers there is not a ferry processor" };
    return { kind: "running", url, health: parsed.data, metrics: parseMetrics(text) };
  } catch (error) {
    const reason = (error as Error)?.name === "TimeoutError"
      ? `no answer within ${timeout} ms`
      : (error as Error)?.message ?? String(error);
    return { kind: "absent", url, reason };
  }
}
