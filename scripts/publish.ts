/**
 * `deno task publish`: publishes files and image sequences to the tracker from a shell or a farm job.
 *
 * @module
 */
import { constants } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import { ferryHome } from "../src/config/ferry_home.ts";
import { isPattern, patternToRegExp } from "../src/files/expand_paths.ts";
import { formatBytes } from "../src/units/format_bytes.ts";
import { discover } from "../publish/discover.ts";
import { parsePublishRequest, PublishRequestError } from "../publish/request.ts";
import { runPublish } from "../publish/run_publish.ts";
import { parsePublishSettings } from "../publish/settings.ts";
import type { Result } from "../publish/run.ts";
import { parseFlags, UsageError } from "../src/cli/args.ts";
import { EXIT, exitCodeOf, exitCodesHelp } from "../src/cli/exit_codes.ts";
import { ConfigurationError } from "../src/config/configuration_error.ts";
import { DEFAULT_TRACKER_TIMEOUT_SECONDS, trackerTimeout } from "../src/config/tracker_timeout.ts";
import { connectTracker } from "../services/tracker/connect_tracker.ts";
import { Progress } from "./cli/progress.ts";

export const USAGE = `Usage: deno task publish <paths or patterns>... --context <project/…/shot> --task <task> [options]

Publishes files and image sequences as a new version of an asset: components uploaded and
fingerprinted, a thumbnail and a review movie (with ffmpeg), a note, a task status and an event.
Uses the ftrack site of FTRACK_SERVER / FTRACK_API_USER / FTRACK_API_KEY, or the embedded tracker
in $FERRY_HOME/tracker when they are not set.

  deno task publish renders/sh010/beauty.####.exr --context demo/sq010/sh010 --task lighting --comment "first light"

Options:
  --context <path>          project/…/shot (names, as in the tracker)          (required)
  --task <name>             the task under that context                          (required)
  --asset <name>            asset name (default: from the first file, e.g. 'beauty')
  --family <name>           family (default: render for sequences, image, movie or upload by file type)
  --families <a,b>          more families (e.g. review)
  --comment <text>          version comment and note
  --frames <first-last>     expected frame range (validated; default: what is on disk)
  --location <where>        server (upload, default) | disk:<root> (copy into a structure) | unmanaged
  --user <name>             publish as this tracker user (default: the API user)
  --plugins <dir>           also load plugins from this folder (repeatable; FERRY_PLUGIN_PATH works too)
  --settings <file.json>    publish settings (naming rule, task status, structure, upload concurrency)
  --report <file.json>      where to write the report (default: $FERRY_HOME/reports/publish-<time>.json)
  --timeout <seconds>       how long the tracker may take to answer a call, and an upload may go
                            without progress (default: FERRY_TRACKER_TIMEOUT, else ${DEFAULT_TRACKER_TIMEOUT_SECONDS})
  --dry-run                 collect and validate only
  --json                    print the report as JSON on stdout
  -h, --help                show this help

A publish that was stopped (killed, crashed, lost its connection) is resumed by running the same
command again: on this machine at once, from another machine once its heartbeat is 20 s old.

${
  exitCodesHelp({
    [EXIT.OK]: "published (or, with --dry-run, valid); also when the report could not be written or a plugin\n" +
      "     after publication failed (a WARNING says so: do not publish it again)",
    [EXIT.FAILED]:
      "validation or integration failed: not published (the report says where and why; running it again resumes)",
    [EXIT.USAGE]: "usage error: bad flags or patterns, an unusable --settings file or --report path; nothing was done",
    [EXIT.ENVIRONMENT]:
      "configuration or connection problem: FTRACK_* variables, FERRY_HOME, credentials, the tracker unreachable,\n     not an ftrack server, or silent for longer than --timeout; not published (fix it, then run it again)",
  })
}`;

const FlagsSchema = z.object({
  context: z.string().min(1).optional(),
  task: z.string().min(1).optional(),
  asset: z.string().min(1).optional(),
  family: z.string().min(1).optional(),
  families: z.string().optional(),
  comment: z.string().default(""),
  frames: z.string().regex(/^-?\d+-\d+$/, "must be like 1001-1100").optional(),
  location: z.string().regex(/^(server|unmanaged|disk:.+)$/, "must be server, unmanaged or disk:<root>").default(
    "server",
  ),
  user: z.string().min(1).optional(),
  plugins: z.array(z.string().min(1)).default([]),
  settings: z.string().min(1).optional(),
  report: z.string().min(1).optional(),
  timeout: z.coerce.number({ error: "must be a number of seconds" }).positive("must be above 0").max(86_400).optional(),
  "dry-run": z.boolean().default(false),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});

const IMAGE = /\.(exr|dpx|png|jpe?g|tiff?|tga|bmp|webp)$/i;
const MOVIE = /\.(mov|mp4|mkv|avi|webm|mxf)$/i;

/** The asset name a path suggests: `renders/beauty.####.exr` → `beauty`, `comp_v003.mov` → `comp`. */
export function assetFromPath(path: string): string {
  const name = basename(path)
    .replace(/\.[A-Za-z0-9]+$/, "")
    .replace(/[._-]?(#+|%0?\d*d|\$F\d?|\*|\d+)$/, "")
    .replace(/[._-]?v\d+$/i, "")
    .replace(/[._-]+$/, "");
  return name || "main";
}

/** The family a path suggests. */
export function familyFromPath(path: string, isFolder: boolean): string {
  if (isFolder || isPattern(path)) return "render";
  if (IMAGE.test(path)) return "image";
  if (MOVIE.test(path)) return "movie";
  return "upload";
}

/**
 * Checks before publishing that the report can be written: its folder exists (or is made) and is
 * writable, and the file, when it exists, is a writable file. A bad `--report` is a usage error; a
 * bad default place (under `FERRY_HOME`) a configuration error.
 */
async function checkReportPath(
  path: string,
  options: { given: boolean; setting: string; value: string },
): Promise<void> {
  const fail = (reason: string, cause?: unknown) =>
    options.given
      ? new UsageError(`--report '${path}': ${reason}`)
      : new ConfigurationError(options.setting, options.value, `reports cannot be written there: ${reason}`, { cause });
  const code = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) throw fail("it is a folder; give a file name");
  await mkdir(dirname(path), { recursive: true }).catch((error) => {
    throw fail(`its folder '${dirname(path)}' cannot be made (${code(error)})`, error);
  });
  await access(info ? path : dirname(path), constants.W_OK).catch((error) => {
    throw fail(`${info ? "the file" : `its folder '${dirname(path)}'`} is not writable (${code(error)})`, error);
  });
}

/** Runs the command; returns the exit code (see {@linkcode EXIT}). */
export async function main(args: string[]): Promise<number> {
  try {
    return await publishCommand(args);
  } catch (error) {
    const code = exitCodeOf(error);
    if (error instanceof UsageError) {
      console.error(`publish: ${error.message}\n\nRun 'deno task publish --help' for the options.`);
    } else {
      console.error(`publish: ${(error as Error)?.message ?? String(error)}`);
      if (code === EXIT.FAILED && Deno.env.get("FERRY_DEBUG")) console.error((error as Error)?.stack);
    }
    return code;
  }
}

async function publishCommand(args: string[]): Promise<number> {
  let flags: z.infer<typeof FlagsSchema>;
  let paths: string[];
  try {
    const parsed = parseFlags(args, {
      context: { type: "string" },
      task: { type: "string" },
      asset: { type: "string" },
      family: { type: "string" },
      families: { type: "string" },
      comment: { type: "string" },
      frames: { type: "string" },
      location: { type: "string" },
      user: { type: "string" },
      plugins: { type: "string", multiple: true },
      settings: { type: "string" },
      report: { type: "string" },
      timeout: { type: "string" },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    }, FlagsSchema);
    flags = parsed.flags;
    paths = parsed.positionals;
    if (flags.help) {
      console.log(USAGE);
      return EXIT.OK;
    }
    if (paths.length === 0) throw new UsageError("Give at least one file, folder or pattern to publish.");
    for (const path of paths) if (isPattern(path)) patternToRegExp(basename(path));
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`publish: ${error.message}\n\n${USAGE}`);
      return EXIT.USAGE;
    }
    throw error;
  }

  const first = paths[0]!;
  const isFolder = await Deno.stat(first).then((info) => info.isDirectory).catch(() => false);
  const [frameStart, frameEnd] = flags.frames ? flags.frames.split(/(?<=\d)-/).map(Number) : [undefined, undefined];
  let request;
  try {
    request = parsePublishRequest({
      host: "shell",
      context: { path: flags.context ?? "", task: flags.task ?? "" },
      instances: [{
        family: flags.family ?? familyFromPath(first, isFolder),
        families: flags.families ? flags.families.split(",").map((family) => family.trim()).filter(Boolean) : [],
        name: flags.asset ?? assetFromPath(isFolder ? resolve(first) : first),
        files: paths,
        frameStart,
        frameEnd,
      }],
      comment: flags.comment,
      user: flags.user,
      location: flags.location.startsWith("disk:") ? { disk: resolve(flags.location.slice(5)) } : flags.location,
      cwd: Deno.cwd(),
    });
  } catch (error) {
    if (error instanceof PublishRequestError) {
      console.error(`publish: ${error.message}\n\nRun 'deno task publish --help' for the options.`);
      return EXIT.USAGE;
    }
    throw error;
  }
  let settings;
  try {
    settings = parsePublishSettings(flags.settings ? JSON.parse(await Deno.readTextFile(flags.settings)) : {});
  } catch (error) {
    console.error(`publish: cannot use settings '${flags.settings}': ${(error as Error).message}`);
    return EXIT.USAGE;
  }

  // Where the report goes, checked before anything is published.
  const env = Deno.env.toObject();
  const timeout = trackerTimeout({ env, flag: flags.timeout });
  const home = ferryHome();
  const started = new Date().toISOString();
  const reportPath = flags.report
    ? resolve(flags.report)
    : join(home, "reports", `publish-${started.replaceAll(":", "-")}.json`);
  await checkReportPath(reportPath, {
    given: flags.report !== undefined,
    ...(env.FERRY_HOME
      ? { setting: "FERRY_HOME", value: env.FERRY_HOME }
      : { setting: "ferry's data folder", value: home }),
  });

  const builtIn = join(import.meta.dirname!, "..", "plugins"); // an OS path on Windows too (compiled binaries)
  const { plugins, skipped } = await discover({ registeredPaths: [builtIn, ...flags.plugins], hosts: ["shell"] });
  for (const problem of skipped) console.error(`publish: skipped plugin file '${problem.path}': ${problem.reason}`);

  await using tracker = await connectTracker(env, { timeout });
  const where = tracker.kind === "site"
    ? tracker.credentials.server
    : `the embedded tracker (${tracker.credentials.server})`;
  console.error(`publishing to ${where}`);
  const bytes = new Progress({ label: "hashing + transferring" });
  let expected = 0;
  let done = 0;
  const symbols = Deno.env.get("NO_COLOR") || !Deno.stderr.isTerminal()
    ? { ok: "ok  ", failed: "FAIL" }
    : { ok: "\x1b[32m✔\x1b[0m", failed: "\x1b[31m✘\x1b[0m" };
  const describe = (result: Result) => {
    const subject = result.instance ? ` ${result.instance.name}` : "";
    const warnings = result.records.filter((record) => record.level === "warning").map((record) =>
      ` (warning: ${record.message})`
    ).join("");
    const why = result.error ? `: ${result.error.message}` : "";
    return `${result.success ? symbols.ok : symbols.failed} ${result.plugin.label ?? result.plugin.name}${subject} (${
      result.duration.toFixed(0)
    } ms)${why}${warnings}`;
  };
  const outcome = await runPublish({
    request,
    session: tracker.session,
    plugins,
    settings,
    dryRun: flags["dry-run"],
    progress: {
      expect: (n) => {
        expected += n;
        bytes.update(done, expected);
      },
      done: (n) => {
        done += n;
        bytes.update(done, expected);
      },
    },
    events: {
      pluginProcessed: (result) => bytes.line(describe(result)),
      stopped: (reason) => bytes.line(`stopped: ${reason}`),
    },
  });
  if (expected > 0) bytes.finish();
  const { report } = outcome;
  const published = (report.created as Array<{ versionId?: string }>).filter((created) => created.versionId);
  const allPublished = !flags["dry-run"] && published.length > 0 && published.length === report.created.length;
  // The report is written whatever happened; failing to write it never hides a published version.
  let reportWritten = true;
  try {
    await Deno.writeTextFile(reportPath, JSON.stringify(report, null, 2));
  } catch (error) {
    reportWritten = false;
    console.error(
      `\npublish: WARNING: the report could not be written to '${reportPath}': ${(error as Error).message}${
        allPublished ? " (the version IS published: do not publish it again)" : ""
      }`,
    );
  }
  if (flags.json) console.log(JSON.stringify(report, null, 2));
  if (!report.ok && allPublished) {
    // Published, then a later step (a studio plugin after integration) failed: the version exists,
    // so the exit code says published and the failure is a loud warning.
    for (const failure of report.results.filter((result) => !result.success)) {
      console.error(
        `\npublish: WARNING: the version IS published, but '${failure.plugin}' failed after it: ${failure.error?.message}`,
      );
    }
  }
  if (!report.ok && !allPublished) {
    const failures = report.results.filter((result) => !result.success);
    const reasons = [
      ...new Set(
        failures.map((failure) =>
          (failure.error?.message ?? "").replace(/^The tracker context was not resolved: /, "")
        ),
      ),
    ];
    const where = failures.map((failure) => failure.plugin).join(", ") || report.stopped;
    console.error(`\nnot published (${where}):\n  ${reasons.join("\n  ")}`);
    if (reportWritten) console.error(`report: ${reportPath}`);
    const connection = failures.some((failure) => failure.error?.name === "TrackerConnectionError");
    return connection ? EXIT.ENVIRONMENT : EXIT.FAILED;
  }
  for (
    const created of report.created as Array<
      { instance: string; version?: number; versionId?: string; components?: unknown[] }
    >
  ) {
    if (flags["dry-run"]) {
      console.error(
        `\ndry run: '${created.instance}' would be published to ${request.context.path} (${request.context.task})`,
      );
      continue;
    }
    const files = (report.files.find((entry) =>
      (entry as { instance: string }).instance === created.instance
    ) as { files: Array<{ size: number }> } | undefined)?.files ?? [];
    const size = files.reduce((sum, file) =>
      sum + file.size, 0);
    console.error(
      `\npublished ${request.context.path} ${created.instance} v${
        String(created.version).padStart(3, "0")
      } (${created.versionId}): ${files.length} file(s), ${formatBytes(size)}${
        (created as { resumed?: boolean }).resumed ? " (resumed)" : ""
      }`,
    );
  }
  if (reportWritten) console.error(`report: ${reportPath}`);
  return EXIT.OK;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
