import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";

/** Python's level names, as pyblish's records carry them. */
export type LevelName = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";

/** A log record a plugin (or action) produced while it ran. */
export interface LogRecord {
  /** The coarse level: `critical` and `exception` records are `"error"` here (see `levelName`). */
  level: "debug" | "info" | "warning" | "error";
  /** Python's `levelname`: `exception` logs at ERROR, `critical` at CRITICAL. */
  levelName: LevelName;
  /** Python's `levelno`: 10, 20, 30, 40 or 50. */
  levelno: number;
  /** The logger's name: the plugin's or action's name. */
  logger: string;
  message: string;
  time: string;
  /** The error of an `exception` record. */
  exception?: { name: string; message: string; stack?: string };
}

/**
 * A plugin's logger with pyblish's levels. Messages take printf-style arguments (`%s`, `%d`, `%o`,
 * as `node:util` `format`). `exception` logs at ERROR with the error given as its last argument.
 * While a plugin or action runs, every record goes into that run's result (as pyblish keeps every
 * `pyblish.*` record); outside a run, warnings and worse go to the console and the rest is dropped
 * (Python's last-resort handler).
 */
export interface PluginLog {
  debug(message: unknown, ...args: unknown[]): void;
  info(message: unknown, ...args: unknown[]): void;
  warning(message: unknown, ...args: unknown[]): void;
  /** The same as `warning`. */
  warn(message: unknown, ...args: unknown[]): void;
  error(message: unknown, ...args: unknown[]): void;
  critical(message: unknown, ...args: unknown[]): void;
  /** An ERROR record with the error (the last argument, when it is an Error) attached. */
  exception(message: unknown, ...args: unknown[]): void;
}

const sink = new AsyncLocalStorage<LogRecord[]>();

/** Runs `fn` with every log record made meanwhile (by any plugin's logger) going into `records`. */
export function withRecords<T>(records: LogRecord[], fn: () => T): T {
  return sink.run(records, fn);
}

const LEVELS: Record<LevelName, { level: LogRecord["level"]; levelno: number }> = {
  DEBUG: { level: "debug", levelno: 10 },
  INFO: { level: "info", levelno: 20 },
  WARNING: { level: "warning", levelno: 30 },
  ERROR: { level: "error", levelno: 40 },
  CRITICAL: { level: "error", levelno: 50 },
};

/**
 * A logger named `name`, recording into the result of whichever run is in progress.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { createLog, type LogRecord, withRecords } from "./log.ts";
 *
 * const log = createLog("ValidateNames");
 * const records: LogRecord[] = [];
 * withRecords(records, () => log.critical("%d names are wrong", 3));
 * ok(records[0]!.message === "3 names are wrong" && records[0]!.levelName === "CRITICAL");
 * ```
 */
export function createLog(name: string): PluginLog {
  const write = (levelName: LevelName, message: unknown, args: unknown[], error?: unknown) => {
    const text = format(message, ...args);
    const records = sink.getStore();
    if (!records) {
      if (LEVELS[levelName].levelno >= 30) console.error(`${levelName}:${name}: ${text}`);
      return;
    }
    const record: LogRecord = {
      ...LEVELS[levelName],
      levelName,
      logger: name,
      message: text,
      time: new Date().toISOString(),
    };
    if (error !== undefined) {
      const failure = error instanceof Error ? error : new Error(String(error));
      record.exception = { name: failure.name, message: failure.message, stack: failure.stack };
    }
    records.push(record);
  };
  return {
    debug: (message, ...args) => write("DEBUG", message, args),
    info: (message, ...args) => write("INFO", message, args),
    warning: (message, ...args) => write("WARNING", message, args),
    warn: (message, ...args) => write("WARNING", message, args),
    error: (message, ...args) => write("ERROR", message, args),
    critical: (message, ...args) => write("CRITICAL", message, args),
    exception: (message, ...args) => {
      const last = args.at(-1);
      if (last instanceof Error) write("ERROR", message, args.slice(0, -1), last);
      else write("ERROR", message, args);
    },
  };
}
