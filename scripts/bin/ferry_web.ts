/**
 * The entry of the `ferry-web` binary (`deno task compile`): the web view of `deno task web`, serving the page
 * script and stylesheet `deno task compile` built into `dist/web_assets/` (embedded), so it never runs esbuild.
 *
 * @module
 */
import { main, USAGE } from "../../services/web/main.ts";
import { runBinary } from "./_run_binary.ts";

/** The folder of the prebuilt assets, embedded at its place in the checkout (`WEB_ASSETS` in `binaries.ts`). */
const ASSETS = new URL("../../dist/web_assets/", import.meta.url);

if (import.meta.main) {
  Deno.exit(
    await runBinary(Deno.args, {
      name: "ferry-web",
      task: "web",
      usage: USAGE,
      main: (args) => main(args, { assetsFolder: ASSETS }),
    }),
  );
}
