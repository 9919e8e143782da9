/**
 * Events of ftrack's event hub: their wire shape and the subscription-expression matcher.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ExpressionCache } from "./mod.ts";
 *
 * const expressions = new ExpressionCache();
 * ok(expressions.matches("topic=ftrack.update", { topic: "ftrack.update" }));
 * ```
 *
 * @module
 */
export { EventSchema, type HubEvent, toWireEvent } from "./event.ts";
export {
  type Expression,
  ExpressionCache,
  matchExpression,
  type Operator,
  parseExpression,
} from "./subscription_expression.ts";
