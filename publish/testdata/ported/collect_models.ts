/**
 * Ported from a typical pyblish collector:
 *
 * ```python
 * class CollectModels(pyblish.api.ContextPlugin):
 *     order = pyblish.api.CollectorOrder
 *     def process(self, context):
 *         for objset in cmds.ls("*_SET", type="objectSet"):
 *             name = objset.rsplit("_", 1)[0]
 *             instance = context.create_instance(name, family="model")
 *             instance[:] = cmds.sets(objset, query=True)
 *             self.log.info("Collected %s with %d node(s)" % (name, len(instance)))
 * ```
 */
import { CollectorOrder, type Context, ContextPlugin } from "../../mod.ts";
import { sceneOf } from "./_scene.ts";

export class CollectModels extends ContextPlugin {
  static order = CollectorOrder;

  process(context: Context) {
    const scene = sceneOf(context);
    for (const objset of scene.ls("*_SET")) {
      const name = objset.slice(0, objset.lastIndexOf("_"));
      const instance = context.createInstance(name, { family: "model" });
      instance.extend(scene.members(objset));
      this.log.info("Collected %s with %d node(s)", name, instance.length);
    }
  }
}
