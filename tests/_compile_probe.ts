/**
 * A small binary entry for the compile tests: answers `--version` and `--help` like every ferry binary,
 * without compiling all of ferry.
 *
 * @module
 */
import { runBinary } from "../scripts/bin/_run_binary.ts";

if (import.meta.main) {
  Deno.exit(
    await runBinary(Deno.args, {
      name: "ferry-probe",
      task: "probe",
      usage: "Usage: deno task probe",
      main: () => Promise.resolve(0),
    }),
  );
}
