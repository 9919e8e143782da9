import { html } from "hono/html";
import { formatBytes, formatDate, type Html, page } from "../html_page.ts";
import type { Job } from "../bridge_link.ts";

/** A link to a job's page. */
export const jobHref = (id: string) => `/publishes/${encodeURIComponent(id)}`;

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

function progressText(job: Job): string {
  const { bytes, totalBytes } = job.progress;
  if (totalBytes <= 0) return FINAL.has(job.state) ? "–" : "…";
  return `${formatBytes(bytes)} / ${formatBytes(totalBytes)} (${Math.floor((bytes / totalBytes) * 100)}%)`;
}

/**
 * Why a job failed, naming the plugin and the instance: the first failed result, else the job's
 * error line.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { failureText } from "./publishes_pages.ts";
 *
 * ok(failureText({
 *   error: "ValidateFilesExist: missing",
 *   results: [{ plugin: "ValidateFilesExist", instance: "beauty", success: false, error: { message: "missing" } }],
 * }) === "ValidateFilesExist on beauty: missing");
 * ```
 */
export function failureText(job: {
  error: string | null;
  results: ReadonlyArray<
    { plugin: string; instance: string | null; success: boolean; error: { message: string } | null }
  >;
}): string {
  const failed = job.results.find((result) => !result.success);
  if (!failed) return job.error ?? "";
  return `${failed.plugin}${failed.instance ? ` on ${failed.instance}` : ""}: ${failed.error?.message ?? "failed"}`;
}

/** One job as a table row (the page script renders the same cells from `/api/jobs`). */
export function jobRow(job: Job): Html {
  const instances = job.request.instances.map((instance) => instance.name).join(", ");
  return html`
    <tr data-job="${job.id}" data-state="${job.state}">
      <td><span class="state state-${job.state}">${job.state}</span>${job.dryRun
        ? html`
          <span class="badge">dry run</span>
        `
        : ""}</td>
      <td><a href="${jobHref(job.id)}">${job.request.context.path} · ${job.request.context.task}</a></td>
      <td>${instances}</td>
      <td>${job.host}</td>
      <td class="num">${progressText(job)}</td>
      <td><time>${formatDate(job.createdAt)}</time></td>
      <td class="error">${failureText(job)}</td>
    </tr>
  `;
}

/** What to say when no bridge serves FERRY_HOME. */
export function noBridge(home: string): Html {
  return html`
    <p class="empty"
      id="no-bridge">No bridge runs for FERRY_HOME <code>${home}</code>: start one with <code>deno task bridge</code> (DCC hosts start it themselves). This page shows its jobs as soon as it runs.</p>
  `;
}

/** The bridge's jobs, newest first; the page script keeps the table live. */
export function publishesPage(jobs: readonly Job[] | undefined, home: string): Html {
  return page(
    { title: "Publishes", section: "publishes", script: "publishes" },
    html`
      <h1>Publishes</h1>
      <p class="note" aria-live="polite" id="live-status">${jobs === undefined
        ? ""
        : `${jobs.length} job${jobs.length === 1 ? "" : "s"} on the bridge.`}</p>
      ${jobs === undefined ? noBridge(home) : ""}
      <div class="scroll" tabindex="0" role="region" aria-label="Jobs">
        <table class="jobs">
          <thead>
            <tr>
              <th scope="col">State</th>
              <th scope="col">Context · task</th>
              <th scope="col">Instances</th>
              <th scope="col">Host</th>
              <th scope="col">Progress</th>
              <th scope="col">Created</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody id="jobs">${(jobs ?? []).map(jobRow)}</tbody>
        </table>
      </div>
    `,
  );
}

function resultItem(result: Job["results"][number]): Html {
  return html`<li class="${result.success ? "ok" : "failed"}">
<span class="state state-${result.success ? "succeeded" : "failed"}">${result.success ? "ok" : "failed"}</span>
<strong>${result.plugin}</strong>${
    result.instance
      ? html`
        on <em>${result.instance}</em>
      `
      : ""
  } <span class="note">${Math.round(result.duration)} ms</span>
${
    result.error
      ? html`<p class="error">${result.error.message}</p>${
        result.error.stack
          ? html`
            <details>
              <summary>Stack</summary>
              <pre>${result.error.stack}</pre>
            </details>
          `
          : ""
      }`
      : ""
  }
${
    result.records.length
      ? html`<ul class="records">${
        result.records.map((record) => html`<li class="level-${record.level}">${record.level}: ${record.message}</li>`)
      }</ul>`
      : ""
  }
</li>`;
}

/** One job: its request, live state and progress, per-plugin results, and its report. */
export function jobPage(job: Job): Html {
  const { bytes, totalBytes } = job.progress;
  return page(
    { title: `Publish ${job.request.context.path}`, section: "publishes", script: "job" },
    html`
      <nav class="crumbs" aria-label="Path">
        <ol>
          <li><a href="/publishes">Publishes</a></li>
          <li><span aria-current="page">${job.id}</span></li>
        </ol>
      </nav>
      <h1>Publish to ${job.request.context.path} · ${job.request.context.task}</h1>
      <div id="job" data-job="${job.id}" data-state="${job.state}">
      <dl class="inline">
      <dt>State</dt><dd><span id="job-state" class="state state-${job.state}" aria-live="polite">${job
        .state}</span></dd>
      <dt>Host</dt><dd>${job.host}${job.dryRun ? " (dry run)" : ""}</dd>
      <dt>Instances</dt><dd>${job.request.instances.map((instance) =>
        `${instance.name} (${instance.family}, ${instance.files.length} path${instance.files.length === 1 ? "" : "s"})`
      )
        .join(", ")}</dd>
      <dt>Comment</dt><dd>${job.request.comment || "–"}</dd>
      <dt>Created</dt><dd><time>${formatDate(job.createdAt)}</time></dd>
      <dt>Finished</dt><dd><time id="job-finished">${formatDate(job.finishedAt)}</time></dd>
      <dt>Progress</dt><dd><progress id="job-progress" max="${Math.max(
        totalBytes,
        1,
      )}" value="${bytes}"></progress> <span id="job-bytes">${progressText(job)}</span></dd>
      </dl>
      ${FINAL.has(job.state) ? "" : html`
        <form class="actions" id="job-cancel" method="post"
          action="${jobHref(
            job.id,
          )}/cancel"><button type="submit">Cancel</button></form>
      `}
      <p id="job-error" class="error"${job.error ? "" : html`
        hidden
      `}>${job.error ?? ""}</p>
      ${job.versionIds.length
        ? html`<p>Versions: ${
          job.versionIds.map((id, index) =>
            html`
              <a href="/version/${id}">open version ${index + 1}</a>
            `
          )
        }</p>`
        : ""}
      <h2>Plugins</h2>
      <ol id="job-results" class="results">${job.results.map(resultItem)}</ol>
      ${FINAL.has(job.state) ? "" : html`
        <h2>Log</h2>
        <ol id="job-log" class="records" aria-live="off"></ol>
      `}
      <h2>Report</h2>
      ${job.report
        ? html`
          <details id="job-report">
            <summary>The publish report (JSON)</summary>
            <pre>${JSON.stringify(job.report, null, 2)}</pre>
          </details>
        `
        : html`<p class="empty" id="job-report-pending">The report comes when the job ends.</p>`}
      </div>
    `,
  );
}
