/**
 * ftrack's query language: `[select p1, p2.sub from] Type [where expr] [order by path [asc|desc], …]
 * [offset N] [limit N]`, with the tokenizer quirks of real client output (`"x"and`, `key=foo`,
 * unquoted uuids).
 *
 * @module
 */
import { TrackerError } from "../schema/catalog.ts";

/** A literal value as written: quoted text, or a bare word (number, boolean, null, identifier). */
export interface Literal {
  text: string;
  quoted: boolean;
}

/** Comparison operators after normalising their spellings. */
export type Comparison = "is" | "is_not" | ">" | "<" | ">=" | "<=" | "like" | "not_like";

/** A where-expression. */
export type Condition =
  | { kind: "and"; operands: Condition[] }
  | { kind: "or"; operands: Condition[] }
  | { kind: "not"; operand: Condition }
  | { kind: "compare"; path: string[]; operator: Comparison; value: Literal }
  | { kind: "in"; path: string[]; negated: boolean; values: Literal[] | Query }
  | { kind: "has"; path: string[]; condition: Condition | undefined }
  | { kind: "any"; path: string[]; condition: Condition | undefined };

/** A parsed query. */
export interface Query {
  type: string;
  select: string[][] | undefined;
  where: Condition | undefined;
  orderBy: Array<{ path: string[]; descending: boolean }>;
  offset: number | undefined;
  limit: number | undefined;
}

type Token =
  | { kind: "word"; text: string; at: number }
  | { kind: "string"; text: string; at: number }
  | { kind: "punct"; text: "(" | ")" | ","; at: number }
  | { kind: "operator"; text: string; at: number };

/** The longest query expression the tracker parses, in UTF-16 units (4 MiB: ~100,000 ids in an `in` list). */
export const MAX_QUERY_LENGTH = 4 * 1024 * 1024;

/** How deeply parentheses, `not`, `has`/`any` and subqueries may nest in one query. */
export const MAX_QUERY_DEPTH = 100;

/** How many attributes one dotted path may chain (`parent.parent.name` is 3). */
export const MAX_PATH_LENGTH = 32;

const SPACE = /\s+/y;
const WORD = /[^\s(),'"=!<>]+/y;
const STRING_RUN = { '"': /[^"\\]+/y, "'": /[^'\\]+/y } as const;

/** The end of the run `pattern` matches at `from` (sticky), or `from` when there is none. */
function runEnd(pattern: RegExp, source: string, from: number): number {
  pattern.lastIndex = from;
  return pattern.test(source) ? pattern.lastIndex : from;
}

/**
 * Reads a query's tokens one at a time, on demand, so that no list of every token is ever built:
 * one pass over the source, token texts are slices of it (linear time, and memory for the
 * tokens the parser is looking at only).
 */
class Lexer {
  readonly #source: string;
  #i = 0;
  readonly #ahead: Token[] = [];

  constructor(source: string) {
    this.#source = source;
  }

  /** The token `offset` places ahead (0: the next one), or undefined past the end. */
  peek(offset = 0): Token | undefined {
    while (this.#ahead.length <= offset) {
      const token = this.#read();
      if (token === undefined) return undefined;
      this.#ahead.push(token);
    }
    return this.#ahead[offset];
  }

  /** Moves past `count` tokens. */
  advance(count = 1): void {
    for (let i = 0; i < count; i++) if (this.#ahead.shift() === undefined) this.#read();
  }

  #read(): Token | undefined {
    const source = this.#source;
    let i = runEnd(SPACE, source, this.#i);
    if (i >= source.length) {
      this.#i = i;
      return undefined;
    }
    const char = source[i]!;
    let token: Token;
    if (char === "(" || char === ")" || char === ",") {
      token = { kind: "punct", text: char, at: i++ };
    } else if (char === '"' || char === "'") {
      const start = i++;
      const parts: string[] = [];
      for (;;) {
        const end = runEnd(STRING_RUN[char], source, i);
        if (end > i) parts.push(source.slice(i, end));
        i = end;
        if (i >= source.length) throw syntax(source, `unterminated string at ${start}`);
        if (source[i] === char) break;
        // A backslash makes the next character literal (and is dropped), as before.
        if (i + 1 < source.length) parts.push(source[i + 1]!);
        i += 2;
      }
      i++;
      token = { kind: "string", text: parts.length === 1 ? parts[0]! : parts.join(""), at: start };
    } else if ("=!<>".includes(char)) {
      const two = source.slice(i, i + 2);
      const text = ["!=", ">=", "<="].includes(two) ? two : char;
      if (text === "!") throw syntax(source, `'!' at ${i} must be '!='`);
      token = { kind: "operator", text, at: i };
      i += text.length;
    } else {
      const end = runEnd(WORD, source, i);
      token = { kind: "word", text: source.slice(i, end), at: i };
      i = end;
    }
    this.#i = i;
    return token;
  }
}

/**
 * A query as error messages quote it: whole when short, else its start and its length, so that
 * an error about a 4 MiB query is not itself 4 MiB.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { quoteQuery } from "./parse_query.ts";
 *
 * ok(quoteQuery("Shot where name is sh010") === "'Shot where name is sh010'");
 * ok(quoteQuery(`Shot where name is "${"x".repeat(1000)}"`).endsWith("…' (1021 characters)"));
 * ```
 */
export function quoteQuery(source: string): string {
  if (source.length <= 200) return `'${source}'`;
  // Cut before a split surrogate pair, so the message stays well-formed text.
  const cut = /[\ud800-\udbff]/.test(source[159]!) ? 159 : 160;
  return `'${source.slice(0, cut)}…' (${source.length} characters)`;
}

function syntax(source: string, reason: string): TrackerError {
  return new TrackerError("ParseError", `Cannot parse query ${quoteQuery(source)}: ${reason}.`);
}

/** A token's text for an error message (a long literal shortened). */
function shown(text: string): string {
  if (text.length <= 80) return text;
  return `${text.slice(0, /[\ud800-\udbff]/.test(text[59]!) ? 59 : 60)}…`;
}

const WORD_OPERATORS: Record<string, Comparison> = {
  is: "is",
  is_not: "is_not",
  after: ">",
  greater_than: ">",
  before: "<",
  less_than: "<",
  like: "like",
  not_like: "not_like",
};
const SYMBOL_OPERATORS: Record<string, Comparison> = {
  "=": "is",
  "!=": "is_not",
  ">": ">",
  "<": "<",
  ">=": ">=",
  "<=": "<=",
};
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * Parses a query; a `TrackerError` (`ParseError`) names the query and the problem. Linear in the
 * length of the query, which may not exceed {@linkcode MAX_QUERY_LENGTH}, nest deeper than
 * {@linkcode MAX_QUERY_DEPTH} or chain more than {@linkcode MAX_PATH_LENGTH} attributes in a path.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { parseQuery } from "./parse_query.ts";
 *
 * const query = parseQuery('select name from Shot where parent.name is "sq010" limit 5');
 * ok(query.type === "Shot" && query.limit === 5 && query.where?.kind === "compare");
 * ```
 */
export function parseQuery(source: string): Query {
  if (typeof source !== "string") {
    throw new TrackerError("ParseError", "Cannot parse query: expression must be a string.");
  }
  if (source.length > MAX_QUERY_LENGTH) {
    throw syntax(source, `it is longer than the limit of ${MAX_QUERY_LENGTH} characters`);
  }
  const lexer = new Lexer(source);
  let depth = 0;
  /** Runs `parse` one nesting level deeper; `ParseError` past `MAX_QUERY_DEPTH`. */
  const nested = <T>(parse: () => T): T => {
    if (++depth > MAX_QUERY_DEPTH) fail(`nested more than ${MAX_QUERY_DEPTH} levels deep`);
    try {
      return parse();
    } finally {
      depth--;
    }
  };
  const peek = () => lexer.peek();
  const isWord = (text: string, token = peek()) => token?.kind === "word" && token.text.toLowerCase() === text;
  const fail = (reason: string): never => {
    const token = peek();
    throw syntax(source, token ? `${reason} at '${shown(token.text)}' (position ${token.at})` : `${reason} at the end`);
  };
  const expectPunct = (text: "(" | ")" | ",") => {
    const token = peek();
    if (token?.kind !== "punct" || token.text !== text) fail(`expected '${text}'`);
    lexer.advance();
  };
  const path = (): string[] => {
    const token = peek();
    if (token?.kind !== "word" || !PATH.test(token.text)) return fail("expected an attribute path");
    const parts = token.text.split(".");
    if (parts.length > MAX_PATH_LENGTH) return fail(`a path may chain at most ${MAX_PATH_LENGTH} attributes`);
    lexer.advance();
    return parts;
  };
  const literal = (): Literal => {
    const token = peek();
    if (token?.kind === "string") {
      lexer.advance();
      return { text: token.text, quoted: true };
    }
    if (token?.kind === "word") {
      lexer.advance();
      return { text: token.text, quoted: false };
    }
    return fail("expected a value");
  };
  const integer = (name: string): number => {
    const token = peek();
    if (token?.kind !== "word" || !/^\d+$/.test(token.text)) return fail(`expected a whole number after ${name}`);
    lexer.advance();
    return Number(token.text);
  };

  const parseSelect = (): Query => {
    let select: string[][] | undefined;
    if (isWord("select")) {
      lexer.advance();
      select = [path()];
      while (peek()?.kind === "punct" && peek()!.text === ",") {
        lexer.advance();
        select.push(path());
      }
      if (!isWord("from")) fail("expected 'from'");
      lexer.advance();
    }
    const typeToken = peek();
    if (typeToken?.kind !== "word" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(typeToken.text)) {
      return fail("expected an entity type");
    }
    lexer.advance();
    const query: Query = {
      type: typeToken.text,
      select,
      where: undefined,
      orderBy: [],
      offset: undefined,
      limit: undefined,
    };
    while (peek() !== undefined) {
      if (isWord("where") && query.where === undefined) {
        lexer.advance();
        query.where = parseOr();
      } else if (isWord("order") && isWord("by", lexer.peek(1))) {
        lexer.advance(2);
        do {
          if (peek()?.kind === "punct" && peek()!.text === ",") lexer.advance();
          const orderPath = path();
          let descending = false;
          if (isWord("desc") || isWord("descending")) {
            descending = true;
            lexer.advance();
          } else if (isWord("asc") || isWord("ascending")) {
            lexer.advance();
          }
          query.orderBy.push({ path: orderPath, descending });
        } while (peek()?.kind === "punct" && peek()!.text === ",");
      } else if (isWord("offset")) {
        lexer.advance();
        query.offset = integer("offset");
      } else if (isWord("limit")) {
        lexer.advance();
        query.limit = integer("limit");
      } else {
        break;
      }
    }
    return query;
  };

  const parseOr = (): Condition => {
    const operands = [parseAnd()];
    while (isWord("or")) {
      lexer.advance();
      operands.push(parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { kind: "or", operands };
  };
  const parseAnd = (): Condition => {
    const operands = [parseNot()];
    while (isWord("and")) {
      lexer.advance();
      operands.push(parseNot());
    }
    return operands.length === 1 ? operands[0]! : { kind: "and", operands };
  };
  const parseNot = (): Condition => {
    if (isWord("not")) {
      lexer.advance();
      return { kind: "not", operand: nested(parseNot) };
    }
    return parseAtom();
  };
  const parseInner = (): Condition | undefined => {
    expectPunct("(");
    if (peek()?.kind === "punct" && peek()!.text === ")") {
      lexer.advance();
      return undefined;
    }
    const inner = nested(parseOr);
    expectPunct(")");
    return inner;
  };
  const parseAtom = (): Condition => {
    const token = peek();
    if (token?.kind === "punct" && token.text === "(") {
      lexer.advance();
      const inner = nested(parseOr);
      expectPunct(")");
      return inner;
    }
    const left = path();
    const next = peek();
    if (next?.kind === "operator") {
      lexer.advance();
      return { kind: "compare", path: left, operator: SYMBOL_OPERATORS[next.text]!, value: literal() };
    }
    if (next?.kind !== "word") return fail("expected an operator");
    const word = next.text.toLowerCase();
    if (word in WORD_OPERATORS) {
      lexer.advance();
      return { kind: "compare", path: left, operator: WORD_OPERATORS[word]!, value: literal() };
    }
    if (word === "in" || word === "not_in") {
      lexer.advance();
      expectPunct("(");
      if (isWord("select")) {
        const subquery = nested(parseSelect);
        expectPunct(")");
        return { kind: "in", path: left, negated: word === "not_in", values: subquery };
      }
      const values: Literal[] = [];
      if (!(peek()?.kind === "punct" && peek()!.text === ")")) {
        values.push(literal());
        while (peek()?.kind === "punct" && peek()!.text === ",") {
          lexer.advance();
          values.push(literal());
        }
      }
      expectPunct(")");
      return { kind: "in", path: left, negated: word === "not_in", values };
    }
    if (word === "has" || word === "any") {
      lexer.advance();
      return { kind: word, path: left, condition: parseInner() };
    }
    return fail("expected an operator");
  };

  const query = parseSelect();
  if (peek() !== undefined) fail("unexpected text");
  return query;
}
