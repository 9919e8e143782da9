/**
 * Validators of what is published: files readable, frame ranges complete, names by the rules.
 *
 * @module
 */
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { definePlugin } from "../publish/plugin.ts";
import { pathsOf } from "../src/files/scan_files.ts";
import { ValidatorOrder } from "../publish/orders.ts";
import { itemsOf, settingsOf } from "./_contract.ts";

/** Every file exists and is readable; the error lists those that are not. */
export const ValidateFilesExist = definePlugin({
  kind: "instance",
  name: "ValidateFilesExist",
  label: "Files exist and are readable",
  order: ValidatorOrder,
  async process(instance) {
    if (typeof instance.data.collectError === "string") {
      throw new Error(`Cannot publish '${instance.name}': ${instance.data.collectError}`);
    }
    const items = itemsOf(instance);
    if (items.length === 0) throw new Error(`Cannot publish '${instance.name}': it has no files`);
    const paths = items.flatMap(pathsOf);
    const problems: string[] = [];
    await Promise.all(paths.map(async (path) => {
      try {
        await access(path, constants.R_OK);
      } catch (error) {
        problems.push(`${path} (${(error as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "unreadable"})`);
      }
    }));
    if (problems.length > 0) {
      throw new Error(
        `Cannot publish '${instance.name}': ${problems.length} file(s) cannot be read: ${
          problems.sort().slice(0, 10).join(", ")
        }`,
      );
    }
  },
});

/** Sequences have no holes and cover the requested frame range; missing frames are named. */
export const ValidateFrameRange = definePlugin({
  kind: "instance",
  name: "ValidateFrameRange",
  label: "Frame range is complete",
  order: ValidatorOrder + 0.1,
  process(instance) {
    const problems: string[] = [];
    const { frameStart, frameEnd } = instance.data as { frameStart?: number; frameEnd?: number };
    for (const item of itemsOf(instance)) {
      if (item.kind !== "sequence") continue;
      const collection = item.collection;
      const missing = collection.holes();
      if (typeof frameStart === "number" && collection.first !== undefined) {
        for (let frame = frameStart; frame < collection.first; frame++) missing.addIndex(frame);
      }
      if (typeof frameEnd === "number" && collection.last !== undefined) {
        for (let frame = collection.last + 1; frame <= frameEnd; frame++) missing.addIndex(frame);
      }
      if (missing.size > 0) {
        const count = missing.size === 1 ? "frame" : "frames";
        problems.push(
          `${count} ${missing.format("{ranges}")} ${
            missing.size === 1 ? "is" : "are"
          } missing from '${collection.format()}'`,
        );
      }
    }
    if (problems.length > 0) throw new Error(`Cannot publish '${instance.name}': ${problems.join("; ")}`);
  },
});

/** The asset name follows the studio's naming rule (`settings.assetNamePattern`). */
export const ValidateNaming = definePlugin({
  kind: "instance",
  name: "ValidateNaming",
  label: "Names follow the rules",
  order: ValidatorOrder + 0.1,
  process(instance) {
    const pattern = settingsOf(instance.context).assetNamePattern;
    const asset = String(instance.data.asset ?? instance.name);
    if (!new RegExp(pattern).test(asset)) {
      throw new Error(`Cannot publish '${asset}': the asset name does not match the naming rule /${pattern}/`);
    }
  },
});
