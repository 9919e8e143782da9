import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { Context, Instance } from "./context.ts";

Deno.test("Instance holds members like pyblish's list: append, extend, index, iterate, remove", () => {
  const context = new Context();
  const instance = context.createInstance("propA", { family: "model" });
  strictEqual(instance.length, 0);
  instance.append("|propA|geo");
  instance.extend(new Set(["|propA|rig", "|propA|cam"]));
  deepStrictEqual([...instance], ["|propA|geo", "|propA|rig", "|propA|cam"]);
  deepStrictEqual([instance.at(0), instance.at(-1), instance.at(5)], ["|propA|geo", "|propA|cam", undefined]);
  ok(instance.includes("|propA|rig") && instance.indexOf("|propA|cam") === 2);
  instance.remove("|propA|cam");
  throws(() => instance.remove("|nope|"), { name: "RangeError", message: /'propA'/ });
  deepStrictEqual(instance.members, ["|propA|geo", "|propA|rig"]);
  instance.clear();
  strictEqual(instance.length, 0);
  deepStrictEqual(instance.data, { family: "model", name: "propA" });
});

Deno.test("Instance nested instances are members too, and never direct children of the context", () => {
  const context = new Context();
  const parent = context.createInstance("parent");
  parent.append("node");
  const child = parent.createInstance("child");
  ok(child instanceof Instance);
  deepStrictEqual([...parent], ["node", child]);
  deepStrictEqual(parent.children, [child]);
  strictEqual(child.context, context);
  deepStrictEqual([...context], [parent]);
  strictEqual(context.length, 1);
});
