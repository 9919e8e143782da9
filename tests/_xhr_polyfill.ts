/**
 * A minimal XMLHttpRequest on top of `fetch`, enough for `@ftrack/api`'s uploader (which needs XHR
 * for upload progress, and Deno and Node have none): `open`, `setRequestHeader`, `send`, `abort`,
 * `upload` progress listeners, `onload` / `onerror` / `onabort` / `onreadystatechange`, `status`,
 * `response` and `getResponseHeader`.
 */
/** The progress events listeners get (the multi-part uploader reads `type` and `loaded`). */
type ProgressEvent = { type: string; loaded: number; total: number; lengthComputable: boolean };
type Listener = (event: ProgressEvent) => void;

export class FetchXMLHttpRequest {
  readyState = 0;
  status = 0;
  response: unknown = null;
  responseText = "";
  timeout = 0;
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onreadystatechange: (() => void) | null = null;
  readonly upload = {
    listeners: [] as Listener[],
    addEventListener(type: string, listener: Listener) {
      if (type === "progress") this.listeners.push(listener);
    },
  };
  #method = "GET";
  #url = "";
  #headers = new Headers();
  #responseHeaders = new Headers();
  #controller = new AbortController();
  #listeners = new Map<string, Array<Listener>>();

  open(method: string, url: string): void {
    this.#method = method;
    this.#url = url;
    this.readyState = 1;
  }

  setRequestHeader(name: string, value: string): void {
    this.#headers.set(name, value);
  }

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  getResponseHeader(name: string): string | null {
    return this.#responseHeaders.get(name);
  }

  abort(): void {
    this.#controller.abort();
  }

  send(body?: BodyInit | null): void {
    const total = body instanceof Blob ? body.size : 0;
    fetch(this.#url, {
      method: this.#method,
      headers: this.#headers,
      body: body ?? null,
      signal: this.#controller.signal,
    })
      .then(async (response) => {
        this.status = response.status;
        this.#responseHeaders = response.headers;
        this.responseText = await response.text();
        this.response = this.responseText;
        // As in a browser, each request's events come in a task of their own (the multi-part
        // uploader counts its open connections between them).
        await new Promise((resolve) => setTimeout(resolve, 0));
        const progress = { loaded: total, total, lengthComputable: true };
        for (const listener of this.upload.listeners) listener({ type: "progress", ...progress });
        this.readyState = 4;
        this.onreadystatechange?.();
        this.onload?.();
        for (const listener of this.#listeners.get("loadend") ?? []) listener({ type: "loadend", ...progress });
      })
      .catch((error: unknown) => {
        this.readyState = 4;
        if ((error as Error).name === "AbortError") this.onabort?.();
        else this.onerror?.();
        const ended = { type: "loadend", loaded: 0, total, lengthComputable: true };
        for (const listener of this.#listeners.get("loadend") ?? []) listener(ended);
      });
  }
}

/** Installs the polyfill as the global XMLHttpRequest (once). */
export function installXhrPolyfill(): void {
  (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest ??= FetchXMLHttpRequest;
}
