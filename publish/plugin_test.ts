import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  Action,
  ContextPlugin,
  definePlugin,
  InstancePlugin,
  InvalidPluginError,
  isActionClass,
  isPluginClass,
  isPluginLike,
  resolvePlugin,
} from "./plugin.ts";

Deno.test("definePlugin() reads a class's static fields, names it after the class and fills pyblish's defaults", () => {
  class Repair extends Action {
    static on = "failed";
    process() {}
  }
  class ValidateThing extends InstancePlugin {
    static order = 1.1;
    static families = ["model"];
    static match = "subset";
    static label = "Thing is valid";
    static actions = [Repair];
    process() {}
  }
  const plugin = definePlugin(ValidateThing);
  deepStrictEqual(
    [plugin.kind, plugin.name, plugin.order, plugin.families, plugin.match, plugin.hosts, plugin.targets, plugin.label],
    ["instance", "ValidateThing", 1.1, ["model"], "subset", ["*"], ["default"], "Thing is valid"],
  );
  deepStrictEqual(plugin.actions.map((a) => [a.name, a.on, a.actionClass === Repair]), [["Repair", "failed", true]]);
  strictEqual(definePlugin(ValidateThing), plugin, "the same class gives the same plugin");
  strictEqual(resolvePlugin(plugin), plugin);
  class Ctx extends ContextPlugin {
    process() {}
  }
  deepStrictEqual([definePlugin(Ctx).kind, definePlugin(Ctx).order, definePlugin(Ctx).active], ["context", -1, true]);
});

Deno.test("definePlugin() refuses bad class fields and actions, naming the plugin and the field", () => {
  class BadMatch extends InstancePlugin {
    static match = "fuzzy";
    process() {}
  }
  throws(
    () => definePlugin(BadMatch),
    (error: unknown) => error instanceof InvalidPluginError && /'BadMatch'.*'match'/.test(error.message),
  );
  class Sometimes extends Action {
    static on = "sometimes";
    process() {}
  }
  class WithBadAction extends ContextPlugin {
    static actions = [Sometimes];
    process() {}
  }
  throws(() => definePlugin(WithBadAction), {
    name: "InvalidPluginError",
    message: /'WithBadAction'.*'Sometimes'.*'on'/,
  });
  throws(
    () => definePlugin({ kind: "context", name: "NoName", actions: [{ name: "", process() {} }], process() {} }),
    { message: /'NoName' is invalid: 'actions.0'/ },
  );
});

Deno.test("isPluginClass() / isActionClass() take subclasses, not the base classes or objects", () => {
  class Mine extends ContextPlugin {
    process() {}
  }
  class Act extends Action {
    process() {}
  }
  ok(isPluginClass(Mine) && isPluginLike(Mine) && isActionClass(Act));
  ok(!isPluginClass(ContextPlugin) && !isPluginClass(InstancePlugin) && !isActionClass(Action));
  ok(!isPluginClass({ kind: "context" }) && !isPluginClass(Act));
});
