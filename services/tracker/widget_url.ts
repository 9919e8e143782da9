/**
 * `get_widget_url`: the page of ferry's web view (`deno task web`) that stands for an ftrack
 * widget, for a tracker started with the web view's address.
 *
 * @module
 */
import { isA, TrackerError } from "./schema/catalog.ts";
import type { Graph } from "./graph.ts";

/** The widgets the web view has pages for. */
export const WIDGETS = ["info", "tasks_browser"] as const;

/** What `get_widget_url` names: the widget, and (for `info`) the entity it is about. */
export interface WidgetRequest {
  name: string;
  theme?: string | null | undefined;
  entityType?: string | undefined;
  entityKey?: string | undefined;
}

/**
 * The web view's URL of a widget: `info` of a context opens its browse page and of a version its
 * version page; `tasks_browser` opens the browse page of the entity, or the project list. The web
 * address keeps its query (its `?token=…`), and the theme is passed on. `ServerError` naming the
 * widget when there is no web view or no page for it; `ValidationError` for an unknown entity.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Tracker } from "./tracker.ts";
 * import { widgetUrl } from "./widget_url.ts";
 *
 * const tracker = await Tracker.open({ data: ":memory:" });
 * const url = widgetUrl(tracker.graph, "http://127.0.0.1:8072/?token=t", { name: "tasks_browser" });
 * ok(url === "http://127.0.0.1:8072/?token=t");
 * await tracker.close();
 * ```
 */
export function widgetUrl(graph: Graph, webUrl: string | undefined, request: WidgetRequest): string {
  const { name } = request;
  if (webUrl === undefined) {
    throw new TrackerError(
      "ServerError",
      `Cannot give the URL of widget '${name}': this tracker knows no web view; start 'deno task web' and the ` +
        "tracker with --web-url <its address>.",
    );
  }
  if (!(WIDGETS as readonly string[]).includes(name)) {
    throw new TrackerError(
      "ServerError",
      `Cannot give the URL of widget '${name}': the web view has pages for the widgets ${
        WIDGETS.map((widget) => `'${widget}'`).join(" and ")
      } only.`,
    );
  }
  let path = "/";
  if (request.entityType !== undefined && request.entityKey !== undefined) {
    const entity = graph.byKey(request.entityType, request.entityKey);
    if (entity === undefined) {
      throw new TrackerError(
        "ValidationError",
        `Cannot give the URL of widget '${name}': ${request.entityType} '${request.entityKey}' does not exist.`,
      );
    }
    if (isA(entity.__type, "Context")) path = `/browse/${encodeURIComponent(String(entity.id))}`;
    else if (entity.__type === "AssetVersion") path = `/version/${encodeURIComponent(String(entity.id))}`;
    else {
      throw new TrackerError(
        "ValidationError",
        `Cannot give the URL of widget '${name}' for a ${entity.__type}: the web view shows contexts and versions.`,
      );
    }
  } else if (name === "info") {
    throw new TrackerError("ValidationError", "Cannot give the URL of widget 'info' without an entity.");
  }
  const url = new URL(webUrl);
  url.pathname = `${url.pathname.replace(/\/$/, "")}${path}`;
  if (request.theme === "light" || request.theme === "dark") url.searchParams.set("theme", request.theme);
  return url.href;
}

/** The web view's address, checked: an http(s) URL; `TypeError` naming the value otherwise. */
export function checkWebUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(
      `Cannot use '${value}' as the web view's address: it is not a URL (e.g. http://127.0.0.1:8072)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`Cannot use '${value}' as the web view's address: give an http:// or https:// URL`);
  }
  return url.href;
}
