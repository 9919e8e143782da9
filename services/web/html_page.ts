import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

/** HTML as hono's `html` tag makes it (interpolated values are escaped). */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** The sections of the view, for the navigation. */
export type Section = "browse" | "publishes" | "events";

/** Options of {@linkcode page}. */
export interface PageOptions {
  title: string;
  section?: Section;
  /** `data-page` on `<body>`: which part of the page script runs. */
  script?: string;
  /** The search box's value. */
  query?: string;
}

/**
 * A whole page: the navigation (Browse, Publishes, Events, search by name), the content, the
 * stylesheet and, when asked, the page script. Nothing is loaded from another origin.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { html } from "hono/html";
 * import { page } from "./html_page.ts";
 *
 * const text = String(await page({ title: "<demo>", section: "browse" }, html`<p>hi</p>`));
 * ok(text.includes("<title>&lt;demo&gt; · ferry</title>") && text.includes('aria-current="page"'));
 * ```
 */
export function page(options: PageOptions, body: Html): Html {
  const { title, section, script, query = "" } = options;
  const link = (href: string, name: Section, label: string) =>
    html`
      <a href="${href}" ${section === name
        ? html`
          aria-current="page"
        `
        : ""}>${label}</a>
    `;
  return html`
    <!doctype html>
    <html lang="en">
      <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${title} · ferry</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/assets/style.css">
    ${script ? html`<script type="module" src="/assets/app.js"></script>` : ""}
      </head>
      <body${script
        ? html`
          data-page="${script}"
        `
        : ""}>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <nav aria-label="Sections">
    <a class="brand" href="/">ferry</a>
    ${link("/", "browse", "Browse")}
    ${link("/publishes", "publishes", "Publishes")}
    ${link("/events", "events", "Events")}
          </nav>
          <form class="search" role="search" action="/search" method="get">
            <label class="visually-hidden" for="search-name">Search by name</label>
            <input id="search-name" name="q" type="search" placeholder="Search by name" value="${query}">
            <button type="submit">Search</button>
          </form>
        </header>
        <main id="main" tabindex="-1">
    ${body}
        </main>
        </body>
        </html>
  `;
}

/**
 * A size in bytes as people read it (kB = 1000 bytes, as the publish CLI prints).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { formatBytes } from "./html_page.ts";
 *
 * ok(formatBytes(725785) === "726 kB" && formatBytes(12) === "12 B");
 * ```
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "–";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/**
 * A date as `2026-11-22 18:50 UTC`, or `–`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { formatDate } from "./html_page.ts";
 *
 * ok(formatDate("2026-11-22T18:50:17.020Z") === "2026-11-22 18:50 UTC" && formatDate(null) === "–");
 * ```
 */
export function formatDate(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "–";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
