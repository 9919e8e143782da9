/**
 * The few DOM types the page script uses, declared here rather than through `lib="dom"`: a
 * triple-slash DOM reference would change the global types of every file `deno check .` checks
 * together (Deno's own stream and timer types differ from the DOM's).
 *
 * @module
 */

/** An element, as far as the page script uses one. */
export interface DomElement {
  textContent: string | null;
  className: string;
  hidden: boolean;
  readonly dataset: Record<string, string | undefined>;
  readonly children: ArrayLike<DomElement>;
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  append(...nodes: Array<DomElement | string>): void;
  replaceChildren(...nodes: DomElement[]): void;
  remove(): void;
  closest(selector: string): DomElement | null;
  querySelector(selector: string): DomElement | null;
  focus(): void;
}

/** A `<progress>` element. */
export interface DomProgress extends DomElement {
  max: number;
  value: number;
}

/** The document, as far as the page script uses it. */
export interface DomDocument {
  readonly body: DomElement;
  readonly activeElement: DomElement | null;
  createElement(tag: string): DomElement;
  getElementById(id: string): DomElement | null;
}

/** `CSS.escape`. */
export interface DomCss {
  escape(value: string): string;
}
