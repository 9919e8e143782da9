/**
 * `deno task events`, `handlers` and `settings` read their flags with `readCommandFlags()` and
 * open the store with `openCommandStore()`: `--help` prints the usage (0), a bad flag or
 * subcommand prints the error and the usage (2), a store that cannot be opened exits 3; the
 * services refuse stray arguments the same way.
 */
import { ok, strictEqual } from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { main as events } from "../scripts/events.ts";
import { main as handlers } from "../scripts/handlers.ts";
import { main as settings } from "../scripts/settings.ts";
import { readCommandFlags } from "../src/cli/read_command_flags.ts";
import { UsageError } from "../src/cli/args.ts";
import { startService } from "../services/start_service.ts";

/** Runs `fn` with console.error captured. */
async function capturingErrors<T>(fn: () => Promise<T> | T): Promise<{ result: T; stderr: string }> {
  const original = console.error;
  let stderr = "";
  console.error = (...parts: unknown[]) => void (stderr += parts.join(" ") + "\n");
  try {
    return { result: await fn(), stderr };
  } finally {
    console.error = original;
  }
}

const COMMANDS = { events, handlers, settings };

for (const [name, main] of Object.entries(COMMANDS)) {
  Deno.test(`${name} main() prints its usage for --help, exits 2 on a bad flag or command, 3 on a missing store`, async () => {
    const folder = await mkdtemp(join(tmpdir(), `ferry-flags-${name}-`));
    try {
      const out: string[] = [];
      strictEqual(await main(["--help"], (text) => out.push(text)), 0);
      ok(out.join("\n").includes(`deno task ${name}`), out.join("\n"));
      const bogus = await capturingErrors(() => main(["list", "--bogus"], () => {}));
      strictEqual(bogus.result, 2);
      ok(bogus.stderr.includes("--bogus") && bogus.stderr.includes("Usage:"), bogus.stderr);
      const unknown = await capturingErrors(() => main(["frobnicate"], () => {}));
      strictEqual(unknown.result, 2);
      ok(unknown.stderr.includes("Unknown command 'frobnicate'"), unknown.stderr);
      const command = name === "settings" ? "show" : "list";
      const missing = await capturingErrors(() =>
        main([command, "--store", join(folder, "missing", "nested", "store.db")], () => {})
      );
      strictEqual(missing.result, 3, missing.stderr);
      ok(missing.stderr.includes(join(folder, "missing")), missing.stderr);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
}

Deno.test("settings main() refuses a bad --variant with exit 2 naming the value", async () => {
  const run = await capturingErrors(() => settings(["show", "--variant", "nightly", "--store", ":memory:"], () => {}));
  strictEqual(run.result, 2);
  ok(run.stderr.includes("--variant 'nightly' must be production, staging or dev"), run.stderr);
});

Deno.test("readCommandFlags() runs check as part of usage errors, lets --help win, and adds --version only with a line", async () => {
  const schema = z.object({ help: z.boolean().default(false), version: z.boolean().default(false) });
  const usage = "Usage: demo <thing>";
  const check = ({ positionals }: { positionals: string[] }) => {
    if (positionals.length === 0) throw new UsageError("Name a thing");
  };
  const out: string[] = [];
  const write = (text: string) => out.push(text);
  const failed = await capturingErrors(() =>
    readCommandFlags([], { name: "demo", options: {}, schema, usage, positionals: true, check, write })
  );
  ok("exit" in failed.result && failed.result.exit === 2);
  ok(failed.stderr.startsWith("demo: Name a thing\n\nUsage: demo"), failed.stderr);
  const help = readCommandFlags(["--help"], {
    name: "demo",
    options: {},
    schema,
    usage,
    positionals: true,
    check,
    write,
  });
  ok("exit" in help && help.exit === 0 && out.at(-1) === usage);
  const noVersion = await capturingErrors(() =>
    readCommandFlags(["--version", "x"], { name: "demo", options: {}, schema, usage, positionals: true, write })
  );
  ok("exit" in noVersion.result && noVersion.result.exit === 2, "no --version without a version line");
  const version = readCommandFlags(["--version"], {
    name: "demo",
    options: {},
    schema,
    usage,
    versionLine: "demo 1",
    write,
  });
  ok("exit" in version && version.exit === 0 && out.at(-1) === "demo 1");
});

Deno.test("startService() refuses a stray argument with exit 2", async () => {
  const schema = z.object({
    store: z.string().optional(),
    variant: z.string().optional(),
    "log-level": z.enum(["debug", "info", "warn", "error"]).default("info"),
    "json-log": z.boolean().default(false),
    help: z.boolean().default(false),
  });
  const run = await capturingErrors(() =>
    startService({ name: "demo", args: ["stray"], options: {}, schema, usage: "Usage: demo" })
  );
  ok("exit" in run.result && run.result.exit === 2);
  ok(run.stderr.includes("Unexpected argument 'stray'"), run.stderr);
});
