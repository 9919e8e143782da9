/**
 * The entry of the `ferry-processor` binary (`deno task compile`): the service of `deno task processor`.
 *
 * @module
 */
import { main, USAGE } from "../../services/processor/main.ts";
import { runBinary } from "./_run_binary.ts";

if (import.meta.main) {
  Deno.exit(await runBinary(Deno.args, { name: "ferry-processor", task: "processor", usage: USAGE, main }));
}
