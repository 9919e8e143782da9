import { formatBytes } from "../../src/units/format_bytes.ts";

/** Where progress goes: a writable byte sink that may be a terminal. */
export interface ProgressSink {
  writeSync(data: Uint8Array): number;
  isTerminal(): boolean;
}

/** Options of {@linkcode Progress}. */
export interface ProgressOptions {
  /** What is being done, e.g. `hashing`. */
  label: string;
  /** `bytes` shows sizes and speed; `items` plain counts. @default {"bytes"} */
  unit?: "bytes" | "items";
  /** @default {Deno.stderr} */
  sink?: ProgressSink;
  /** Colours (ignored when the `NO_COLOR` environment variable is set). @default {true on a terminal} */
  color?: boolean;
  /** Milliseconds between redraws of the live bar, or between plain lines off a terminal (those also every 25%). @default {100 on a terminal, 5000 otherwise} */
  interval?: number;
}

const encoder = new TextEncoder();

/**
 * Shows how far a long operation has come: a live bar on a terminal (`\r`-redrawn, at most ten
 * times a second), plain lines at every quarter and every few seconds otherwise, so that farm logs
 * stay readable. `line()` prints a message above the bar.
 */
export class Progress {
  #label: string;
  #unit: "bytes" | "items";
  #sink: ProgressSink;
  #live: boolean;
  #color: boolean;
  #interval: number;
  #start = performance.now();
  #lastDraw = 0;
  #lastQuarter = -1;
  #done = 0;
  #total = 0;
  #drawn = false;

  constructor(options: ProgressOptions) {
    const { label, unit = "bytes", sink = Deno.stderr } = options;
    this.#label = label;
    this.#unit = unit;
    this.#sink = sink;
    this.#live = sink.isTerminal();
    this.#color = (options.color ?? this.#live) && !Deno.env.get("NO_COLOR");
    this.#interval = options.interval ?? (this.#live ? 100 : 5000);
  }

  /** Records progress: `done` of `total`. Draws when due. */
  update(done: number, total: number): void {
    this.#done = done;
    this.#total = total;
    const now = performance.now();
    if (this.#live) {
      if (now - this.#lastDraw >= this.#interval || done >= total) this.#draw(now);
      return;
    }
    const quarter = total > 0 ? Math.floor((4 * done) / total) : 4;
    if (quarter > this.#lastQuarter || now - this.#lastDraw >= this.#interval) {
      this.#lastQuarter = quarter;
      this.#lastDraw = now;
      this.#write(this.#status(now) + "\n");
    }
  }

  /** Prints a line of its own (above the live bar). */
  line(text: string): void {
    if (this.#live && this.#drawn) this.#write("\r\x1b[2K");
    this.#write(text + "\n");
    if (this.#live && this.#drawn) this.#draw(performance.now());
  }

  /** Ends the bar with a final status line. */
  finish(): void {
    const now = performance.now();
    if (this.#live) {
      this.#write(`\r\x1b[2K${this.#status(now)}\n`);
    } else if (this.#lastQuarter < 4) {
      this.#write(this.#status(now) + "\n");
    }
    this.#drawn = false;
  }

  #draw(now: number): void {
    this.#lastDraw = now;
    this.#drawn = true;
    const width = 24;
    const fraction = this.#total > 0 ? Math.min(1, this.#done / this.#total) : 1;
    const filled = Math.round(fraction * width);
    let bar = "█".repeat(filled) + "░".repeat(width - filled);
    if (this.#color) bar = `\x1b[36m${bar}\x1b[0m`;
    this.#write(`\r\x1b[2K${bar} ${this.#status(now)}`);
  }

  #status(now: number): string {
    const seconds = Math.max((now - this.#start) / 1000, 1e-3);
    const percent = this.#total > 0 ? Math.floor((100 * this.#done) / this.#total) : 100;
    if (this.#unit === "items") return `${this.#label} ${this.#done}/${this.#total} (${percent}%)`;
    const rate = formatBytes(this.#done / seconds);
    return `${this.#label} ${formatBytes(this.#done)}/${formatBytes(this.#total)} (${percent}%, ${rate}/s)`;
  }

  #write(text: string): void {
    this.#sink.writeSync(encoder.encode(text));
  }
}
