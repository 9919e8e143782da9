/**
 * Collectors that turn the publish request into instances: files and image sequences from paths,
 * frame ranges, user, host and comment.
 *
 * @module
 */
import process from "node:process";
import { definePlugin } from "../publish/plugin.ts";
import { CollectorOrder } from "../publish/orders.ts";
import { expandPaths } from "../src/files/expand_paths.ts";
import { scanFiles } from "../src/files/scan_files.ts";
import { requestOf, sessionOf } from "./_contract.ts";

/** User, host, comment and time of the publish, into `context.data`. */
export const CollectPublishInfo = definePlugin({
  kind: "context",
  name: "CollectPublishInfo",
  label: "Collect user, host and comment",
  order: CollectorOrder - 0.4,
  process(context) {
    const request = requestOf(context);
    const session = sessionOf(context);
    context.data.user = request.user ?? session.apiUser;
    context.data.host = request.host;
    context.data.comment = request.comment;
    context.data.date = new Date().toISOString();
    context.data.cwd = request.cwd ?? process.cwd();
  },
});

/**
 * One instance per requested instance, with the image sequences and single files found from its
 * paths (clique's rules; `1001-1100` read as `%04d`), and its frame range.
 */
export const CollectFiles = definePlugin({
  kind: "context",
  name: "CollectFiles",
  label: "Collect files and sequences",
  order: CollectorOrder - 0.3,
  async process(context, { log }) {
    const request = requestOf(context);
    for (const wanted of request.instances) {
      const instance = context.createInstance(wanted.name, {
        family: wanted.family,
        families: wanted.families,
        asset: wanted.name,
        options: wanted.options,
        items: [],
        frameStart: wanted.frameStart,
        frameEnd: wanted.frameEnd,
      });
      try {
        const paths = await expandPaths(wanted.files, { cwd: request.cwd ?? process.cwd() });
        const items = await scanFiles(paths, { assemble: { assumePaddedWhenAmbiguous: true } });
        instance.data.items = items;
        const sequences = items.filter((item) => item.kind === "sequence");
        if (sequences.length > 0) {
          instance.data.frameStart ??= Math.min(...sequences.map((item) => item.collection.first ?? 0));
          instance.data.frameEnd ??= Math.max(...sequences.map((item) => item.collection.last ?? 0));
        }
        log.info(`${wanted.name}: ${sequences.length} sequence(s), ${items.length - sequences.length} file(s)`);
      } catch (error) {
        // Kept on the instance: ValidateFilesExist reports it (collector errors never stop a publish).
        instance.data.collectError = (error as Error).message;
        throw error;
      }
    }
  },
});
