/**
 * Ported from a typical pyblish validator with a repair action:
 *
 * ```python
 * class RepairNaming(pyblish.api.Action):
 *     label = "Repair"
 *     on = "failed"
 *     icon = "wrench"
 *     def process(self, context, plugin):
 *         errored = [r["instance"] for r in context.data["results"]
 *                    if r["error"] and r["instance"] is not None and r["plugin"] == plugin]
 *         for instance in pyblish.api.instances_by_plugin(errored, plugin):
 *             for node in plugin.get_invalid(instance):
 *                 cmds.rename(node, node + "_GEO")
 *                 self.log.info("Renamed %s to %s_GEO" % (node, node))
 *
 * class ValidateNaming(pyblish.api.InstancePlugin):
 *     order = pyblish.api.ValidatorOrder
 *     families = ["model"]
 *     actions = [RepairNaming]
 *     @staticmethod
 *     def get_invalid(instance):
 *         return [node for node in instance if not node.endswith("_GEO")]
 *     def process(self, instance):
 *         invalid = self.get_invalid(instance)
 *         for node in invalid:
 *             self.log.error("%s is not named *_GEO" % node)
 *         if invalid:
 *             raise ValueError("%d node(s) of %s are misnamed" % (len(invalid), instance))
 * ```
 */
import {
  Action,
  type Context,
  type Instance,
  InstancePlugin,
  instancesByPlugin,
  type ResolvedPlugin,
  type Result,
  ValidatorOrder,
} from "../../mod.ts";
import { sceneOf } from "./_scene.ts";

export class RepairNaming extends Action {
  static label = "Repair";
  static on = "failed";
  static icon = "wrench";

  process(context: Context, plugin: ResolvedPlugin) {
    const errored = (context.data.results as Result[])
      .filter((result) => result.error && result.instance !== null && result.plugin === plugin)
      .map((result) => result.instance!);
    for (const instance of instancesByPlugin(errored, plugin)) {
      for (const node of ValidateNaming.getInvalid(instance)) {
        sceneOf(context).rename(node, `${node}_GEO`);
        this.log.info("Renamed %s to %s_GEO", node, node);
      }
    }
  }
}

export class ValidateNaming extends InstancePlugin {
  static order = ValidatorOrder;
  static families = ["model"];
  static actions = [RepairNaming];

  static getInvalid(instance: Instance): string[] {
    return [...instance].map(String).filter((node) => !node.endsWith("_GEO"));
  }

  process(instance: Instance) {
    const invalid = ValidateNaming.getInvalid(instance);
    for (const node of invalid) this.log.error("%s is not named *_GEO", node);
    if (invalid.length > 0) throw new RangeError(`${invalid.length} node(s) of ${instance} are misnamed`);
  }
}
