import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DEMO = new URL("../../scripts/demo.ts", import.meta.url).pathname;

/** A temporary FERRY_HOME where `deno task demo` published, removed when disposed. */
export interface DemoHome extends AsyncDisposable {
  home: string;
  /** The environment the demo ran with (FERRY_HOME, HOME, PATH). */
  env: Record<string, string | undefined>;
}

/**
 * Runs `deno task demo` (as a process, exactly as a TD would) on a fresh temporary FERRY_HOME: the
 * project `demo` on the embedded tracker with `beauty` v001, its thumbnail and, when ffmpeg is
 * installed, its review movie. For the web view's browser tests and benchmark.
 */
export async function demoHome(options: { frames?: number } = {}): Promise<DemoHome> {
  const { frames = 24 } = options;
  const home = await mkdtemp(join(tmpdir(), "ferry-web-home-"));
  const env = { FERRY_HOME: home, HOME: Deno.env.get("HOME"), PATH: Deno.env.get("PATH") };
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", DEMO, "--frames", String(frames)],
    env: env as Record<string, string>,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    await rm(home, { recursive: true, force: true });
    throw new Error(
      `deno task demo failed (exit ${output.code}): ${new TextDecoder().decode(output.stderr).slice(-2000)}`,
    );
  }
  return { home, env, [Symbol.asyncDispose]: () => rm(home, { recursive: true, force: true }) };
}
