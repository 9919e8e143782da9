import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";

/** One log record: a message and any fields. */
export type LogFields = Record<string, unknown>;

/**
 * The bridge's log: one JSON object per line in `<folder>/bridge-<YYYY-MM-DD>.jsonl` (UTC date),
 * written in order; requests and job lifecycles go here.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { mkdtemp, readdir, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { BridgeLog } from "./bridge_log.ts";
 *
 * const folder = await mkdtemp(join(tmpdir(), "ferry-logs-"));
 * const log = new BridgeLog({ folder });
 * log.info("bridge started", { port: 8071 });
 * await log.flush();
 * ok((await readdir(folder))[0]?.startsWith("bridge-"));
 * await rm(folder, { recursive: true });
 * ```
 */
export class BridgeLog {
  readonly folder: string;
  #writing: Promise<void> = Promise.resolve();
  #lines: string[] = [];
  #file = "";

  constructor(options: { folder: string }) {
    this.folder = options.folder;
  }

  info(message: string, fields: LogFields = {}): void {
    this.write("info", message, fields);
  }

  warning(message: string, fields: LogFields = {}): void {
    this.write("warning", message, fields);
  }

  error(message: string, fields: LogFields = {}): void {
    this.write("error", message, fields);
  }

  /** Queues one record; lines are appended in batches, in order. */
  write(level: "debug" | "info" | "warning" | "error", message: string, fields: LogFields = {}): void {
    const time = new Date().toISOString();
    const file = join(this.folder, `bridge-${time.slice(0, 10)}.jsonl`);
    if (file !== this.#file) this.#drain();
    this.#file = file;
    this.#lines.push(JSON.stringify({ time, level, message, ...fields }));
    if (this.#lines.length === 1) queueMicrotask(() => this.#drain());
  }

  /** Waits until every queued record is written. */
  async flush(): Promise<void> {
    this.#drain();
    await this.#writing;
  }

  #drain(): void {
    if (this.#lines.length === 0) return;
    const lines = this.#lines.join("\n") + "\n";
    const file = this.#file;
    this.#lines = [];
    this.#writing = this.#writing
      .then(async () => {
        await mkdir(this.folder, { recursive: true });
        await appendFile(file, lines);
      })
      .catch((error) => console.error(`bridge: cannot write the log '${file}': ${(error as Error).message}`));
  }
}
