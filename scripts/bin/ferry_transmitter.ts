/**
 * The entry of the `ferry-transmitter` binary (`deno task compile`): the service of `deno task transmitter`.
 *
 * @module
 */
import { main, USAGE } from "../../services/transmitter/main.ts";
import { runBinary } from "./_run_binary.ts";

if (import.meta.main) {
  Deno.exit(await runBinary(Deno.args, { name: "ferry-transmitter", task: "transmitter", usage: USAGE, main }));
}
