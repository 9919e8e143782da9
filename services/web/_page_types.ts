/**
 * Types of the browser-side values the Chromium tests and the benchmark read in `page.evaluate`
 * callbacks (which run in the page), declared here rather than through `lib="dom"`: a
 * triple-slash DOM reference would change the global types of every file `deno check .` checks
 * together.
 *
 * @module
 */

/** An element as the callbacks use it. */
export interface PageElement {
  readonly tagName: string;
  blur(): void;
}

/** An `<img>`. */
export interface PageImage extends PageElement {
  readonly complete: boolean;
  readonly naturalWidth: number;
}

/** A `<video>`. */
export interface PageVideo extends PageElement {
  readonly readyState: number;
  readonly duration: number;
  readonly currentTime: number;
  readonly videoWidth: number;
  muted: boolean;
  play(): Promise<void>;
  pause(): void;
  addEventListener(type: string, listener: () => void, options?: { once?: boolean }): void;
}

/** The page's document. */
export interface PageDocument {
  readonly activeElement: PageElement | null;
  readonly body: PageElement;
  readonly documentElement: { readonly scrollWidth: number; readonly clientWidth: number };
  querySelector<T extends PageElement = PageElement>(selector: string): T | null;
}

/** What `getComputedStyle` gives the focus checks. */
export interface PageStyle {
  readonly outlineStyle: string;
  readonly outlineWidth: string;
}

/** A navigation timing entry. */
export interface PageNavigationTiming {
  readonly responseStart: number;
  readonly loadEventEnd: number;
}

/** A resource timing entry. */
export interface PageResourceTiming {
  readonly initiatorType: string;
  readonly responseEnd: number;
}
