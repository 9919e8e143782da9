/**
 * The entry of the `ferry-leecher` binary (`deno task compile`): the service of `deno task leecher`.
 *
 * @module
 */
import { main, USAGE } from "../../services/leecher/main.ts";
import { runBinary } from "./_run_binary.ts";

if (import.meta.main) {
  Deno.exit(await runBinary(Deno.args, { name: "ferry-leecher", task: "leecher", usage: USAGE, main }));
}
