/**
 * The entry of the `ferry-bridge` binary (`deno task compile`): the service of `deno task bridge`.
 *
 * @module
 */
import { main, USAGE } from "../../services/bridge/main.ts";
import { runBinary } from "./_run_binary.ts";

if (import.meta.main) {
  Deno.exit(await runBinary(Deno.args, { name: "ferry-bridge", task: "bridge", usage: USAGE, main }));
}
