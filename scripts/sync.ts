/**
 * `deno task sync <project>`: a full sync of a tracker project into the pipeline store, with a
 * report of what changed and what could not be synced.
 *
 * @module
 */
import { z } from "zod";
import { parseFlags, UsageError } from "../src/cli/args.ts";
import { EXIT, exitCodeOf, exitCodesHelp } from "../src/cli/exit_codes.ts";
import { serviceConfig } from "../src/cli/service_config.ts";
import { ferryHome } from "../src/config/ferry_home.ts";
import { openStore } from "../src/store/open_store.ts";
import { autoSyncProjects, fullSync } from "../src/sync/sync_from_tracker.ts";
import type { SyncReport } from "../src/sync/project_sync.ts";
import { syncSettingsOf } from "../src/sync/sync_settings.ts";
import { connectTracker } from "../services/tracker/connect_tracker.ts";

export const USAGE = `Usage: deno task sync <project>… | --auto [--store <where>] [--variant <name>] [--json]

Full sync of tracker projects into the pipeline store: object and task types and statuses
(matched case-insensitively), folders and tasks (created, renamed, moved, removed; a folder with
published products is neither renamed, moved nor removed), mapped attributes with defaults,
statuses and assignees; the pipeline ids and paths are written back to the tracker (ferry_id,
ferry_path). Prints what changed and what could not be synced, with the reason.

The settings are those of the variant for each project ('handlers.sync-from-tracker': attribute
mapping, defaults, id attributes; 'deno task settings show --project <name>').

Options:
  --auto             every active tracker project with auto-sync on (ferry_auto_sync)
  --store <where>    SQLite file or postgres:// URL (default: FERRY_STORE, else $FERRY_HOME/store.db)
  --variant <name>   default: FERRY_VARIANT, else production
  --json             print the reports as JSON
  -h, --help         show this help

The tracker: FTRACK_SERVER / FTRACK_API_USER / FTRACK_API_KEY, else the embedded tracker of $FERRY_HOME/tracker.

${
  exitCodesHelp({
    1: "a project could not be synced (the message says why)",
    3: "the store or the tracker could not be opened",
  })
}`;

const FlagsSchema = z.object({
  store: z.string().min(1).optional(),
  variant: z.string().optional(),
  auto: z.boolean().default(false),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** One report as text. */
export function reportText(report: SyncReport): string {
  const lines = [
    `${report.project}: ${report.created.length} created, ${report.updated.length} updated, ${report.removed.length} removed, ${report.unchanged} unchanged, ${report.skipped.length} skipped, ${report.writtenBack} ids written back (${report.durationMs} ms)`,
  ];
  for (
    const [label, paths] of [["created", report.created], ["updated", report.updated], [
      "removed",
      report.removed,
    ]] as const
  ) {
    for (const path of paths.slice(0, 50)) lines.push(`  ${label} ${path}`);
    if (paths.length > 50) lines.push(`  … and ${paths.length - 50} more ${label}`);
  }
  for (const skipped of report.skipped) lines.push(`  not synced ${skipped.path}: ${skipped.reason}`);
  return lines.join("\n");
}

/** Runs the command; resolves to the exit code. */
export async function main(args: string[], write = (text: string) => console.log(text)): Promise<number> {
  let flags: z.infer<typeof FlagsSchema>;
  let projects: string[];
  let config;
  try {
    ({ flags, positionals: projects } = parseFlags(args, {
      store: { type: "string" },
      variant: { type: "string" },
      auto: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    }, FlagsSchema));
    if (flags.help) {
      write(USAGE);
      return EXIT.OK;
    }
    if (projects.length === 0 && !flags.auto) throw new UsageError("Name a project, or give --auto");
    if (projects.length > 0 && flags.auto) throw new UsageError("Give project names or --auto, not both");
    config = serviceConfig({ variant: flags.variant, store: flags.store, env: Deno.env.toObject(), home: ferryHome() });
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
      return EXIT.USAGE;
    }
    throw error;
  }
  try {
    await using store = await openStore(config.store).catch((error) => {
      throw Object.assign(error, { exitCode: EXIT.ENVIRONMENT });
    });
    await using tracker = await connectTracker();
    if (flags.auto) {
      projects = await autoSyncProjects(tracker.session, syncSettingsOf(await store.getSettings(config.variant)));
    }
    const reports: SyncReport[] = [];
    let failed = 0;
    for (const project of projects) {
      try {
        const settings = syncSettingsOf(await store.getSettings(config.variant, { project }));
        const report = await fullSync({
          session: tracker.session,
          store,
          project,
          settings,
          sender: `sync@${Deno.hostname()}`,
        });
        reports.push(report);
        if (!flags.json) write(reportText(report));
      } catch (error) {
        failed++;
        console.error(`Cannot sync '${project}': ${(error as Error).message}`);
      }
    }
    if (flags.json) write(JSON.stringify(reports, null, 2));
    if (flags.auto && projects.length === 0 && !flags.json) write("No active project has auto-sync on.");
    return failed ? EXIT.FAILED : EXIT.OK;
  } catch (error) {
    console.error((error as Error).message);
    return exitCodeOf(error);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
