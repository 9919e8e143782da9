/**
 * Ported from a typical pyblish extractor:
 *
 * ```python
 * class ExtractModel(pyblish.api.InstancePlugin):
 *     order = pyblish.api.ExtractorOrder
 *     families = ["model"]
 *     def process(self, instance):
 *         staging = instance.context.data["stagingDir"]
 *         path = os.path.join(staging, "%s.ma" % instance)
 *         with open(path, "w") as f:
 *             f.write("\n".join(instance))  # cmds.file(path, exportSelected=True)
 *         instance.data.setdefault("files", []).append(path)
 *         self.log.info("Extracted %s to %s" % (instance, path))
 * ```
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ExtractorOrder, type Instance, InstancePlugin } from "../../mod.ts";

export class ExtractModel extends InstancePlugin {
  static order = ExtractorOrder;
  static families = ["model"];

  async process(instance: Instance) {
    const staging = instance.context.data.stagingDir as string;
    const path = join(staging, `${instance}.ma`);
    await writeFile(path, [...instance].join("\n"));
    const files = (instance.data.files ??= []) as string[];
    files.push(path);
    this.log.info("Extracted %s to %s", instance, path);
  }
}
