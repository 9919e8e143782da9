/** How much a service says. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A service's logger: one line per message, with optional fields. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines carry this name after the parent's. */
  child(name: string): Logger;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** The name on every line (`processor`, `processor/handler:notes`). */
  name: string;
  /** Lines below this level are dropped. @default {"info"} */
  level?: LogLevel;
  /** Where lines go. @default {console.error} */
  write?: (line: string) => void;
  /** JSON lines instead of text (for log collectors). @default {false} */
  json?: boolean;
}

/**
 * A logger for services: `2026-11-22T18:30:00.000Z INFO processor: message key=value` on stderr,
 * or one JSON object per line.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { createLogger } from "./service_log.ts";
 *
 * const lines: string[] = [];
 * const log = createLogger({ name: "leecher", write: (line) => lines.push(line) });
 * log.info("stored", { topic: "ftrack.update" });
 * log.debug("not shown");
 * ok(lines.length === 1 && lines[0]!.endsWith("INFO leecher: stored topic=ftrack.update"));
 * ```
 */
export function createLogger(options: LoggerOptions): Logger {
  const { name, level = "info", write = (line: string) => console.error(line), json = false } = options;
  if (!(level in RANK)) throw new RangeError(`Unknown log level '${level}': use debug, info, warn or error`);
  const emit = (at: LogLevel, message: string, fields: Record<string, unknown> = {}) => {
    if (RANK[at] < RANK[level]) return;
    const time = new Date().toISOString();
    if (json) {
      write(JSON.stringify({ time, level: at, name, message, ...fields }));
      return;
    }
    const extra = Object.entries(fields).map(([key, value]) =>
      ` ${key}=${typeof value === "string" && !/\s/.test(value) ? value : JSON.stringify(value)}`
    ).join("");
    write(`${time} ${at.toUpperCase()} ${name}: ${message}${extra}`);
  };
  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
    child: (child) => createLogger({ ...options, name: `${name}/${child}` }),
  };
}
