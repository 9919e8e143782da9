/**
 * The single binaries (`deno task compile`). Where a Deno runtime base (denort) is available, each binary is
 * built for this machine and run. Everywhere, each binary's entry runs from a copy of exactly what the binary
 * embeds (its module graph, its `--include` files, its npm packages), under exactly the permissions its
 * compile grants, from another folder, with the checkout denied (`--deny-read`/`--deny-write`).
 */
import { ok } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { availableParallelism } from "node:os";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import config from "../deno.json" with { type: "json" };
import { BINARIES, type BinarySpec, HASH_WORKER, selectBinaries, WEB_ASSETS } from "../scripts/build/binaries.ts";
import { hostTarget, resolveTargets } from "../scripts/build/compile_targets.ts";
import { type EmbeddedFiles, embeddedFiles } from "../scripts/build/embedded_files.ts";
import { stageEmbedded } from "../scripts/build/stage_embedded.ts";
import { writeWebAssets } from "../scripts/build/web_assets.ts";
import { compileArgs, compileBinaries } from "../scripts/compile.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DENO = Deno.execPath();
const AVAILABLE = BINARIES.filter((binary) => {
  try {
    Deno.statSync(join(ROOT, binary.source));
    return true;
  } catch {
    return false;
  }
});
const decoder = new TextDecoder();

let webAssets: Promise<string[]> | undefined;
/** The web view's assets, built into the checkout once (as `deno task compile` does before embedding them). */
function builtWebAssets(): Promise<string[]> {
  return webAssets ??= writeWebAssets({ root: ROOT });
}

/** A temporary folder, removed when disposed. */
async function tempFolder(prefix: string): Promise<{ path: string } & AsyncDisposable> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** How to start one binary: the compiled file, or `deno run` on its staged copy. */
interface Launcher {
  command: string;
  args: string[];
}

/** `deno run` of a staged binary with its compile's permissions, the checkout out of reach. */
function stagedLauncher(binary: BinarySpec, stage: string): Launcher {
  const granted = compileArgs(binary, { target: resolveTargets(["linux-x86_64"])[0]!, output: "x", excludes: [] })
    .filter((arg) => arg.startsWith("--allow-") || arg === "--no-prompt");
  return {
    command: DENO,
    args: [
      "run",
      "--no-lock",
      "--no-remote",
      "--config",
      join(stage, "deno.json"),
      ...granted,
      `--deny-read=${ROOT}`,
      `--deny-write=${ROOT}`,
      join(stage, binary.entry),
    ],
  };
}

/** The environment of a binary: a temporary FERRY_HOME, no tracker site (the embedded tracker serves). */
function binaryEnv(home: string): Record<string, string> {
  return { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? home, FERRY_HOME: home, NO_COLOR: "1" };
}

async function run(launcher: Launcher, args: string[], options: { cwd: string; env: Record<string, string> }) {
  const output = await new Deno.Command(launcher.command, {
    args: [...launcher.args, ...args],
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** A running service: its output lines so far, waited on by predicate; stopped with SIGTERM when disposed. */
class Service implements AsyncDisposable {
  readonly lines: string[] = [];
  readonly #child: Deno.ChildProcess;
  #changed = Promise.withResolvers<void>();
  readonly #reading: Promise<unknown>;
  exitCode: number | undefined;

  constructor(launcher: Launcher, args: string[], options: { cwd: string; env: Record<string, string> }) {
    this.#child = new Deno.Command(launcher.command, {
      args: [...launcher.args, ...args],
      cwd: options.cwd,
      env: options.env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#reading = Promise.all([this.#read(this.#child.stdout), this.#read(this.#child.stderr)]);
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      this.lines.push(...parts);
      this.#changed.resolve();
      this.#changed = Promise.withResolvers<void>();
    }
    if (rest) this.lines.push(rest);
    this.#changed.resolve();
  }

  /** The first output line matching, waiting for it (up to 60 s, or until the process ends). */
  async line(pattern: RegExp): Promise<string> {
    const deadline = AbortSignal.timeout(60_000);
    const ended = this.#child.status.then(() => "ended" as const);
    for (;;) {
      const found = this.lines.find((line) => pattern.test(line));
      if (found !== undefined) return found;
      const why = await Promise.race([
        this.#changed.promise.then(() => "more" as const),
        ended,
        new Promise<"timeout">((resolve) => deadline.addEventListener("abort", () => resolve("timeout"))),
      ]);
      if (why === "more") continue;
      await this.#reading;
      const again = this.lines.find((line) => pattern.test(line));
      if (again !== undefined) return again;
      throw new Error(`No output line matches ${pattern} (${why}); output:\n${this.lines.join("\n")}`);
    }
  }

  /** Stops it with SIGTERM; resolves to its exit code. */
  async stop(): Promise<number> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already ended
    }
    const status = await this.#child.status;
    await this.#reading;
    return this.exitCode = status.code;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.exitCode === undefined) await this.stop();
  }
}

/** Sparse frames big enough (64 MiB in all) that fingerprinting goes to the hash worker threads. */
async function bigFrames(folder: string): Promise<void> {
  for (const frame of [1001, 1002]) {
    const path = join(folder, `plate.${frame}.exr`);
    await writeFile(path, new Uint8Array([frame % 256]));
    await truncate(path, 33 * 1024 * 1024);
  }
}

/** Checks every available binary through a launcher: --version, --help and a real smoke run. */
async function checkBinaries(
  t: Deno.TestContext,
  launch: (binary: BinarySpec) => Launcher,
  work: string,
): Promise<void> {
  const version = new RegExp(
    `^ferry(-\\w+)? ${config.version.replaceAll(".", "\\.")} \\(deno ${Deno.version.deno.replaceAll(".", "\\.")}, ${
      Deno.build.target.replaceAll(".", "\\.")
    }\\)$`,
  );
  await t.step(`${AVAILABLE.map((binary) => binary.name).join(", ")} answer --version and --help`, async () => {
    await using home = await tempFolder("ferry-compile-home-");
    const options = { cwd: work, env: binaryEnv(home.path) };
    await Promise.all(AVAILABLE.map(async (binary) => {
      const [shown, help] = await Promise.all([
        run(launch(binary), ["--version"], options),
        run(launch(binary), ["--help"], options),
      ]);
      ok(shown.code === 0, shown.stderr);
      ok(version.test(shown.stdout.trim()), `--version printed '${shown.stdout.trim()}'`);
      ok(shown.stdout.startsWith(`${binary.name} `), shown.stdout);
      ok(help.code === 0, help.stderr);
      ok(new RegExp(`Usage:\\s+${binary.name} `).test(help.stdout), help.stdout);
      ok(!/deno task (tracker|bridge|leecher|processor) /.test(help.stdout.split("\n")[0]!), help.stdout);
    }));
  });
  const ferry = AVAILABLE.find((binary) => binary.name === "ferry");
  if (ferry) {
    await t.step("ferry scan fingerprints a folder (hash worker threads), subcommands answer --help", async () => {
      await using home = await tempFolder("ferry-compile-home-");
      await using frames = await tempFolder("ferry-compile-frames-");
      await bigFrames(frames.path);
      const options = { cwd: work, env: binaryEnv(home.path) };
      const scanned = await run(launch(ferry), ["scan", "--fingerprint", "--json", frames.path], options);
      ok(scanned.code === 0, scanned.stderr);
      const listing = JSON.stringify(JSON.parse(scanned.stdout));
      ok(listing.includes("1001") && listing.includes("1002") && /[0-9a-f]{40}/.test(listing), listing);
      for (const command of ["publish", "scan", "demo", "events", "handlers"]) {
        const help = await run(launch(ferry), [command, "--help"], options);
        ok(help.code === 0 && help.stdout.includes(`ferry ${command}`), `${command}: ${help.stdout}${help.stderr}`);
      }
      const unknown = await run(launch(ferry), ["no-such-command"], options);
      ok(unknown.code === 2 && unknown.stderr.includes("'no-such-command'"), unknown.stderr);
    });
    await t.step("ferry publish --dry-run runs ferry's own plugins against the embedded tracker", async () => {
      await using home = await tempFolder("ferry-compile-home-");
      await using frames = await tempFolder("ferry-compile-frames-");
      await writeFile(join(frames.path, "notes.txt"), "notes");
      const options = { cwd: frames.path, env: binaryEnv(home.path) };
      const published = await run(
        launch(ferry),
        ["publish", "notes.txt", "--context", "nowhere/sq010/sh010", "--task", "lighting", "--dry-run"],
        options,
      );
      // No such project: validation fails (exit 1), after the built-in collectors ran from the binary.
      ok(published.code === 1, `exit ${published.code}: ${published.stderr}`);
      ok(published.stderr.includes("Collect files and sequences"), published.stderr);
      ok(published.stderr.includes("nowhere"), published.stderr);
    });
  }
  const tracker = AVAILABLE.find((binary) => binary.name === "ferry-tracker");
  if (tracker) {
    await t.step("ferry-tracker starts on a free port and answers /api", async () => {
      await using home = await tempFolder("ferry-compile-home-");
      await using service = new Service(
        launch(tracker),
        ["--port", "0", "--data", join(home.path, "tracker")],
        { cwd: work, env: binaryEnv(home.path) },
      );
      const server = (await service.line(/FTRACK_SERVER=/)).split("=")[1]!.trim();
      const user = (await service.line(/FTRACK_API_USER=/)).split("=")[1]!.trim();
      const key = (await service.line(/FTRACK_API_KEY=/)).split("=")[1]!.trim();
      const response = await fetch(`${server}/api`, {
        method: "POST",
        headers: { "content-type": "application/json", "ftrack-user": user, "ftrack-api-key": key },
        body: JSON.stringify([{ action: "query_server_information" }]),
      });
      const body = await response.json() as Array<Record<string, unknown>>;
      ok(response.status === 200 && Array.isArray(body) && body.length === 1, JSON.stringify(body));
      ok(await service.stop() === 0, service.lines.join("\n"));
    });
  }
  const bridge = AVAILABLE.find((binary) => binary.name === "ferry-bridge");
  if (bridge) {
    await t.step("ferry-bridge starts and lists ferry's own publish plugins", async () => {
      await using home = await tempFolder("ferry-compile-home-");
      await using service = new Service(launch(bridge), ["--port", "0"], { cwd: work, env: binaryEnv(home.path) });
      await service.line(/^http:\/\/127\.0\.0\.1:\d+$/);
      const info = JSON.parse(await readFile(join(home.path, "bridge.json"), "utf8")) as { url: string; token: string };
      const response = await fetch(`${info.url}/v1/plugins?host=shell`, {
        headers: { authorization: `Bearer ${info.token}` },
      });
      const { plugins } = await response.json() as { plugins: Array<{ name: string }> };
      const names = plugins.map((plugin) => plugin.name);
      ok(names.includes("CollectFiles") && names.length >= 5, names.join(", "));
      const addon = await fetch(`${info.url}/v1/hosts/blender/addon.zip`, {
        headers: { authorization: `Bearer ${info.token}` },
      });
      const zipped = new Uint8Array(await addon.arrayBuffer());
      ok(addon.status === 200 && zipped[0] === 0x50 && zipped[1] === 0x4b, `addon.zip: ${addon.status}`);
      ok(await service.stop() === 0, service.lines.join("\n"));
    });
  }
  const leecher = AVAILABLE.find((binary) => binary.name === "ferry-leecher");
  if (leecher) {
    await t.step("ferry-leecher connects to the (embedded) tracker's event hub and stops on SIGTERM", async () => {
      await using home = await tempFolder("ferry-compile-home-");
      await using service = new Service(launch(leecher), [], { cwd: work, env: binaryEnv(home.path) });
      await service.line(/connected to the event hub/);
      ok(await service.stop() === 0, service.lines.join("\n"));
    });
  }
  const web = AVAILABLE.find((binary) => binary.name === "ferry-web");
  if (web) {
    await t.step("ferry-web serves a page and the page script the compile step built, without esbuild", async () => {
      await using home = await tempFolder("ferry-compile-home-");
      await using service = new Service(launch(web), ["--port", "0"], { cwd: work, env: binaryEnv(home.path) });
      const login = new URL(await service.line(/^http:\/\/127\.0\.0\.1:\d+\/.*token=/));
      const headers = { authorization: `Bearer ${login.searchParams.get("token")}` };
      const page = await fetch(new URL("/", login), { headers });
      const html = await page.text();
      ok(page.status === 200 && html.includes("/assets/style.css"), `GET /: ${page.status} ${html.slice(0, 300)}`);
      for (const name of ["app.js", "style.css"]) {
        const asset = await fetch(new URL(`/assets/${name}`, login), { headers });
        const served = new Uint8Array(await asset.arrayBuffer());
        const built = await readFile(join(ROOT, WEB_ASSETS, name));
        ok(asset.status === 200 && served.length > 500, `GET /assets/${name}: ${asset.status}, ${served.length} bytes`);
        ok(Buffer.compare(Buffer.from(served), built) === 0, `${name} differs from the one the compile step built`);
      }
      ok(!service.lines.some((line) => /esbuild/i.test(line)), service.lines.join("\n"));
      ok(await service.stop() === 0, service.lines.join("\n"));
    });
  }
  const processor = AVAILABLE.find((binary) => binary.name === "ferry-processor");
  if (processor) {
    await t.step("ferry-processor loads ferry's own handlers and serves /health", async () => {
      await using home = await tempFolder("ferry-compile-home-");
      await using service = new Service(launch(processor), ["--port", "0"], {
        cwd: work,
        env: binaryEnv(home.path),
      });
      const url = /url=(\S+)/.exec(await service.line(/health and metrics url=/))![1]!;
      const health = await (await fetch(`${url}/health`)).json() as { handlers: string[]; version: string };
      ok(health.handlers.includes("reconcile-on-leecher-start"), JSON.stringify(health));
      ok(health.version === config.version, JSON.stringify(health));
      ok(await service.stop() === 0, service.lines.join("\n"));
    });
  }
}

Deno.test("compileArgs() grants each binary its listed permissions, never --allow-all, and includes what it loads at run time", () => {
  for (const binary of BINARIES) {
    const args = compileArgs(binary, { target: resolveTargets(["windows-x86_64"])[0]!, output: "o.exe", excludes: [] });
    ok(!args.includes("--allow-all") && !args.includes("-A"), binary.name);
    ok(!args.some((arg) => /^--allow-(ffi|import)/.test(arg)), binary.name);
    ok(args.at(-1) === binary.entry && args.includes("x86_64-pc-windows-msvc"), args.join(" "));
    for (const include of binary.include) ok(args.join(" ").includes(`--include ${include}`), include);
  }
  const leecher = selectBinaries(["ferry-leecher"])[0]!;
  ok(!compileArgs(leecher, { target: resolveTargets([])[0]!, output: "o", excludes: [] }).includes("--allow-run"));
  for (const name of ["ferry", "ferry-bridge"]) ok(selectBinaries([name])[0]!.include.includes(HASH_WORKER), name);
});

Deno.test("resolveTargets() and selectBinaries() name the value they do not know and the known ones", () => {
  try {
    resolveTargets(["linux-riscv"]);
    ok(false, "no error");
  } catch (error) {
    ok(error instanceof RangeError && error.message.includes("'linux-riscv'") && error.message.includes("macos-arm64"));
  }
  try {
    selectBinaries(["ferry-nope"]);
    ok(false, "no error");
  } catch (error) {
    ok(
      error instanceof RangeError && error.message.includes("'ferry-nope'") && error.message.includes("ferry-tracker"),
    );
  }
});

Deno.test("embeddedFiles() holds the entry graph, the includes and the runtime npm packages, not tests or dev tools", async () => {
  const bridge = selectBinaries(["ferry-bridge"])[0]!;
  const embedded = await embeddedFiles(bridge, { root: ROOT });
  for (const file of [bridge.entry, bridge.source, HASH_WORKER, "plugins/integrate_version.ts", "deno.json"]) {
    ok(embedded.files.includes(file), file);
  }
  ok(embedded.files.includes("publish/discover.ts") && embedded.files.includes("src/fingerprint/hash_pool.ts"));
  ok(embedded.files.includes("hosts/blender/ferry_blender/__init__.py"), "the Blender add-on");
  ok(embedded.files.includes("hosts/python/ferry_host/client.py"), "the Python client the add-on vendors");
  ok(!embedded.files.some((file) => file.includes("__pycache__")), "no Python caches");
  ok(!embedded.files.some((file) => file.startsWith("tests/") || /_test\.ts$/.test(file)), "no tests");
  for (const name of ["hono", "zod", "@ftrack/api"]) ok(embedded.packages.includes(`node_modules/${name}`), name);
  for (const name of ["deno", "typescript", "esbuild", ".bin"]) {
    ok(embedded.excludes.includes(`node_modules/${name}`), name);
  }
});

Deno.test("embeddedFiles() of ferry-web holds the prebuilt page script and stylesheet, and neither esbuild nor its bundler", async () => {
  const web = selectBinaries(["ferry-web"])[0]!;
  const written = await builtWebAssets();
  ok(written.join(" ") === `${WEB_ASSETS}app.js ${WEB_ASSETS}style.css`, written.join(" "));
  const embedded = await embeddedFiles(web, { root: ROOT });
  for (const file of [...written, web.entry, web.source, "services/web/prebuilt_assets.ts"]) {
    ok(embedded.files.includes(file), file);
  }
  ok(!embedded.files.includes("services/web/assets.ts"), "the esbuild bundler is in ferry-web's module graph");
  ok(!embedded.packages.some((name) => name.includes("esbuild")), embedded.packages.join(" "));
  ok(embedded.excludes.includes("node_modules/esbuild"), embedded.excludes.join(" "));
  ok(!web.permissions.some((permission) => permission.flag === "--allow-run"), "ferry-web runs no programs");
});

/**
 * The files and folders modules find next to themselves at run time, which `deno compile` cannot see:
 * `new URL("…", import.meta.url)`, `join(import.meta.dirname, "…")`, `join(dirname(fileURLToPath(import.meta.url)), "…")`.
 * Paths relative to the checkout; `${…}` in a template stands for any text.
 */
function runtimeReferences(module: string, source: string): string[] {
  const found: string[] = [];
  const folder = module.split("/").slice(0, -1).join("/");
  const resolvePath = (parts: string[]) => posix.normalize(posix.join(folder, ...parts)).replace(/\/$/, "");
  for (const match of source.matchAll(/new URL\(\s*[`"']([^`"']+)[`"'],\s*import\.meta\.url\s*\)/g)) {
    found.push(resolvePath([match[1]!.replace(/\$\{[^}]*\}/g, "*")]));
  }
  const joined = /(?:import\.meta\.dirname!?|dirname\(fileURLToPath\(import\.meta\.url\)\)),\s*((?:"[^"]*",?\s*)+)\)/g;
  for (const match of source.matchAll(joined)) {
    found.push(resolvePath([...match[1]!.matchAll(/"([^"]*)"/g)].map((part) => part[1]!)));
  }
  return found;
}

Deno.test("embeddedFiles() holds everything a binary's modules find next to themselves at run time", async () => {
  await builtWebAssets();
  for (const binary of AVAILABLE) {
    const embedded = await embeddedFiles(binary, { root: ROOT });
    for (const module of embedded.files.filter((file) => /\.[cm]?[jt]s$/.test(file))) {
      const source = await readFile(join(ROOT, module), "utf8");
      for (const reference of runtimeReferences(module, source)) {
        if (reference === "." || reference.startsWith("..")) continue; // the checkout itself: build scripts only
        const pattern = new RegExp(`^${reference.replace(/[.+?^$()|[\]\\]/g, "\\$&").replaceAll("*", "[^/]*")}(/|$)`);
        ok(
          embedded.files.some((file) => pattern.test(file)),
          `${binary.name}: ${module} loads '${reference}' at run time, which it does not embed (add it to include)`,
        );
      }
    }
  }
});

Deno.test({
  name:
    "compile: every binary's entry runs from exactly what it embeds, with its compile's permissions, the checkout out of reach",
  sanitizeResources: false,
  async fn(t) {
    await using stages = await tempFolder("ferry-compile-stage-");
    await using work = await tempFolder("ferry-compile-work-");
    const embedded: Record<string, EmbeddedFiles> = {};
    await builtWebAssets();
    for (const binary of AVAILABLE) {
      embedded[binary.name] = await embeddedFiles(binary, { root: ROOT });
      stageEmbedded(embedded[binary.name]!, { root: ROOT, out: join(stages.path, binary.name) });
    }
    const launch = (binary: BinarySpec) => stagedLauncher(binary, join(stages.path, binary.name));
    const ferry = AVAILABLE.find((binary) => binary.name === "ferry");
    if (ferry) {
      await t.step("the checkout is out of reach of a staged binary", async () => {
        await using home = await tempFolder("ferry-compile-home-");
        const denied = await run(launch(ferry), ["scan", join(ROOT, "deno.json")], {
          cwd: work.path,
          env: binaryEnv(home.path),
        });
        // The file exists, but the binary cannot see it.
        ok(denied.code === 1 && /does not exist|NotCapable|denied/i.test(denied.stderr), denied.stderr);
      });
      if (availableParallelism() > 1) {
        await t.step("without the hash worker in its include list, ferry cannot fingerprint on threads", async () => {
          await using home = await tempFolder("ferry-compile-home-");
          await using frames = await tempFolder("ferry-compile-frames-");
          await bigFrames(frames.path);
          const lacking = join(stages.path, "ferry-without-worker");
          const files = embedded.ferry!.files.filter((file) => file !== HASH_WORKER);
          stageEmbedded({ ...embedded.ferry!, files }, { root: ROOT, out: lacking });
          const failed = await run(stagedLauncher(ferry, lacking), ["scan", "--fingerprint", frames.path], {
            cwd: work.path,
            env: binaryEnv(home.path),
          });
          ok(failed.code !== 0 && failed.stderr.includes("_hash_worker"), `exit ${failed.code}: ${failed.stderr}`);
        });
      }
    }
    await checkBinaries(t, launch, work.path);
  },
});

Deno.test({
  name:
    "compile: a missing runtime base is one line naming DENORT_BIN; where a base exists, the real binaries are built and run",
  sanitizeResources: false,
  async fn(t) {
    const host = hostTarget(Deno.build.target);
    if (host === undefined) {
      console.warn(`\n*** SKIPPED: deno compile has no runtime base for this machine (${Deno.build.target}) ***\n`);
      return;
    }
    // A small binary: probes the base without compiling all of ferry.
    const probe: BinarySpec = {
      name: "ferry-probe",
      summary: "probe",
      entry: "tests/_compile_probe.ts",
      source: "tests/_compile_probe.ts",
      include: [],
      permissions: [],
    };
    await using out = await tempFolder("ferry-compile-out-");
    const env = Deno.env.toObject();
    await t.step("a DENORT_BIN that does not exist is reported in one line naming it", async () => {
      const outcome = await compileBinaries({
        targets: [host],
        binaries: [probe],
        out: out.path,
        env: { ...env, DENORT_BIN: join(out.path, "no-such-denort") },
        check: false,
        log: () => {},
      });
      ok(outcome.built.length === 0 && outcome.missingBase.length === 1, JSON.stringify(outcome));
      const problem = outcome.missingBase[0]!.problem;
      ok(!problem.includes("\n") && problem.includes(`DENORT_BIN='${join(out.path, "no-such-denort")}'`), problem);
    });
    await t.step("a DENORT_BIN that is not a runtime base (the deno CLI) is caught by running the binary", async () => {
      const outcome = await compileBinaries({
        targets: [host],
        binaries: [probe],
        out: out.path,
        env: { ...env, DENORT_BIN: DENO },
        check: false,
        log: () => {},
      });
      ok(outcome.built.length === 0 && outcome.missingBase.length === 1, JSON.stringify(outcome));
      const problem = outcome.missingBase[0]!.problem;
      ok(!problem.includes("\n") && problem.includes(`DENORT_BIN='${DENO}' is not a denort runtime base`), problem);
    });
    const outcome = await compileBinaries({
      targets: [host],
      binaries: [probe],
      out: out.path,
      env,
      check: false,
      log: () => {},
    });
    if (outcome.missingBase.length > 0) {
      const problem = outcome.missingBase[0]!.problem;
      ok(!problem.includes("\n") && problem.includes("DENORT_BIN"), problem);
      console.warn(
        `\n*** SKIPPED: building and running the real binaries: ${problem} ***\n` +
          `*** (each binary's entry ran from its embedded files instead: see the test above) ***\n`,
      );
      return;
    }
    await using work = await tempFolder("ferry-compile-work-");
    const built = await compileBinaries({
      targets: [host],
      binaries: AVAILABLE,
      out: out.path,
      env,
      check: false,
      log: () => {},
    });
    ok(built.built.length === AVAILABLE.length, JSON.stringify(built));
    const paths = Object.fromEntries(built.built.map((entry) => [entry.binary, entry.path]));
    await checkBinaries(t, (binary) => ({ command: paths[binary.name]!, args: [] }), work.path);
  },
});

Deno.test("compile main(): --dry-run prints each deno compile command; unknown targets and binaries are usage errors", async () => {
  const dry = await new Deno.Command(DENO, {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      "scripts/compile.ts",
      "--dry-run",
      "--target",
      "macos-arm64",
      "--only",
      "ferry-tracker,ferry-processor",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const printed = decoder.decode(dry.stderr);
  ok(dry.code === 0, printed);
  const commands = printed.split("\n").filter((line) => line.includes(" compile --no-check --no-prompt "));
  ok(commands.length === 2, printed);
  ok(commands[0]!.includes("--target aarch64-apple-darwin") && commands[0]!.endsWith("scripts/bin/ferry_tracker.ts"));
  ok(
    commands[1]!.includes("--include services/processor/handlers/") &&
      commands[1]!.includes("--exclude node_modules/deno "),
  );
  for (const args of [["--target", "solaris"], ["--only", "ferry-nope"], ["extra"]]) {
    const bad = await new Deno.Command(DENO, {
      args: ["run", "--allow-read", "--allow-write", "--allow-run", "--allow-env", "scripts/compile.ts", ...args],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    ok(bad.code === 2 && decoder.decode(bad.stderr).includes(`'${args.at(-1)}'`), decoder.decode(bad.stderr));
  }
});
