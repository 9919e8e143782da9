/**
 * Fingerprints for publishes that copy no data (unmanaged): files uploaded to the server or copied
 * to a disk location are fingerprinted while they are read for that, so each is read once.
 *
 * @module
 */
import { definePlugin } from "../publish/plugin.ts";
import { pathsOf } from "../src/files/scan_files.ts";
import { ExtractorOrder } from "../publish/orders.ts";
import { fingerprintFiles } from "../src/fingerprint/fingerprint_files.ts";
import { itemsOf, progressOf, requestOf } from "./_contract.ts";

/** `instance.data.fingerprints`: path → SHA-1, for unmanaged publishes. */
export const ExtractFingerprints = definePlugin({
  kind: "instance",
  name: "ExtractFingerprints",
  label: "Fingerprint files",
  order: ExtractorOrder,
  async process(instance, { log, signal }) {
    if (requestOf(instance.context).location !== "unmanaged") {
      log.debug("files are fingerprinted while they are transferred");
      return;
    }
    const paths = itemsOf(instance).flatMap(pathsOf);
    const progress = progressOf(instance.context);
    let reported = 0;
    const digests = await fingerprintFiles(paths, {
      signal,
      onProgress: (p) => {
        if (reported === 0) progress.expect(p.totalBytes);
        progress.done(p.bytes - reported);
        reported = p.bytes;
      },
    });
    instance.data.fingerprints = Object.fromEntries(paths.map((path, i) => [path, digests[i]!.hex]));
  },
});
