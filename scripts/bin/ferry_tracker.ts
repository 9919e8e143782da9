/**
 * The entry of the `ferry-tracker` binary (`deno task compile`): the service of `deno task tracker`.
 *
 * @module
 */
import { main, USAGE } from "../../services/tracker/main.ts";
import { runBinary } from "./_run_binary.ts";

if (import.meta.main) {
  Deno.exit(await runBinary(Deno.args, { name: "ferry-tracker", task: "tracker", usage: USAGE, main }));
}
