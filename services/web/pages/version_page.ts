import { html } from "hono/html";
import { formatBytes, formatDate, type Html, page } from "../html_page.ts";
import type { ComponentItem, VersionDetail } from "../tracker_view.ts";
import { breadcrumb, statusBadge, thumbnailSrc } from "./browse_pages.ts";

/** The address the review movie plays from (proxied through the view). */
export const mediaSrc = (id: string) => `/media/${encodeURIComponent(id)}`;

function componentRow(component: ComponentItem): Html {
  const fingerprint = component.fingerprint ?? "";
  const [algorithm, hex] = fingerprint.includes(":") ? fingerprint.split(":", 2) : ["", fingerprint];
  return html`
    <tr>
      <th scope="row">${component
        .name}${component.kind === "file" && component.locations.some((location) => location.name === "ftrack.server")
        ? html`
          <a class="download" href="${mediaSrc(component.id)}" download>download</a>
        `
        : ""}</th>
      <td>${component.kind}${component.fileType
        ? html`
          <code>${component.fileType}</code>
        `
        : ""}</td>
      <td class="num">${formatBytes(component.size)}</td>
      <td>${component.frames ?? "–"}${component.members
        ? html`
          <span class="note">(${component.members} files)</span>
        `
        : ""}</td>
      <td class="hash">${hex
        ? html`<code title="${fingerprint}">${algorithm ? `${algorithm}:` : ""}${hex}</code>`
        : html`<span>–</span>`}</td>
      <td>${component.locations.length === 0
        ? "–"
        : html`<ul class="plain">${
          component.locations.map((location) =>
            html`<li>${location.name}${
              location.resourceIdentifier && location.resourceIdentifier !== component.id
                ? html`
                  <code>${location.resourceIdentifier}</code>
                `
                : ""
            }</li>`
          )
        }</ul>`}</td>
    </tr>
  `;
}

/** The version page: review movie (or thumbnail), status, note, and components. */
export function versionPage(version: VersionDetail): Html {
  const name = `${version.asset} v${String(version.version).padStart(3, "0")}`;
  const context = version.link.filter((item) => item.type !== "AssetVersion");
  const poster = version.thumbnailId ? thumbnailSrc(version.thumbnailId) : undefined;
  return page(
    { title: name, section: "browse" },
    html`
            ${breadcrumb(context, name)}
            <div class="version">
        <div class="media">${version.review
          ? html`
            <video id="review" controls preload="metadata" playsinline src="${mediaSrc(version.review.id)}"
              ${poster
                ? html`
                  poster="${poster}"
                `
                : ""}>Your browser cannot play the review movie; <a href="${mediaSrc(
                  version.review.id,
                )}">download it</a>.</video>
          `
          : poster
          ? html`<img id="thumbnail" src="${poster}" alt="Thumbnail of ${name}" width="640" height="360">`
          : html`<p class="empty">No review movie or thumbnail was published with this version.</p>`}</div>
        <div class="facts">
            <h1>${name}</h1>
            <dl>
            <dt>Status</dt><dd>${statusBadge(version.status)}${version.published ? "" : html`
              <span class="badge warn">unpublished</span>
            `}</dd>
            <dt>Asset type</dt><dd>${version.assetType || "–"}</dd>
            <dt>Task</dt><dd>${version.task ?? "–"}</dd>
            <dt>Published by</dt><dd>${version.user ?? "–"}</dd>
            <dt>Date</dt><dd><time>${formatDate(version.date)}</time></dd>
            ${version.review && poster
              ? html`
                <dt>Thumbnail</dt>
                <dd><img id="thumbnail" class="thumb" src="${poster}" alt="Thumbnail of ${name}" width="160" height="90"></dd>
              `
              : ""}
            </dl>
            <h2>Versions of ${version.asset}</h2>
      <ol class="siblings">${version.siblings.map((sibling) =>
        sibling.id === version.id
          ? html`<li><span aria-current="page">v${String(sibling.version).padStart(3, "0")}</span></li>`
          : html`<li><a href="/version/${sibling.id}" title="${sibling.status?.name ?? ""}">v${
            String(sibling.version).padStart(3, "0")
          }</a>${sibling.published ? "" : " (unpublished)"}</li>`
      )}</ol>
      <h2>Notes</h2>
            ${version.notes.length === 0 && !version.comment
              ? html`<p class="empty">No note.</p>`
              : version.notes.length === 0
              ? html`<blockquote class="comment">${version.comment}</blockquote>`
              : version.notes.map((note) =>
                html`
                  <figure class="comment">
                    <blockquote>${note.content}</blockquote>
                    <figcaption>${note.author ?? "?"}, <time>${formatDate(note.date)}</time></figcaption>
                  </figure>
                `
              )}
              </div>
      </div>
            <section aria-labelledby="components-heading">
        <h2 id="components-heading">Components (${version.components.length})</h2>
        <div class="scroll" tabindex="0" role="region" aria-labelledby="components-heading">
          <table class="components">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Size</th>
                <th scope="col">Frames</th>
                <th scope="col">Fingerprint</th>
                <th scope="col">Locations</th>
              </tr>
            </thead>
            <tbody>${version.components.map(componentRow)}</tbody>
          </table>
        </div>
      </section>
    `,
  );
}
