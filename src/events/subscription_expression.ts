/**
 * ftrack's event subscription expressions, exactly as the Python client's
 * `ftrack_api.event.expression` parses and matches them, so that a subscription behaves the same
 * whichever side evaluates it.
 *
 * - A condition is `field op value`: fields of `[A-Za-z0-9_.]`, operators `= != >= <= > <`, values
 *   bare (`[A-Za-z0-9-_,./*@+]+`) or quoted (`'…'` / `"…"`, backslash escapes).
 * - `not` binds tighter than `and`, which binds tighter than `or` (keywords in any case); parentheses.
 * - A dotted field walks into the candidate; a missing key (or walking into a non-object) is false.
 * - `=` with a value ending in `*` tests containment of the rest (`topic=ftrack.*` matches any topic
 *   containing `ftrack.`), not a prefix.
 * - Values are strings and are compared with the candidate's value as it is: `data.n=7` does not
 *   match the number 7. Comparing a string with a non-string is false (Python would raise).
 *
 * @module
 */

/** A parsed expression. */
export type Expression =
  | { kind: "all" }
  | { kind: "condition"; field: string; path: string[]; operator: Operator; value: string }
  | { kind: "not"; operand: Expression }
  | { kind: "and"; operands: Expression[] }
  | { kind: "or"; operands: Expression[] };

/** A comparison operator. */
export type Operator = "=" | "!=" | ">=" | "<=" | ">" | "<";

type Token =
  | { kind: "open" | "close"; at: number }
  | { kind: "keyword"; word: "and" | "or" | "not"; at: number }
  | { kind: "condition"; field: string; operator: Operator; value: string; at: number };

const FIELD = /[A-Za-z0-9_.]/;
const BARE_VALUE = /[A-Za-z0-9\-_,./*@+]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (reason: string): never => {
    throw new SyntaxError(`Cannot parse subscription expression '${text}': ${reason} at position ${i}`);
  };
  while (i < text.length) {
    const char = text[i]!;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if (char === "(" || char === ")") {
      tokens.push({ kind: char === "(" ? "open" : "close", at: i });
      i++;
      continue;
    }
    if (!FIELD.test(char)) fail(`unexpected '${char}'`);
    const start = i;
    while (i < text.length && FIELD.test(text[i]!)) i++;
    const word = text.slice(start, i);
    let j = i;
    while (j < text.length && /\s/.test(text[j]!)) j++;
    const operator = /^(!=|>=|<=|>|<|=)/.exec(text.slice(j))?.[1] as Operator | undefined;
    if (operator === undefined) {
      const lower = word.toLowerCase();
      if (lower === "and" || lower === "or" || lower === "not") {
        tokens.push({ kind: "keyword", word: lower, at: start });
        continue;
      }
      fail(`'${word}' needs an operator`);
    }
    i = j + operator!.length;
    while (i < text.length && /\s/.test(text[i]!)) i++;
    let value = "";
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      i++;
      while (i < text.length && text[i] !== quote) {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      if (i >= text.length) fail("unterminated quoted value");
      i++;
    } else {
      const valueStart = i;
      while (i < text.length && BARE_VALUE.test(text[i]!)) i++;
      if (i === valueStart) fail(`'${word}${operator}' needs a value`);
      value = text.slice(valueStart, i);
    }
    tokens.push({ kind: "condition", field: word, operator: operator!, value, at: start });
  }
  return tokens;
}

/**
 * Parses an expression; an empty one matches everything. Throws a `SyntaxError` naming the
 * expression and the position of the problem.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { matchExpression, parseExpression } from "./subscription_expression.ts";
 *
 * const expression = parseExpression("topic=ftrack.update and source.user.username=jenkins");
 * const event = { topic: "ftrack.update", source: { user: { username: "jenkins" } } };
 * ok(matchExpression(expression, event));
 * ok(matchExpression(parseExpression("topic=ftrack.*"), { topic: "my.ftrack.x" }));
 * ```
 */
export function parseExpression(text: string): Expression {
  const tokens = tokenize(text);
  if (tokens.length === 0) return { kind: "all" };
  let position = 0;
  const fail = (reason: string): never => {
    throw new SyntaxError(`Cannot parse subscription expression '${text}': ${reason}`);
  };
  const parseOr = (): Expression => {
    const operands = [parseAnd()];
    while (tokens[position]?.kind === "keyword" && (tokens[position] as { word: string }).word === "or") {
      position++;
      operands.push(parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { kind: "or", operands };
  };
  const parseAnd = (): Expression => {
    const operands = [parseNot()];
    while (tokens[position]?.kind === "keyword" && (tokens[position] as { word: string }).word === "and") {
      position++;
      operands.push(parseNot());
    }
    return operands.length === 1 ? operands[0]! : { kind: "and", operands };
  };
  const parseNot = (): Expression => {
    const token = tokens[position];
    if (token?.kind === "keyword" && token.word === "not") {
      position++;
      return { kind: "not", operand: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): Expression => {
    const token = tokens[position++];
    if (token === undefined) return fail("it ends too early");
    if (token.kind === "open") {
      const inner = parseOr();
      if (tokens[position]?.kind !== "close") fail(`'(' at position ${token.at} is never closed`);
      position++;
      return inner;
    }
    if (token.kind === "condition") {
      return {
        kind: "condition",
        field: token.field,
        path: token.field.split("."),
        operator: token.operator,
        value: token.value,
      };
    }
    return fail(`unexpected ${token.kind === "keyword" ? `'${token.word}'` : "')'"} at position ${token.at}`);
  };
  const expression = parseOr();
  if (position < tokens.length) fail(`unexpected text at position ${tokens[position]!.at}`);
  return expression;
}

/** Whether `candidate` (an event, or subscriber metadata for targets) satisfies the expression. */
export function matchExpression(expression: Expression, candidate: unknown): boolean {
  switch (expression.kind) {
    case "all":
      return true;
    case "not":
      return !matchExpression(expression.operand, candidate);
    case "and":
      return expression.operands.every((operand) => matchExpression(operand, candidate));
    case "or":
      return expression.operands.some((operand) => matchExpression(operand, candidate));
    case "condition":
      return matchCondition(expression, candidate);
    default: {
      const _exhaustive: never = expression;
      return _exhaustive;
    }
  }
}

function matchCondition(condition: Extract<Expression, { kind: "condition" }>, candidate: unknown): boolean {
  let value: unknown = candidate;
  for (const part of condition.path) {
    if (value === null || typeof value !== "object" || Array.isArray(value) || !Object.hasOwn(value, part)) {
      return false;
    }
    value = (value as Record<string, unknown>)[part];
  }
  const expected = condition.value;
  switch (condition.operator) {
    case "=":
      if (expected.endsWith("*")) {
        const needle = expected.slice(0, -1);
        if (typeof value === "string") return value.includes(needle);
        if (Array.isArray(value)) return value.includes(needle);
        if (value !== null && typeof value === "object") return Object.hasOwn(value, needle);
        return false;
      }
      return value === expected;
    case "!=":
      return value !== expected;
    case ">":
      return typeof value === "string" && value > expected;
    case "<":
      return typeof value === "string" && value < expected;
    case ">=":
      return typeof value === "string" && value >= expected;
    case "<=":
      return typeof value === "string" && value <= expected;
    default: {
      const _exhaustive: never = condition.operator;
      return _exhaustive;
    }
  }
}

/**
 * Parses once and caches: subscriptions are matched against every event, so each expression text
 * is parsed a single time.
 */
export class ExpressionCache {
  #cache = new Map<string, Expression>();

  /** The parsed expression (throws `SyntaxError` like {@linkcode parseExpression}). */
  get(text: string): Expression {
    let expression = this.#cache.get(text);
    if (expression === undefined) {
      expression = parseExpression(text);
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(text, expression);
    }
    return expression;
  }

  /** Whether `candidate` matches the expression text. */
  matches(text: string, candidate: unknown): boolean {
    return matchExpression(this.get(text), candidate);
  }
}
