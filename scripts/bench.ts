/**
 * `deno task bench [sequence|fingerprint|all]`: prints the figures the performance targets are
 * checked against, each compared with its reference measured in the same run. No assertion: the
 * machines are shared and noisy, so figures are read, not gated.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assemble } from "../src/sequence/assemble.ts";
import { fingerprintFile } from "../src/fingerprint/fingerprint_file.ts";
import { fingerprintFiles } from "../src/fingerprint/fingerprint_files.ts";
import { HashPool } from "../src/fingerprint/hash_pool.ts";
import { generateNames } from "./generate_names.ts";
import { benchTracker } from "./bench_tracker.ts";
import { benchBridge } from "./bench_bridge.ts";
import { benchPublish, benchPublishLarge } from "./bench_publish.ts";
import { benchPublishRepublish } from "./bench_republish.ts";
import { benchEvents } from "./bench_events.ts";
import { benchSync } from "./bench_sync.ts";
import { benchWeb } from "./bench_web.ts";

const USAGE =
  `Usage: deno task bench [sequence|fingerprint|tracker|publish|events|sync|web|bridge|all] [--quick] [--large] [--republish]

  sequence      assemble() names/s on realistic lists: 10k, 100k, 1M names (one digit run each)
                and 100k names with three digit runs (shot, version, frame). Targets: 1M ≤ 1 s,
                100k × 3 runs ≤ 0.5 s.
  fingerprint   SHA-1 MiB/s on cached files beside \`openssl speed -evp sha1 -bytes 1048576\` (one
                core), measured in the same run: one 512 MiB file (target ≥ 0.9×) and 16 files
                of 32 MiB on worker threads (target ≥ 1.6×); also openssl with -multi 2 and
                \`openssl dgst -sha1\` on the same files in two processes, for what the machine gives.
  tracker       the embedded tracker: ~100,000 entities created over HTTP (target ≥ 2,000/s) and
                p50 / p99 of typical handler queries (target p50 ≤ 2 ms for indexed lookups), 6,000
                creates in 12 calls (a 1,000-frame publish's records), and a publish's lookups
                through ferry's tracker cache, cold and warm (target: warm ≤ 1 % of cold)
  publish       1,000 frames of 1 MiB published to ftrack.server on the embedded tracker (in this
                process, then as its own process), beside \`cat > /dev/null\` (target ≤ 2×) and
                \`cp -r\` of the same bytes in the same run
  events        tracker commit → leecher → SQLite store → processor → a no-op handler, services as
                processes: events/s from 8 writing sessions (target ≥ 2,000/s) and the p99 delay
                from commit to handler start at 100 events/s (target ≤ 100 ms)
  publish --republish
                1,000 frames of 1 MiB published, then published again with 1 % of them changed,
                in one run: the second publish reuses what the tracker holds (target ≤ 10 % of the
                first's time); --quick uses 200 frames. Then 8 × 64 MiB (--quick: 2) published,
                copied to a new folder and published under another asset, to ftrack.server and to a
                disk location: found by their probe and linked, nothing sent or written
  publish --large
                one 1 GiB file published to ftrack.server on the tracker as its own process, beside
                \`curl -T\` of the same file to a signed upload URL and \`sha1sum\` of it (target:
                publish ≤ 1.5× curl + sha1sum), and another process's p99 latency of a small /api
                query during the publish (target ≤ 50 ms); --quick uses 256 MiB
  sync          a full sync of a 10,000-entity tracker project into a SQLite pipeline store, beside
                replaying the same entities as incremental ftrack.update events (--quick: 1,000)
  web           the web view's version page on the demo data in headless Chromium, cold: bytes
                transferred (target: under 200 kB of script) and time to show (target < 300 ms)
  bridge        the demo sequence (48 frames, render + review) published through the bridge (POST,
                then its event stream to the end) and with runPublish directly, in interleaved rounds:
                the bridge's cost (target ≤ 5%) and POST → first SSE event (target ≤ 10 ms)
  all           sequence and fingerprint (the default; tracker, publish, events and bridge run on their own)
  --quick       smaller inputs, for a smoke run`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function benchSequence(quick: boolean): void {
  console.log("assemble() on generated names (median of 5 runs, after 1 warm-up)");
  console.log("  names        runs  time (ms)   names/s     collections  remainder");
  const cases: Array<[number, 1 | 3]> = quick
    ? [[10_000, 1], [100_000, 1], [10_000, 3]]
    : [[10_000, 1], [100_000, 1], [1_000_000, 1], [100_000, 3]];
  for (const [count, runs] of cases) {
    const names = generateNames({ count, runs, seed: 7 });
    assemble(names);
    const times: number[] = [];
    let result = assemble(names);
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      result = assemble(names);
      times.push(performance.now() - start);
    }
    const ms = median(times);
    console.log(
      `  ${String(count).padEnd(11)}  ${runs}     ${ms.toFixed(0).padStart(9)}   ${
        Math.round(count / (ms / 1000)).toLocaleString("en").padStart(11)
      }   ${String(result.collections.length).padStart(11)}  ${String(result.remainder.length).padStart(9)}`,
    );
  }
}

/** One core's SHA-1 rate in MiB/s as openssl reports it, or undefined without openssl. */
/** MiB/s of `openssl speed -evp sha1 -bytes 1048576`, summed over `processes` (`-multi`). */
function opensslRate(seconds: number, processes = 1): number | undefined {
  const multi = processes > 1 ? ["-multi", String(processes)] : [];
  const run = spawnSync("openssl", [
    "speed",
    ...multi,
    "-evp",
    "sha1",
    "-bytes",
    "1048576",
    "-seconds",
    String(seconds),
  ], {
    encoding: "utf8",
  });
  if (run.status !== 0) return undefined;
  const line = run.stdout.split("\n").find((l) => /^sha1\s/.test(l.trim()));
  const value = line?.trim().split(/\s+/).pop();
  if (!value?.endsWith("k")) return undefined;
  return (Number(value.slice(0, -1)) * 1000) / 1048576;
}

/**
 * MiB/s of native tooling on the same files: `openssl dgst -sha1` in two processes, each on half
 * of the files (reads included, unlike `openssl speed`).
 */
async function opensslFilesRate(paths: string[], bytes: number): Promise<number | undefined> {
  const halves = [paths.filter((_, i) => i % 2 === 0), paths.filter((_, i) => i % 2 === 1)];
  const start = performance.now();
  const codes = await Promise.all(halves.map((half) =>
    new Promise<number | null>((resolve) => {
      const child = spawn("openssl", ["dgst", "-sha1", ...half], { stdio: "ignore" });
      child.on("error", () => resolve(null));
      child.on("close", resolve);
    })
  ));
  if (codes.some((code) => code !== 0)) return undefined;
  return bytes / 1048576 / ((performance.now() - start) / 1000);
}

/** Reads files once so that they are in the page cache when timed. */
function warm(paths: string[]): void {
  const buffer = new Uint8Array(4 << 20);
  for (const path of paths) {
    const fd = openSync(path, "r");
    let position = 0;
    for (let read = 1; read > 0; position += read) read = readSync(fd, buffer, 0, buffer.length, position);
    closeSync(fd);
  }
}

function writeRandomFile(path: string, bytes: number): void {
  const chunk = new Uint8Array(1 << 20);
  crypto.getRandomValues(chunk.subarray(0, 65536));
  for (let i = 65536; i < chunk.length; i += 65536) chunk.copyWithin(i, 0, 65536);
  const fd = openSync(path, "w");
  let written = 0;
  while (written < bytes) {
    chunk[0] = written & 0xff; // make the chunks differ
    written += writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  }
  closeSync(fd);
  readFileSync(path); // into the page cache: the targets are for cached files
}

async function benchFingerprint(quick: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ferry-bench-"));
  try {
    // Small enough to stay in the page cache of these machines (which drop large caches quickly);
    // each set is read once more right before it is timed.
    const singleSize = (quick ? 128 : 512) * 1048576;
    const manyCount = quick ? 8 : 16;
    const manySize = 32 * 1048576;
    console.log(`preparing ${singleSize / 1048576} MiB + ${manyCount} × 32 MiB of cached files in ${dir} …`);
    const single = join(dir, "single.bin");
    writeRandomFile(single, singleSize);
    const many: string[] = [];
    for (let i = 0; i < manyCount; i++) {
      const path = join(dir, `frame.${String(i).padStart(4, "0")}.bin`);
      writeRandomFile(path, manySize);
      many.push(path);
    }

    const rounds = quick ? 1 : 5;
    const singleRatios: number[] = [];
    const manyRatios: number[] = [];
    const opensslRates: number[] = [];
    const opensslPairRates: number[] = [];
    const opensslFileRatios: number[] = [];
    // A long-running process keeps one pool; a one-shot call starts threads (~0.1 s) itself.
    let start = performance.now();
    await fingerprintFiles(many);
    const coldRate = (manyCount * manySize) / 1048576 / ((performance.now() - start) / 1000);
    await using workers = new HashPool();
    await fingerprintFiles(many.slice(0, 2), { workers });
    let singleRate = 0;
    let manyRate = 0;
    // Each round measures openssl right before ferry, and its ratio is taken within the round, so
    // that the machine's changing load (it is shared) falls on both sides of each ratio.
    for (let round = 0; round < rounds; round++) {
      const reference = opensslRate(quick ? 1 : 2);
      const pair = opensslRate(quick ? 1 : 2, 2);
      warm([single]);
      start = performance.now();
      await fingerprintFile(single);
      singleRate = singleSize / 1048576 / ((performance.now() - start) / 1000);
      warm(many);
      start = performance.now();
      await fingerprintFiles(many, { workers });
      manyRate = (manyCount * manySize) / 1048576 / ((performance.now() - start) / 1000);
      warm(many);
      const native = await opensslFilesRate(many, manyCount * manySize);
      if (reference === undefined) continue;
      if (native !== undefined) opensslFileRatios.push(native / reference);
      opensslRates.push(reference);
      if (pair !== undefined) opensslPairRates.push(pair);
      singleRatios.push(singleRate / reference);
      manyRatios.push(manyRate / reference);
      console.log(
        `  round ${round + 1}: openssl ${reference.toFixed(0)} MiB/s (2 processes ${pair?.toFixed(0)}), one file ${
          singleRate.toFixed(0)
        } MiB/s (${(singleRate / reference).toFixed(2)}×), many files ${manyRate.toFixed(0)} MiB/s (${
          (manyRate / reference).toFixed(2)
        }×), openssl dgst on them ${native?.toFixed(0)} MiB/s`,
      );
    }
    console.log(`SHA-1 on cached files (median of ${rounds} rounds, each ratio taken within its round)`);
    if (opensslRates.length === 0) {
      console.log(
        `  openssl not found: one file ${singleRate.toFixed(0)} MiB/s, many files ${manyRate.toFixed(0)} MiB/s`,
      );
      return;
    }
    console.log(
      `  openssl speed -evp sha1 -bytes 1048576: ${median(opensslRates).toFixed(0)} MiB/s on one core; with -multi 2 ${
        median(opensslPairRates).toFixed(0)
      } MiB/s (${(median(opensslPairRates) / median(opensslRates)).toFixed(2)}×: what two busy cores give here)`,
    );
    console.log(
      `  fingerprintFile, one ${singleSize / 1048576} MiB file:             ${
        median(singleRatios).toFixed(2)
      }× (target ≥ 0.9×)`,
    );
    console.log(
      `  fingerprintFiles, ${manyCount} × 32 MiB on a kept HashPool:  ${
        median(manyRatios).toFixed(2)
      }× (target ≥ 1.6×)`,
    );
    if (opensslFileRatios.length) {
      console.log(
        `  openssl dgst -sha1 on the same files, 2 processes: ${
          median(opensslFileRatios).toFixed(2)
        }× (native tooling, reads included)`,
      );
    }
    console.log(
      `  the same with threads started by the call:   ${coldRate.toFixed(0)} MiB/s, ${
        (coldRate / median(opensslRates)).toFixed(2)
      }× (start-up included)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = Deno.args.filter((arg) => arg !== "--quick" && arg !== "--large" && arg !== "--republish");
  const large = Deno.args.includes("--large");
  const republish = Deno.args.includes("--republish");
  const quick = Deno.args.includes("--quick");
  const what = args[0] ?? "all";
  if (what === "--help" || what === "-h") {
    console.log(USAGE);
  } else if (
    !["sequence", "fingerprint", "tracker", "publish", "events", "sync", "web", "bridge", "all"].includes(what) ||
    args.length > 1
  ) {
    console.error(`bench: unknown benchmark '${args.join(" ")}'\n\n${USAGE}`);
    Deno.exit(2);
  } else {
    if (what === "sequence" || what === "all") benchSequence(quick);
    if (what === "fingerprint" || what === "all") await benchFingerprint(quick);
    if (what === "tracker") await benchTracker(quick);
    if (what === "publish") {
      await (large ? benchPublishLarge(quick) : republish ? benchPublishRepublish(quick) : benchPublish(quick));
    }
    if (what === "bridge") await benchBridge(quick);
    if (what === "events") await benchEvents(quick);
    if (what === "sync") await benchSync(quick);
    if (what === "web") await benchWeb(quick);
  }
  // Done: the official client's event hub leaves a 30 s timer behind each connection (its reply
  // subscription's publish timeout is never cleared), which would keep the process up for nothing.
  Deno.exit(0);
}
