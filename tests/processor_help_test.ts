/** The processor's command line: its help tells the server actions and how discoveries jump the queue. */
import { ok, strictEqual } from "node:assert/strict";
import { USAGE } from "../services/processor/main.ts";

const MAIN = new URL("../services/processor/main.ts", import.meta.url).pathname;

Deno.test("processor USAGE tells the server actions, their roles and --eager-after-ms", () => {
  for (
    const text of [
      "ftrack.action.discover",
      "ferry – Sync users to pipeline",
      "User.user_security_roles",
      "--eager-after-ms <n>",
      "discoverMaxAgeSeconds",
    ]
  ) ok(USAGE.includes(text), `the help does not mention '${text}'`);
});

Deno.test("processor main() refuses a bad --eager-after-ms, naming it and the value", async () => {
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "--eager-after-ms", "soon"],
    stderr: "piped",
    stdout: "null",
  }).output();
  strictEqual(bad.code, 2);
  ok(new TextDecoder().decode(bad.stderr).includes("--eager-after-ms 'soon'"));
});
