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
import { emptyReport, REPORT_SECTIONS, reportSummary, type SyncReport } from "../src/sync/project_sync.ts";
import { mergeUsers } from "../src/sync/sync_from_tracker.ts";
import { syncUsers } from "../src/sync/user_sync.ts";
import { syncSettingsOf } from "../src/sync/sync_settings.ts";
import { connectTracker } from "../services/tracker/connect_tracker.ts";

export const USAGE = `Usage: deno task sync <project>… | --auto | --users [--store <where>] [--variant <name>] [--json]

Full sync of tracker projects into the pipeline store: object and task types and statuses
(matched case-insensitively), folders and tasks (created, renamed, moved, removed; a folder with
published products is neither renamed nor moved, nor removed while products the tracker does not
have hang below it), mapped attributes with defaults,
statuses and assignees; products, versions and representations (assets, asset versions and
components, matched with what ferry's publishes recorded so nothing is duplicated); links
(dependencies); lists; users; notes as comments. The pipeline ids and paths are written back to
the tracker (ferry_id, ferry_path). Prints what changed and what could not be synced, with the
reason.

The settings are those of the variant for each project ('handlers.sync-from-tracker': attribute
mapping, defaults, id attributes, syncVersions, syncLinks and linkType, syncLists, syncUsers;
'deno task settings show --project <name>').

Options:
  --auto             every active tracker project with auto-sync on (ferry_auto_sync)
  --users            only the tracker's users (username, email, names, active), studio-wide
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
  users: z.boolean().default(false),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** One report as text: the counts, then what changed (at most 50 lines a kind), then what was not synced and why. */
export function reportText(report: SyncReport): string {
  const title = report.project === "" ? "users" : report.project;
  const lines = [
    `${title}: ${
      reportSummary(report)
    }; ${report.unchanged} unchanged, ${report.writtenBack} ids written back (${report.durationMs} ms)`,
  ];
  const list = (label: string, items: string[]) => {
    for (const item of items.slice(0, 50)) lines.push(`  ${label} ${item}`);
    if (items.length > 50) lines.push(`  … and ${items.length - 50} more ${label}`);
  };
  list("created", report.created);
  list("updated", report.updated);
  list("removed", report.removed);
  for (const name of REPORT_SECTIONS) {
    const singular = name.replace(/s$/, "");
    list(`${singular} created`, report[name].created);
    list(`${singular} updated`, report[name].updated);
    list(`${singular} removed`, report[name].removed);
  }
  if (report.comments) {
    const { created, updated, removed, skipped } = report.comments;
    lines.push(`  comments: ${created} created, ${updated} updated, ${removed} removed, ${skipped} skipped`);
  }
  for (const skipped of report.skipped) {
    lines.push(
      `  not synced${
        skipped.kind && skipped.kind !== "hierarchy" ? ` (${skipped.kind})` : ""
      } ${skipped.path}: ${skipped.reason}`,
    );
  }
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
      users: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    }, FlagsSchema));
    if (flags.help) {
      write(USAGE);
      return EXIT.OK;
    }
    const ways = [projects.length > 0, flags.auto, flags.users].filter(Boolean).length;
    if (ways === 0) throw new UsageError("Name a project, or give --auto or --users");
    if (ways > 1) throw new UsageError("Give project names, --auto or --users: one of them");
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
    if (flags.users) {
      const report = emptyReport("", "full");
      const users = await syncUsers({ session: tracker.session, store, sender: `sync@${Deno.hostname()}` });
      mergeUsers(report, users);
      report.unchanged = users.unchanged;
      report.durationMs = users.durationMs;
      write(flags.json ? JSON.stringify([report], null, 2) : reportText(report));
      return EXIT.OK;
    }
    if (flags.auto) {
      projects = await autoSyncProjects(tracker.session, syncSettingsOf(await store.getSettings(config.variant)));
    }
    const reports: SyncReport[] = [];
    let failed = 0;
    for (const project of projects) {
      try {
        const projectSettings = await store.getSettings(config.variant, { project });
        const report = await fullSync({
          session: tracker.session,
          store,
          project,
          settings: syncSettingsOf(projectSettings),
          projectSettings,
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
