import { html } from "hono/html";
import type { StoredEvent } from "../../../src/store/mod.ts";
import { formatDate, type Html, page } from "../html_page.ts";
import type { ProcessorStatus } from "../processor_link.ts";

/** A link to an event's page. */
export const eventHref = (id: string) => `/events/${encodeURIComponent(id)}`;

/** The filters of the event log page. */
export interface EventFilters {
  topic?: string;
  status?: "pending" | "in_progress" | "finished" | "failed";
  project?: string;
  limit: number;
}

/** Queue figures from the store. */
export interface QueueFigures {
  /** Sources not yet handed out plus jobs waiting. */
  depth: number;
  /** Seconds from the last job's source being stored to the job starting. */
  lagSeconds: number | null;
  /** Age in seconds of the oldest job waiting to run. */
  oldestWaitingSeconds: number | null;
}

const what = (event: StoredEvent) => {
  const topic = (event.payload as { topic?: unknown } | null)?.topic;
  return typeof topic === "string" ? `${event.topic} (${topic})` : event.topic;
};

const seconds = (value: number | null) => value === null ? "–" : `${value.toFixed(value < 10 ? 1 : 0)} s`;

function filterForm(filters: EventFilters): Html {
  const statuses = ["", "pending", "in_progress", "finished", "failed"];
  return html`
    <form class="filters" method="get" action="/events">
      <label>Topic <input name="topic" value="${filters.topic ?? ""}" placeholder="tracker.proc"></label>
      <label>Status <select name="status">${statuses.map((status) =>
        html`
          <option value="${status}" ${filters.status === status ? " selected" : ""}>${status || "any"}</option>
        `
      )}</select></label>
      <label>Project <input name="project" value="${filters.project ?? ""}" placeholder="demo"></label>
      <button type="submit">Filter</button>
    </form>
  `;
}

/** The processor's own figures (from its /health and /metrics), or why there are none. */
function processorSection(status: ProcessorStatus): Html {
  if (status.kind === "absent") {
    return html`
      <p class="note"
        id="processor">No processor answers at <code>${status.url}</code> (${status
          .reason}): events wait until <code>deno task processor</code> runs.</p>
    `;
  }
  const { health, metrics } = status;
  const figure = (name: string) => metrics[name] ?? 0;
  return html`
    <dl class="inline figures" id="processor">
      <dt>Processor</dt>
      <dd>running at <code>${status.url}</code> (${health.variant}, ${health.handlers
        .length} handler${health.handlers.length === 1 ? "" : "s"}, since ${formatDate(health.startedAt)})</dd>
      <dt>Processed / failed</dt>
      <dd>${figure("ferry_processor_events_processed_total")} / ${figure("ferry_processor_events_failed_total")}</dd>
      <dt>In flight</dt>
      <dd>${figure("ferry_processor_jobs_in_flight")}</dd>
      <dt>Lag (processor)</dt>
      <dd id="processor-lag">${seconds(figure("ferry_processor_lag_seconds"))}, largest ${seconds(
        figure("ferry_processor_lag_seconds_max"),
      )}</dd>
    </dl>
  `;
}

/** The address of the event log with these filters and another limit. */
function filtersHref(filters: EventFilters, limit: number): string {
  const query = new URLSearchParams();
  if (filters.topic) query.set("topic", filters.topic);
  if (filters.status) query.set("status", filters.status);
  if (filters.project) query.set("project", filters.project);
  query.set("limit", String(limit));
  return `/events?${query}`;
}

/** The event log with filters, queue depth and lag. */
export function eventsPage(
  events: readonly StoredEvent[],
  options: { filters: EventFilters; queue: QueueFigures; where: string; processor?: ProcessorStatus },
): Html {
  const { filters, queue, where, processor } = options;
  return page(
    { title: "Events", section: "events" },
    html`
      <h1>Events</h1>
      <p class="note">The pipeline store at <code>${where}</code>.</p>
      <dl class="inline figures">
        <dt>Queue depth</dt>
        <dd id="queue-depth">${queue.depth}</dd>
        <dt>Lag (last job)</dt>
        <dd id="queue-lag">${seconds(queue.lagSeconds)}</dd>
        <dt>Oldest waiting</dt>
        <dd id="queue-oldest">${seconds(queue.oldestWaitingSeconds)}</dd>
      </dl>
      ${processor ? processorSection(processor) : ""}
      ${filterForm(filters)}
      ${events.length === 0 ? html`<p class="empty">No events match.</p>` : html`
        <div class="scroll" tabindex="0" role="region" aria-label="Events">
          <table class="events">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Topic</th>
                <th scope="col">Status</th>
                <th scope="col">Project</th>
                <th scope="col">Retries</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>${events.map((event) =>
              html`
                <tr data-event="${event.id}" data-status="${event.status}">
                  <td><a href="${eventHref(event.id)}"><time>${formatDate(event.createdAt)}</time></a></td>
                  <td>${what(event)}</td>
                  <td><span class="state state-${event.status}">${event.status}</span></td>
                  <td>${event.project ?? "–"}</td>
                  <td class="num">${event.retries}</td>
                  <td>${event.description}${event.error
                    ? html`<p class="error">${event.error.message.split("\n")[0]}</p>`
                    : ""}</td>
                </tr>
              `
            )}</tbody>
          </table>
        </div>
        ${events.length >= filters.limit && filters.limit < 1000
          ? html`<p class="more"><a href="${filtersHref(filters, Math.min(1000, filters.limit * 2))}">Show up to ${
            Math.min(1000, filters.limit * 2)
          } events</a></p>`
          : ""}
      `}
    `,
  );
}

/** One event: its fields, error and stack, payload, source and jobs, and Retry for a failed job. */
export function eventPage(
  event: StoredEvent,
  options: { source?: StoredEvent; jobs: readonly StoredEvent[]; retried?: boolean },
): Html {
  const { source, jobs, retried } = options;
  const retryable = event.dependsOn ? event.status === "failed" : jobs.some((job) => job.status === "failed");
  return page(
    {
      title: `Event ${event.topic}`,
      section: "events",
      // A job that waits or runs is followed live until it ends.
      ...(event.status === "pending" || event.status === "in_progress" ? { script: "event" } : {}),
    },
    html`
      <nav class="crumbs" aria-label="Path">
        <ol>
          <li><a href="/events">Events</a></li>
          <li><span aria-current="page">${event.id}</span></li>
        </ol>
      </nav>
      <h1>${source ? `${event.topic} of ${what(source)}` : what(event)}</h1>
      ${retried
        ? html`<p class="notice" role="status">Retry requested: the job is pending again; the processor runs it next.</p>`
        : ""}
      <dl class="inline">
      <dt>Status</dt><dd><span id="event-status" data-event="${event.id}" aria-live="polite" class="state state-${event
        .status}">${event.status}</span></dd>
      <dt>Project</dt><dd>${event.project ?? "–"}</dd>
      <dt>Sender</dt><dd>${event.sender ?? "–"}${event.senderType ? ` (${event.senderType})` : ""}</dd>
      <dt>Retries</dt><dd>${event.retries}</dd>
      <dt>Created</dt><dd><time>${formatDate(event.createdAt)}</time></dd>
      <dt>Updated</dt><dd><time>${formatDate(event.updatedAt)}</time></dd>
      <dt>Description</dt><dd>${event.description || "–"}</dd>
      ${event.holder
        ? html`
          <dt>Held by</dt>
          <dd>${event.holder}</dd>
        `
        : ""}
      </dl>
      ${retryable
        ? html`<form class="actions" method="post" action="${
          eventHref(event.id)
        }/retry"><button type="submit" id="retry">Retry</button></form>`
        : ""}
      ${event.error
        ? html`<h2>Error</h2><p class="error" id="event-error">${event.error.message}</p>${
          event.error.stack ? html`<pre class="stack">${event.error.stack}</pre>` : ""
        }`
        : ""}
      ${source
        ? html`
          <h2>Source event</h2>
          <p><a href="${eventHref(source.id)}">${what(source)}</a> · ${source.status}</p>
        `
        : ""}
      ${jobs.length
        ? html`
          <h2>Jobs</h2>
          <ul>${jobs.map((job) =>
            html`<li><a href="${
              eventHref(job.id)
            }">${job.topic}</a> · <span class="state state-${job.status}">${job.status}</span>${
              job.error
                ? html`
                  · <span class="error">${job.error.message.split("\n")[0]}</span>
                `
                : ""
            }</li>`
          )}</ul>
        `
        : ""}
      <h2>Payload</h2>
      <pre>${JSON.stringify(event.payload, null, 2)}</pre>
    `,
  );
}

/** What to say when there is no pipeline store yet. */
export function noStorePage(where: string): Html {
  return page(
    { title: "Events", section: "events" },
    html`
      <h1>Events</h1>
      <p
        class="empty">No pipeline store at <code>${where}</code> yet: the event services (<code>deno task leecher</code>, <code>deno task processor</code>) make it when they first run, or set <code>FERRY_STORE</code>.</p>
    `,
  );
}
