import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ferryHome } from "../../src/config/ferry_home.ts";
import { serviceConfig } from "../../src/cli/service_config.ts";
import { FERRY_VERSION } from "../bridge/version.ts";
import { connectTracker, type TrackerConnection } from "../tracker/connect_tracker.ts";
import { type BridgeAddress, bridgeOfHome, type FindBridge } from "./bridge_link.ts";
import { type Asset, createWebApp } from "./app.ts";
import { storeAt } from "./event_log.ts";
import { DEFAULT_PROCESSOR_URL } from "./processor_link.ts";
import type { Hono } from "hono";

/** The discovery file of a running web view in FERRY_HOME (url, token, pid; mode 0600). */
export const WEB_FILE = "web.json";

/** Options of {@linkcode startWeb}. */
export interface StartWebOptions {
  /** @default {8072} (0 picks a free port) */
  port?: number;
  /** A loopback address. @default {"127.0.0.1"} */
  hostname?: string;
  /** The environment: FERRY_HOME, FTRACK_*, FERRY_STORE, FERRY_VARIANT. @default {Deno.env.toObject()} */
  env?: Record<string, string | undefined>;
  /** The pipeline store (a SQLite file or a postgres:// URL). @default {FERRY_STORE, else $FERRY_HOME/store.db} */
  store?: string;
  /** A bridge to show instead of the one of FERRY_HOME's `bridge.json`. */
  bridge?: BridgeAddress;
  /** A processor's `/health` and `/metrics`. @default {FERRY_PROCESSOR_URL, else http://127.0.0.1:8075} */
  processorUrl?: string;
  /** Write `web.json` into FERRY_HOME. @default {true} */
  discovery?: boolean;
  /**
   * The page script and stylesheet, already built (a single binary has no esbuild to run).
   * @default {built with esbuild at start, see buildAssets()}
   */
  assets?: Record<string, Asset>;
}

/**
 * The assets bundled with esbuild now (a checkout's `deno task web`). The module is imported by a computed
 * specifier so that it (and esbuild) stay out of the module graph a single binary embeds: `ferry-web` passes
 * the assets `deno task compile` built instead.
 */
async function bundleAssets(): Promise<Record<string, Asset>> {
  const bundler = "./assets.ts";
  const { buildAssets } = await import(bundler) as { buildAssets(): Promise<Record<string, Asset>> };
  return await buildAssets();
}

/** A web view serving its FERRY_HOME. */
export interface RunningWeb extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The address to open once: it carries the token and sets the cookie. */
  loginUrl: string;
  token: string;
  home: string;
  tracker: TrackerConnection;
  /** The Hono app (for `app.request()`). */
  app: Hono;
  close(): Promise<void>;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Starts the web view of a FERRY_HOME on a loopback address: connects to the tracker once
 * (`FTRACK_*`, or the embedded tracker of FERRY_HOME), bundles the page script, serves the pages
 * and writes `web.json` (0600) so that the address can be found again.
 *
 * @example
 * ```ts ignore
 * await using web = await startWeb({ port: 0 });
 * console.log(web.loginUrl);
 * ```
 */
export async function startWeb(options: StartWebOptions = {}): Promise<RunningWeb> {
  const { port = 8072, hostname = "127.0.0.1", env = Deno.env.toObject(), discovery = true } = options;
  const home = ferryHome({
    env,
    platform: Deno.build.os === "windows" ? "win32" : Deno.build.os,
    home: env.HOME ?? env.USERPROFILE ?? ".",
  });
  // The store and variant as the event services resolve them (FERRY_STORE, FERRY_VARIANT).
  const { store: location, variant } = serviceConfig({ store: options.store, env, home });
  const assets = options.assets ?? await bundleAssets();
  const tracker = await connectTracker(env);
  const store = storeAt(location);
  const fixed = options.bridge;
  const findBridge: FindBridge = fixed ? () => Promise.resolve(fixed) : bridgeOfHome(home);
  const token = randomToken();
  const app = createWebApp({
    token,
    version: FERRY_VERSION,
    tracker,
    bridge: findBridge,
    store: store.find,
    home,
    storeLocation: location,
    variant,
    processorUrl: options.processorUrl ?? (env.FERRY_PROCESSOR_URL || DEFAULT_PROCESSOR_URL),
    assets,
  });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ port, hostname, onListen: () => {} }, app.fetch);
  } catch (error) {
    await tracker.close();
    throw error;
  }
  const address = server.addr;
  const url = `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`;
  const file = join(home, WEB_FILE);
  if (discovery) {
    await mkdir(home, { recursive: true });
    const info = { url, token, pid: Deno.pid, version: FERRY_VERSION, startedAt: new Date().toISOString() };
    await writeFile(file, JSON.stringify(info, null, 2), { mode: 0o600 });
    await chmod(file, 0o600).catch(() => {});
  }
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await server.shutdown();
      await store.close();
      await tracker.close();
      if (discovery) {
        // Another view started later on this FERRY_HOME keeps its own web.json.
        const current = await readFile(file, "utf8").then((text) => JSON.parse(text).token, () => undefined);
        if (current === token) await rm(file, { force: true });
      }
    })();
  return {
    url,
    loginUrl: `${url}/?token=${token}`,
    token,
    home,
    tracker,
    app,
    close,
    [Symbol.asyncDispose]: close,
  };
}
