/**
 * The web view's page script (bundled with esbuild into `/assets/app.js`): keeps the Publishes
 * table and a job's page live. Everything else is server-rendered HTML.
 *
 * @module
 */
import type { DomCss, DomDocument, DomElement, DomProgress } from "./_dom.ts";

declare const document: DomDocument;
declare const CSS: DomCss;

interface JobView {
  id: string;
  state: string;
  host: string;
  dryRun: boolean;
  request: { context: { path: string; task: string }; instances: Array<{ name: string }> };
  createdAt: string;
  finishedAt: string | null;
  progress: { bytes: number; totalBytes: number };
  results: ResultView[];
  error: string | null;
}

interface ResultView {
  plugin: string;
  instance: string | null;
  success: boolean;
  error: { message: string; stack?: string } | null;
  records: Array<{ level: string; message: string }>;
  duration: number;
}

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

function element(
  tag: string,
  options: { text?: string; className?: string; attrs?: Record<string, string> } = {},
  ...children: Array<DomElement | string>
): DomElement {
  const node = document.createElement(tag);
  if (options.text !== undefined) node.textContent = options.text;
  if (options.className) node.className = options.className;
  for (const [name, value] of Object.entries(options.attrs ?? {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

function formatDate(value: string | null): string {
  if (!value) return "–";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function progressText(state: string, progress: { bytes: number; totalBytes: number }): string {
  if (progress.totalBytes <= 0) return FINAL.has(state) ? "–" : "…";
  return `${formatBytes(progress.bytes)} / ${formatBytes(progress.totalBytes)} (${
    Math.floor((progress.bytes / progress.totalBytes) * 100)
  }%)`;
}

/** Why a job failed, naming the plugin and the instance (as the server renders it). */
function failureText(job: JobView): string {
  const failed = job.results.find((result) => !result.success);
  if (!failed) return job.error ?? "";
  return `${failed.plugin}${failed.instance ? ` on ${failed.instance}` : ""}: ${failed.error?.message ?? "failed"}`;
}

function jobRow(job: JobView): DomElement {
  const state = element("td", {}, element("span", { text: job.state, className: `state state-${job.state}` }));
  if (job.dryRun) state.append(" ", element("span", { text: "dry run", className: "badge" }));
  const link = element("a", {
    text: `${job.request.context.path} · ${job.request.context.task}`,
    attrs: { href: `/publishes/${encodeURIComponent(job.id)}` },
  });
  return element(
    "tr",
    { attrs: { "data-job": job.id, "data-state": job.state } },
    state,
    element("td", {}, link),
    element("td", { text: job.request.instances.map((instance) => instance.name).join(", ") }),
    element("td", { text: job.host }),
    element("td", { text: progressText(job.state, job.progress), className: "num" }),
    element("td", {}, element("time", { text: formatDate(job.createdAt) })),
    element("td", { text: failureText(job), className: "error" }),
  );
}

/** The Publishes table: the jobs again every second, rows replaced only when they changed. */
function livePublishes(): void {
  const body = document.getElementById("jobs");
  const status = document.getElementById("live-status");
  if (!body) return;
  const seen = new Map<string, string>();
  let focusedJob: string | undefined;
  const refresh = async () => {
    try {
      const response = await fetch("/api/jobs", { headers: { accept: "application/json" } });
      if (!response.ok) {
        const problem = await response.json().catch(() => undefined) as { error?: { message?: string } } | undefined;
        if (status) status.textContent = problem?.error?.message ?? `The bridge answered ${response.status}`;
        return;
      }
      document.getElementById("no-bridge")?.remove();
      const { jobs } = await response.json() as { jobs: JobView[] };
      if (status) status.textContent = `${jobs.length} job${jobs.length === 1 ? "" : "s"} on the bridge.`;
      const active = document.activeElement?.closest("tr")?.getAttribute("data-job") ?? undefined;
      focusedJob = active ?? focusedJob;
      const rows: DomElement[] = [];
      for (const job of jobs) {
        const key = JSON.stringify([job.state, job.progress, job.error, job.results.length]);
        const existing = body.querySelector(`tr[data-job="${CSS.escape(job.id)}"]`);
        if (existing && seen.get(job.id) === key) rows.push(existing);
        else rows.push(jobRow(job));
        seen.set(job.id, key);
      }
      const changed = rows.length !== body.children.length || rows.some((row, index) => body.children[index] !== row);
      if (changed) {
        body.replaceChildren(...rows);
        if (active) body.querySelector(`tr[data-job="${CSS.escape(active)}"] a`)?.focus();
      }
    } catch (error) {
      if (status) status.textContent = `Cannot reach the web view: ${error}`;
    }
  };
  setInterval(refresh, 1000);
  void refresh();
}

function resultItem(result: ResultView): DomElement {
  const item = element(
    "li",
    { className: result.success ? "ok" : "failed" },
    element("span", {
      text: result.success ? "ok" : "failed",
      className: `state state-${result.success ? "succeeded" : "failed"}`,
    }),
    " ",
    element("strong", { text: result.plugin }),
  );
  if (result.instance) item.append(" on ", element("em", { text: result.instance }));
  item.append(" ", element("span", { text: `${Math.round(result.duration)} ms`, className: "note" }));
  if (result.error) {
    item.append(element("p", { text: result.error.message, className: "error" }));
    if (result.error.stack) {
      item.append(
        element("details", {}, element("summary", { text: "Stack" }), element("pre", { text: result.error.stack })),
      );
    }
  }
  if (result.records.length) {
    item.append(
      element(
        "ul",
        { className: "records" },
        ...result.records.map((record) =>
          element("li", { text: `${record.level}: ${record.message}`, className: `level-${record.level}` })
        ),
      ),
    );
  }
  return item;
}

/** A job's page: its events from the bridge (through the view) as they come; the report at the end. */
function liveJob(): void {
  const root = document.getElementById("job");
  const id = root?.dataset.job;
  if (!root || !id || FINAL.has(root.dataset.state ?? "")) return;
  const stateNode = document.getElementById("job-state")!;
  const results = document.getElementById("job-results")!;
  const log = document.getElementById("job-log");
  const bar = document.getElementById("job-progress") as DomProgress | null;
  const bytes = document.getElementById("job-bytes");
  results.replaceChildren(); // the stream replays every result from the start
  const source = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
  source.addEventListener("state", (event) => {
    const data = JSON.parse((event as MessageEvent).data) as { state: string; error?: string | null };
    stateNode.textContent = data.state;
    stateNode.className = `state state-${data.state}`;
    root.dataset.state = data.state;
    if (data.error) {
      const error = document.getElementById("job-error")!;
      error.textContent = data.error;
      error.hidden = false;
    }
    if (FINAL.has(data.state)) {
      document.getElementById("job-cancel")?.remove();
      source.close();
      // The report and the versions are on the server-rendered page.
      setTimeout(() => location.reload(), 300);
    }
  });
  source.addEventListener("result", (event) => {
    results.append(resultItem(JSON.parse((event as MessageEvent).data) as ResultView));
  });
  source.addEventListener("progress", (event) => {
    const data = JSON.parse((event as MessageEvent).data) as { bytes: number; totalBytes: number };
    if (bar) {
      bar.max = Math.max(1, data.totalBytes);
      bar.value = data.bytes;
    }
    if (bytes) bytes.textContent = progressText("running", data);
  });
  source.addEventListener("log", (event) => {
    const data = JSON.parse((event as MessageEvent).data) as { level: string; message: string; plugin?: string };
    log?.append(element("li", {
      text: `${data.level}: ${data.plugin ? `[${data.plugin}] ` : ""}${data.message}`,
      className: `level-${data.level}`,
    }));
  });
}

/** An event's page while its job waits or runs: the status every second; the page again when it ends. */
function liveEvent(): void {
  const status = document.getElementById("event-status");
  const id = status?.dataset.event;
  if (!status || !id) return;
  const timer = setInterval(async () => {
    try {
      const response = await fetch(`/api/events/${encodeURIComponent(id)}`, {
        headers: { accept: "application/json" },
      });
      if (!response.ok) return;
      const { event } = await response.json() as { event: { status: string } };
      status.textContent = event.status;
      status.className = `state state-${event.status}`;
      if (event.status === "finished" || event.status === "failed") {
        clearInterval(timer);
        location.replace(location.pathname); // the error, the jobs and the Retry button as they are now
      }
    } catch {
      // The view restarts or the network blinks: the next tick tries again.
    }
  }, 1000);
}

const pageName = document.body.dataset.page;
if (pageName === "publishes") livePublishes();
if (pageName === "job") liveJob();
if (pageName === "event") liveEvent();
