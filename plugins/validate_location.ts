/**
 * Validators of where a publish puts files: names from the tracker and the request make safe
 * paths inside a disk location's root.
 *
 * @module
 */
import { definePlugin } from "../publish/plugin.ts";
import { ValidatorOrder } from "../publish/orders.ts";
import { requestOf, settingsOf, trackerOf } from "./_contract.ts";
import { pathInsideRoot, structurePath } from "./_structure.ts";

/**
 * For a disk location: the project, context and asset names make folder names that stay inside
 * the root (no `.`, `..`, separators or NUL, and the structure template does not climb out), so
 * nothing is created before such a publish is refused. The integrator checks every path again.
 */
export const ValidateDiskStructure = definePlugin({
  kind: "instance",
  name: "ValidateDiskStructure",
  label: "Disk paths stay inside the location",
  order: ValidatorOrder + 0.2,
  process(instance) {
    const request = requestOf(instance.context);
    if (typeof request.location !== "object") return;
    const root = request.location.disk;
    const tracker = trackerOf(instance.context);
    const asset = String(instance.data.asset ?? instance.name);
    try {
      const path = structurePath(settingsOf(instance.context).structure, {
        project: tracker.project.name,
        context: tracker.chain.map((entity) => entity.name),
        asset,
        version: 1,
        component: "main",
        frame: "",
        ext: ".ext",
      });
      pathInsideRoot(root, path);
    } catch (error) {
      throw new Error(
        `Cannot publish '${asset}' to the disk location '${root}' (context '${request.context.path}'): ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
  },
});
