import { html } from "hono/html";
import { formatDate, type Html, page } from "../html_page.ts";
import type { ContextDetail, ContextItem, LinkItem, SearchResult, VersionItem } from "../tracker_view.ts";

/** A link to a context or project page. */
export const contextHref = (id: string) => `/browse/${encodeURIComponent(id)}`;
/** A link to a version page. */
export const versionHref = (id: string) => `/version/${encodeURIComponent(id)}`;
/** The address of a thumbnail. */
export const thumbnailSrc = (id: string) => `/media/${encodeURIComponent(id)}?as=thumbnail`;

/** The path of a context as links (`demo / sq010 / sh010`). */
export function breadcrumb(link: readonly LinkItem[], current?: string): Html {
  return html`
    <nav class="crumbs" aria-label="Path">
      <ol>
    <li><a href="/">Projects</a></li>
    ${link.map((item, index) =>
      index === link.length - 1 && current === undefined
        ? html`<li><span aria-current="page">${item.name}</span></li>`
        : item.type === "AssetVersion"
        ? html`<li><span>${item.name}</span></li>`
        : html`<li><a href="${contextHref(item.id)}">${item.name}</a></li>`
    )}
    ${current === undefined ? "" : html`<li><span aria-current="page">${current}</span></li>`}
      </ol>
    </nav>
  `;
}

/** A version's status as a coloured badge. */
export function statusBadge(status: VersionItem["status"]): Html {
  if (!status) return html`<span class="badge">no status</span>`;
  const color = /^#[0-9a-f]{3,8}$/i.test(status.color) ? status.color : "#888888";
  return html`<span class="badge" style="--status: ${color}">${status.name}</span>`;
}

function thumbnail(id: string | null, alt: string): Html {
  return id
    ? html`<img class="thumb" src="${thumbnailSrc(id)}" alt="${alt}" width="160" height="90" loading="lazy">`
    : html`<span class="thumb none" aria-hidden="true"></span>`;
}

/** Version cards (thumbnail, name, status, task, date), linking to their pages. */
export function versionCards(versions: readonly VersionItem[], options: { path?: boolean } = {}): Html {
  if (versions.length === 0) return html`<p class="empty">No versions published here yet.</p>`;
  return html`<ul class="cards">${
    versions.map((version) =>
      html`<li class="card">
<a href="${versionHref(version.id)}">${
        thumbnail(version.thumbnailId, `Thumbnail of ${version.asset} v${version.version}`)
      }
<span class="title">${version.asset} v${String(version.version).padStart(3, "0")}</span></a>
${
        options.path
          ? html`<span class="path">${
            version.link.filter((item) => item.type !== "AssetVersion").map((item) => item.name).join(" / ")
          }</span>`
          : ""
      }
<span class="meta">${statusBadge(version.status)} ${version.task ? html`<span>${version.task}</span>` : ""} <time>${
        formatDate(version.date)
      }</time>${
        version.published ? "" : html`
          <span class="badge warn">unpublished</span>
        `
      }</span>
</li>`
    )
  }</ul>`;
}

const TYPE_LABELS: Record<string, string> = {
  Episode: "Episodes",
  Sequence: "Sequences",
  Shot: "Shots",
  AssetBuild: "Asset builds",
  Folder: "Folders",
  Task: "Tasks",
};

function contextList(children: readonly ContextItem[]): Html {
  if (children.length === 0) return "" as unknown as Html;
  const groups = new Map<string, ContextItem[]>();
  for (const child of children) groups.set(child.type, [...(groups.get(child.type) ?? []), child]);
  return html`${
    [...groups].map(([type, items]) =>
      html`
        <section class="group" aria-labelledby="group-${type}">
          <h2 id="group-${type}">${TYPE_LABELS[type] ?? type}</h2>
          <ul class="contexts">${items.map((item) =>
            html`<li><a href="${contextHref(item.id)}">${
              item.thumbnailId
                ? html`<img class="mini" src="${
                  thumbnailSrc(item.thumbnailId)
                }" alt="" width="64" height="36" loading="lazy">`
                : ""
            }<span class="kind">${item.type}</span> ${item.name}</a></li>`
          )}</ul>
        </section>
      `
    )
  }`;
}

/**
 * The front page: the tracker's projects.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { projectsPage } from "./browse_pages.ts";
 *
 * const text = String(await projectsPage([{ id: "p1", name: "demo", type: "Project", thumbnailId: null }], "here"));
 * ok(text.includes('href="/browse/p1"') && text.includes("demo"));
 * ```
 */
export function projectsPage(projects: readonly ContextItem[], where: string): Html {
  return page(
    { title: "Projects", section: "browse" },
    html`<h1>Projects</h1>
<p class="note">On ${where}.</p>
${
      projects.length === 0
        ? html`<p class="empty">No projects yet: run <code>deno task demo</code> to publish a demo shot.</p>`
        : html`<ul class="contexts projects">${
          projects.map((project) =>
            html`<li><a href="${contextHref(project.id)}"><span class="kind">Project</span> ${project.name}</a></li>`
          )
        }</ul>`
    }`,
  );
}

/** A project or context: what is below it, and its versions. */
export function contextPage(detail: ContextDetail): Html {
  const { context, link, children, versions } = detail;
  return page(
    { title: link.map((item) => item.name).join(" / ") || context.name, section: "browse" },
    html`${breadcrumb(link)}
<h1><span class="kind">${context.type}</span> ${context.name}</h1>
${contextList(children)}
<section aria-labelledby="versions-heading">
<h2 id="versions-heading">${
      context.type === "Project"
        ? "Newest versions in the project"
        : context.type === "Task"
        ? "Versions made for this task"
        : "Versions here and below"
    }</h2>
${versionCards(versions)}
</section>`,
  );
}

/** Search results. */
export function searchPage(term: string, result: SearchResult | undefined): Html {
  return page(
    { title: term ? `Search: ${term}` : "Search", section: "browse", query: term },
    html`<h1>Search by name</h1>
${
      result === undefined
        ? html`<p class="empty">Type a name (project, sequence, shot, task or asset) in the search box.</p>`
        : html`<section aria-labelledby="found-contexts">
<h2 id="found-contexts">Projects, contexts and tasks (${result.contexts.length})</h2>
${
          result.contexts.length === 0
            ? html`<p class="empty">None named like '${term}'.</p>`
            : html`<ul class="contexts">${
              result.contexts.map((item) =>
                html`<li><a href="${contextHref(item.id)}"><span class="kind">${item.type}</span> ${
                  item.link.map((step) => step.name).join(" / ") || item.name
                }</a></li>`
              )
            }</ul>`
        }
</section>
<section aria-labelledby="found-versions">
<h2 id="found-versions">Versions of assets (${result.versions.length})</h2>
${versionCards(result.versions, { path: true })}
</section>`
    }`,
  );
}
