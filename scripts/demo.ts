/**
 * `deno task demo`: ferry's main job on a fresh machine. Makes a demo project (sequence sq010,
 * shot sh010, tasks) on the tracker (the embedded one unless FTRACK_SERVER is set), renders a
 * 48-frame image sequence (ffmpeg's test pattern when installed, generated PNGs otherwise) and
 * publishes it with a review movie, printing the new version.
 *
 * @module
 */
import { join } from "node:path";
import { ferryHome } from "../src/config/ferry_home.ts";
import { connectTracker } from "../services/tracker/connect_tracker.ts";
import { testFrame } from "./_png.ts";
import { main as publish } from "./publish.ts";
import { EXIT, exitCodeOf, exitCodesHelp } from "../src/cli/exit_codes.ts";

/** The usage text of the command. */
export const USAGE = `Usage: deno task demo [--frames 48]

Creates the project 'demo' (sq010/sh010 with lighting and compositing tasks) if it is missing,
renders a test image sequence into $FERRY_HOME/demo/renders/sh010, and publishes it to
demo/sq010/sh010 (task lighting) with a thumbnail and a review movie.

${exitCodesHelp({ [EXIT.OK]: "published", [EXIT.FAILED]: "the publish failed (its report says why)" })}`;

async function ensureDemoProject(): Promise<void> {
  await using tracker = await connectTracker();
  const session = tracker.session;
  const find = async (expression: string) => (await session.query(expression)).data[0] as { id: string } | undefined;
  let project = await find('select id from Project where name is "demo"');
  if (!project) {
    const schema = await find("select id from ProjectSchema");
    project =
      (await session.create("Project", { name: "demo", full_name: "ferry demo", project_schema_id: schema?.id }))
        .data as { id: string };
  }
  let sequence = await find(`select id from Sequence where parent_id is "${project.id}" and name is "sq010"`);
  sequence ??= (await session.create("Sequence", { name: "sq010", parent_id: project.id })).data as { id: string };
  let shot = await find(`select id from Shot where parent_id is "${sequence.id}" and name is "sh010"`);
  shot ??= (await session.create("Shot", { name: "sh010", parent_id: sequence.id })).data as { id: string };
  for (const [name, type] of [["lighting", "Lighting"], ["compositing", "Compositing"]]) {
    if (await find(`select id from Task where parent_id is "${shot.id}" and name is "${name}"`)) continue;
    const taskType = await find(`select id from Type where name is "${type}"`);
    await session.create("Task", { name, parent_id: shot.id, ...(taskType ? { type_id: taskType.id } : {}) });
  }
}

async function renderFrames(folder: string, count: number): Promise<string> {
  await Deno.mkdir(folder, { recursive: true });
  for await (const entry of Deno.readDir(folder)) await Deno.remove(join(folder, entry.name));
  const pattern = join(folder, "beauty.%04d.png");
  try {
    const made = await new Deno.Command("ffmpeg", {
      args: [
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        `testsrc2=size=640x360:rate=24:duration=${count / 24}`,
        "-frames:v",
        String(count),
        "-start_number",
        "1001",
        pattern,
      ],
    }).output();
    if (made.success) return "ffmpeg's test pattern";
  } catch {
    // ffmpeg is not installed: fall back to generated frames.
  }
  for (let i = 0; i < count; i++) await Deno.writeFile(join(folder, `beauty.${1001 + i}.png`), testFrame(1001 + i));
  return "generated PNG frames (install ffmpeg for a test pattern and a review movie)";
}

/** Runs the command; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const at = args.indexOf("--frames");
  const count = at >= 0 ? Number(args[at + 1]) : 48;
  if (!Number.isInteger(count) || count < 1 || count > 10_000) {
    console.error(`demo: --frames '${args[at + 1]}' must be a whole number from 1 to 10000\n\n${USAGE}`);
    return 2;
  }
  try {
    await ensureDemoProject();
  } catch (error) {
    console.error(`demo: ${(error as Error)?.message ?? String(error)}`);
    return exitCodeOf(error);
  }
  const folder = join(ferryHome(), "demo", "renders", "sh010");
  let source: string;
  try {
    source = await renderFrames(folder, count);
  } catch (error) {
    const where = Deno.env.get("FERRY_HOME") ? "FERRY_HOME" : "ferry's data folder";
    console.error(
      `demo: Cannot use ${where}: the frames cannot be written to '${folder}': ${(error as Error).message}`,
    );
    return EXIT.ENVIRONMENT;
  }
  console.error(`rendered ${count} frames with ${source} into ${folder}`);
  return await publish([
    join(folder, "beauty.####.png"),
    "--context",
    "demo/sq010/sh010",
    "--task",
    "lighting",
    "--families",
    "review",
    "--comment",
    "ferry demo publish",
  ]);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
