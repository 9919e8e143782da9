import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { ExpressionCache, matchExpression, parseExpression } from "./subscription_expression.ts";

const match = (expression: string, candidate: unknown) => matchExpression(parseExpression(expression), candidate);

Deno.test("parseExpression() and matchExpression() follow ftrack_api.event.expression", async (t) => {
  const event = {
    topic: "ftrack.update",
    data: { n: 7, s: "7", list: ["a", "b"], nested: { key: "value with space" } },
    source: { user: { username: "jenkins" } },
  };
  const cases: Array<[string, boolean]> = [
    ["topic=ftrack.update", true],
    ["topic = ftrack.update", true],
    ["topic=ftrack.*", true],
    ["topic=*update", false], // only a trailing * means "contains"
    ["topic=*.upd*", false],
    ["topic=rack.up*", true],
    ["topic=ftrack.updat", false],
    ["topic!=ftrack.update", false],
    ["topic!=x", true],
    ["missing=x", false],
    ["missing!=x", false],
    ["data.n=7", false],
    ["data.s=7", true],
    ["data.s>=7", true],
    ["data.s>6", true],
    ["data.s<8", true],
    ["data.s<=6", false],
    ["data.n>6", false],
    ["data.list=a*", true],
    ["data.list=c*", false],
    ["data.list.0=a", false],
    ["data.s.x=1", false],
    ['data.nested.key="value with space"', true],
    ["data.nested.key='value with space'", true],
    ["data.nested=key*", true],
    ["topic=ftrack.update and source.user.username=jenkins", true],
    ["topic=ftrack.update AND source.user.username=other", false],
    ["topic=x or source.user.username=jenkins", true],
    ["not topic=x", true],
    ["NOT topic=ftrack.update", false],
    ["topic=x or topic=ftrack.update and data.s=7", true],
    ["(topic=x or topic=ftrack.update) and data.s=8", false],
    ["not (topic=x or data.s=8)", true],
    ["not not topic=ftrack.update", true],
    ["", true],
  ];
  for (const [expression, want] of cases) {
    await t.step(expression || "(empty)", () => strictEqual(match(expression, event), want));
  }
});

Deno.test("parseExpression() binds not > and > or", () => {
  deepStrictEqual(parseExpression("a=1 or b=2 and not c=3").kind, "or");
  const parsed = parseExpression("a=1 or b=2 and not c=3");
  if (parsed.kind !== "or") throw new Error("expected or");
  strictEqual(parsed.operands[1]!.kind, "and");
});

Deno.test("parseExpression() names the expression and the problem in its errors", () => {
  throws(() => parseExpression("topic"), { name: "SyntaxError", message: /'topic'.*needs an operator/ });
  throws(() => parseExpression("topic="), { name: "SyntaxError", message: /needs a value/ });
  throws(() => parseExpression("(topic=x"), { name: "SyntaxError", message: /never closed/ });
  throws(() => parseExpression("topic=x and"), { name: "SyntaxError", message: /ends too early/ });
  throws(() => parseExpression("topic=x)"), { name: "SyntaxError", message: /unexpected/ });
  throws(() => parseExpression("topic='x"), { name: "SyntaxError", message: /unterminated/ });
  throws(() => parseExpression("topic=x $"), { name: "SyntaxError", message: /'\$'/ });
});

Deno.test("ExpressionCache parses each text once", () => {
  const cache = new ExpressionCache();
  strictEqual(cache.get("topic=a"), cache.get("topic=a"));
  strictEqual(cache.matches("topic=a", { topic: "a" }), true);
  strictEqual(cache.matches("id=hub1", { id: "hub1", applicationId: "x" }), true);
});
