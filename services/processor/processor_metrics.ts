/** What a processor counts, for `/metrics`. */
export interface ProcessorMetrics {
  /** Jobs finished. */
  processed: number;
  /** Job failures (each failed attempt). */
  failed: number;
  /** Handler calls that threw. */
  handlerErrors: number;
  /** Jobs whose lease was lost before they were done. */
  leasesLost: number;
  /** Jobs now being processed. */
  inFlight: number;
  /** Sources not yet handed out plus jobs waiting (refreshed every few seconds). */
  queueDepth: number;
  /** Seconds from the source event being stored to its job starting, for the last job. */
  lagSeconds: number;
  /** Same, the largest seen since start. */
  maxLagSeconds: number;
}

/** Counters at zero. */
export function emptyMetrics(): ProcessorMetrics {
  return {
    processed: 0,
    failed: 0,
    handlerErrors: 0,
    leasesLost: 0,
    inFlight: 0,
    queueDepth: 0,
    lagSeconds: 0,
    maxLagSeconds: 0,
  };
}

/**
 * The metrics in Prometheus' text format (version 0.0.4).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { emptyMetrics, prometheusText } from "./processor_metrics.ts";
 *
 * const text = prometheusText({ ...emptyMetrics(), processed: 3 }, { version: "0.1.0", variant: "dev" });
 * ok(text.includes("ferry_processor_events_processed_total 3\n"));
 * ok(text.includes('ferry_processor_info{version="0.1.0",variant="dev"} 1'));
 * ```
 */
export function prometheusText(metrics: ProcessorMetrics, info: { version: string; variant: string }): string {
  const escape = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  const lines: string[] = [];
  const metric = (name: string, type: "counter" | "gauge", help: string, value: number, labels = "") => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}${labels} ${value}`);
  };
  metric(
    "ferry_processor_info",
    "gauge",
    "The processor's version and variant.",
    1,
    `{version="${escape(info.version)}",variant="${escape(info.variant)}"}`,
  );
  metric("ferry_processor_events_processed_total", "counter", "Events processed (jobs finished).", metrics.processed);
  metric("ferry_processor_events_failed_total", "counter", "Failed job attempts.", metrics.failed);
  metric("ferry_processor_handler_errors_total", "counter", "Handler calls that threw.", metrics.handlerErrors);
  metric("ferry_processor_leases_lost_total", "counter", "Jobs whose lease was lost.", metrics.leasesLost);
  metric("ferry_processor_jobs_in_flight", "gauge", "Jobs being processed now.", metrics.inFlight);
  metric("ferry_processor_queue_depth", "gauge", "Events waiting to be processed.", metrics.queueDepth);
  metric(
    "ferry_processor_lag_seconds",
    "gauge",
    "Seconds from an event being stored to its processing starting (last job).",
    metrics.lagSeconds,
  );
  metric("ferry_processor_lag_seconds_max", "gauge", "Largest lag since start.", metrics.maxLagSeconds);
  return `${lines.join("\n")}\n`;
}
