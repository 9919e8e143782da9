/**
 * The single binaries `deno task compile` builds: for each, the entry module, what `deno compile` cannot see
 * and must include, and the permissions granted at compile time (the least each needs; none is built with
 * `--allow-all`, and none may load remote code or native libraries).
 *
 * A binary whose `source` does not exist yet (a service still being written) is left out with a note. To add
 * a service: write `scripts/bin/ferry_<name>.ts` (three lines, like `scripts/bin/ferry_leecher.ts`) and give
 * it an entry here.
 *
 * @module
 */

/** A permission flag of `deno compile`, with the reason the binary needs it. */
export interface Permission {
  /** The flag, e.g. `--allow-net`. */
  flag: `--allow-${"net" | "read" | "write" | "env" | "run" | "sys"}`;
  /** Why the binary needs it. */
  why: string;
}

/** One binary. */
export interface BinarySpec {
  /** The binary's name (`.exe` is added on Windows). */
  name: string;
  /** One line saying what it is. */
  summary: string;
  /** The module `deno compile` starts from, relative to the checkout. */
  entry: string;
  /** The command or service module the entry runs; the binary is built only when it exists. */
  source: string;
  /**
   * Files and folders loaded at run time in ways `deno compile` cannot follow (a worker found by
   * `new URL(…, import.meta.url)`, plugin and handler folders scanned and imported), relative to the checkout.
   * Modules among them become roots of the binary's module graph, so what they import is embedded too.
   */
  include: readonly string[];
  /** The permissions granted at compile time. */
  permissions: readonly Permission[];
}

const NET: Permission = { flag: "--allow-net", why: "talks to the tracker (ftrack or embedded) and serves HTTP" };
const READ: Permission = { flag: "--allow-read", why: "reads FERRY_HOME, settings, user plugin folders and files" };
const WRITE: Permission = { flag: "--allow-write", why: "writes FERRY_HOME (state, logs, reports, SQLite stores)" };
const ENV: Permission = { flag: "--allow-env", why: "reads FTRACK_*, FERRY_*, PG* and the per-user data folder" };
const SYS: Permission = { flag: "--allow-sys", why: "host name (service names, leases) and home folder" };

/** The hash worker that `HashPool` starts from its own folder (`new URL("./_hash_worker.ts", import.meta.url)`). */
export const HASH_WORKER = "src/fingerprint/_hash_worker.ts";
/** ferry's publish plugins, found by scanning the folder (`publish/discover.ts`). */
export const PUBLISH_PLUGINS = "plugins/";
/** ferry's own event handlers, found by scanning the folder (`services/processor/discover_handlers.ts`). */
export const PROCESSOR_HANDLERS = "services/processor/handlers/";
/**
 * The Blender add-on and the Python client it vendors, which the bridge zips for `GET /v1/hosts/blender/addon.zip`
 * (found from its own folder, `services/bridge/app.ts` → `../../hosts`); caches and tests are left out.
 */
export const BLENDER_ADDON_SOURCES = ["hosts/blender/ferry_blender/", "hosts/python/ferry_host/"] as const;

/**
 * The web view's page script and stylesheet, bundled by `deno task compile` (`scripts/build/web_assets.ts`)
 * before `ferry-web` is built, so that the binary serves them without esbuild (`scripts/bin/ferry_web.ts`).
 */
export const WEB_ASSETS = "dist/web_assets/";

/** Every binary ferry ships, in build order. */
export const BINARIES: readonly BinarySpec[] = [
  {
    name: "ferry",
    summary: "the command line: publish, scan, demo, events, handlers, settings, sync, pipeline",
    entry: "scripts/ferry.ts",
    source: "scripts/ferry.ts",
    include: [PUBLISH_PLUGINS, HASH_WORKER],
    permissions: [NET, READ, WRITE, ENV, {
      flag: "--allow-run",
      why: "publish makes review media with ffmpeg / ffprobe / oiiotool; demo renders frames with ffmpeg",
    }, SYS],
  },
  {
    name: "ferry-tracker",
    summary: "the embedded ftrack-compatible tracker",
    entry: "scripts/bin/ferry_tracker.ts",
    source: "services/tracker/main.ts",
    include: [],
    permissions: [NET, READ, WRITE, ENV, { flag: "--allow-run", why: "encode_media runs ffmpeg and ffprobe" }, SYS],
  },
  {
    name: "ferry-bridge",
    summary: "the local HTTP bridge DCC hosts publish through",
    entry: "scripts/bin/ferry_bridge.ts",
    source: "services/bridge/main.ts",
    include: [PUBLISH_PLUGINS, HASH_WORKER, ...BLENDER_ADDON_SOURCES],
    permissions: [NET, READ, WRITE, ENV, {
      flag: "--allow-run",
      why: "the publish plugins make review media with ffmpeg / ffprobe / oiiotool",
    }, SYS],
  },
  {
    name: "ferry-leecher",
    summary: "stores every tracker event in the pipeline store",
    entry: "scripts/bin/ferry_leecher.ts",
    source: "services/leecher/main.ts",
    include: [],
    permissions: [NET, READ, WRITE, ENV, SYS],
  },
  {
    name: "ferry-processor",
    summary: "runs event handlers on the stored tracker events",
    entry: "scripts/bin/ferry_processor.ts",
    source: "services/processor/main.ts",
    include: [PROCESSOR_HANDLERS],
    permissions: [NET, READ, WRITE, ENV, {
      flag: "--allow-run",
      why: "studio handlers (handler folders and archives) run pipeline tools",
    }, SYS],
  },
  {
    name: "ferry-transmitter",
    summary: "pushes pipeline changes back to the tracker",
    entry: "scripts/bin/ferry_transmitter.ts",
    source: "services/transmitter/main.ts",
    include: [],
    permissions: [NET, READ, WRITE, ENV, SYS],
  },
  {
    name: "ferry-web",
    summary: "the web view: browse publishes, watch the bridge's jobs and the event log",
    entry: "scripts/bin/ferry_web.ts",
    source: "services/web/main.ts",
    include: [WEB_ASSETS],
    permissions: [
      { flag: "--allow-net", why: "serves the page, talks to the tracker, the bridge and the processor" },
      { flag: "--allow-read", why: "reads FERRY_HOME (bridge.json, the embedded tracker), the store and settings" },
      { flag: "--allow-write", why: "writes web.json into FERRY_HOME; opens the SQLite store and embedded tracker" },
      ENV,
      SYS,
    ],
  },
];

/**
 * The binaries named by `--only` values (each may hold several names separated by commas), in
 * {@linkcode BINARIES} order; all of them when none is named. An unknown name is a `RangeError` listing the
 * known ones.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { selectBinaries } from "./binaries.ts";
 *
 * ok(selectBinaries(["ferry-bridge,ferry"]).map((binary) => binary.name).join(" ") === "ferry ferry-bridge");
 * ok(selectBinaries([]).length >= 5);
 * ```
 */
export function selectBinaries(values: readonly string[], binaries: readonly BinarySpec[] = BINARIES): BinarySpec[] {
  const wanted = values.flatMap((value) => value.split(",")).map((value) => value.trim()).filter(Boolean);
  if (wanted.length === 0) return [...binaries];
  for (const value of wanted) {
    if (!binaries.some((binary) => binary.name === value)) {
      throw new RangeError(
        `Unknown binary '${value}': use one of ${binaries.map((binary) => binary.name).join(", ")}`,
      );
    }
  }
  return binaries.filter((binary) => wanted.includes(binary.name));
}
