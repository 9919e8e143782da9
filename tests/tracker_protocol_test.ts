/**
 * The embedded tracker on the wire, as the Python client (which cannot be installed here) speaks
 * to it: raw HTTP and socket.io 0.9 frames, per the protocol spec, plus security and robustness.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryTracker } from "./_tracker.ts";
import { startTracker } from "../services/tracker/server.ts";

type Running = Awaited<ReturnType<typeof memoryTracker>>;

function api(running: Running, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${running.url}/api`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "ftrack-user": running.apiUser,
      "ftrack-api-key": running.apiKey,
      "ftrack-strict-api": "false",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function apiJson(
  running: Running,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown }> {
  const response = await api(running, body, headers);
  return { status: response.status, json: await response.json() };
}

/** A raw socket.io 0.9 client, the way the Python client connects (credentials on the handshake only). */
class RawSocket {
  frames: string[] = [];
  #waiters: Array<() => void> = [];
  readonly socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.onmessage = (message) => {
      this.frames.push(String(message.data));
      for (const waiter of this.#waiters.splice(0)) waiter();
    };
  }

  static async connect(running: Running, user = running.apiUser, key = running.apiKey): Promise<RawSocket> {
    const response = await fetch(`${running.url}/socket.io/1/`, {
      headers: { "ftrack-user": user, "ftrack-api-key": key },
    });
    const body = await response.text();
    strictEqual(response.status, 200, body);
    const [sid, heartbeat, close, transports] = body.split(":");
    strictEqual(heartbeat, "60");
    strictEqual(close, "60");
    ok(transports!.split(",").includes("websocket"));
    const socket = new WebSocket(`${running.url.replace("http", "ws")}/socket.io/1/websocket/${sid}`);
    const raw = new RawSocket(socket);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    await raw.next((frame) => frame === "1::");
    return raw;
  }

  send(frame: string): void {
    this.socket.send(frame);
  }

  /** The first received frame (not yet taken) that satisfies `test`; waits up to 5 s. */
  async next(test: (frame: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const at = this.frames.findIndex(test);
      if (at >= 0) return this.frames.splice(at, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`No matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Events received so far (parsed), removing their frames. */
  events(): Array<Record<string, unknown>> {
    const events = this.frames.filter((frame) => frame.startsWith("5:::")).map((frame) =>
      JSON.parse(frame.slice(4)).args[0]
    );
    this.frames = this.frames.filter((frame) => !frame.startsWith("5:::"));
    return events;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.onclose = () => resolve();
      this.socket.close();
    });
  }
}

let packetId = 0;
function eventFrame(event: Record<string, unknown>): string {
  return `5:${++packetId}+::${JSON.stringify({ name: "ftrack.event", args: [event] })}`;
}
function pyEvent(topic: string, data: unknown, extra: Record<string, unknown> = {}) {
  return {
    topic,
    data,
    id: randomUUID().replaceAll("-", ""),
    source: { id: "py-hub", user: { username: "x" } },
    target: "",
    inReplyToEvent: null,
    sent: null,
    ...extra,
  };
}

Deno.test("socket.io: the Python handshake, subscribe acks, routing by expression and target, seven wire keys", async () => {
  await using running = await memoryTracker();
  const publisher = await RawSocket.connect(running);
  const listener = await RawSocket.connect(running);
  try {
    // Python asks for an acknowledgement with data and needs exactly one object in it.
    listener.send(eventFrame(pyEvent("ftrack.meta.subscribe", {
      subscriber: { id: "sub-1", applicationId: "py" },
      subscription: "topic=ferry.* and data.kind=ping and not source.user.username=nobody",
    })));
    const ack = await listener.next((frame) => frame.startsWith("6:::"));
    strictEqual(ack, `6:::${packetId}+[{"success":true}]`);
    // A second subscriber on the same connection matching too: still one delivery per connection.
    listener.send(
      eventFrame(pyEvent("ftrack.meta.subscribe", { subscriber: { id: "sub-2" }, subscription: "topic=ferry.test" })),
    );
    await listener.next((frame) => frame.startsWith("6:::"));
    listener.send("2:::"); // Python's heartbeat reply form

    publisher.send(eventFrame(pyEvent("ferry.test", { kind: "ping", n: "7" })));
    await publisher.next((frame) => frame.startsWith("6:::"));
    const firstDelivery = await listener.next((frame) => frame.startsWith("5:::"));
    strictEqual(JSON.parse(firstDelivery.slice(4)).args[0].data.n, "7");
    await new Promise((resolve) => setTimeout(resolve, 100));
    strictEqual(listener.events().length, 0, "delivered once per connection although two subscribers match");
    publisher.send(eventFrame(pyEvent("ferry.test", { kind: "ping", n: "8" })));
    const frame = await listener.next((candidate) => candidate.startsWith("5:::"));
    const wire = JSON.parse(frame.slice(4));
    strictEqual(wire.name, "ftrack.event");
    deepStrictEqual(Object.keys(wire.args[0]), ["topic", "id", "data", "source", "target", "inReplyToEvent", "sent"]);
    strictEqual(wire.args[0].source.user.username, running.apiUser, "the hub sets the authenticated user");
    strictEqual(wire.args[0].source.id, "py-hub");

    // A non-matching event is not delivered; a targeted event reaches only the matching subscriber metadata.
    publisher.send(eventFrame(pyEvent("ferry.test", { kind: "pong" }, { target: "id=sub-2" })));
    await listener.next((candidate) => candidate.startsWith("5:::") && candidate.includes('"pong"'));
    publisher.send(eventFrame(pyEvent("ferry.test", { kind: "ping" }, { target: "id=somebody-else" })));
    publisher.send(eventFrame(pyEvent("other.topic", { kind: "ping" })));
    await new Promise((resolve) => setTimeout(resolve, 200));
    strictEqual(listener.events().length, 0);

    // Unsubscribe is acknowledged and stops delivery.
    listener.send(eventFrame(pyEvent("ftrack.meta.unsubscribe", { subscriber: { id: "sub-1" } })));
    listener.send(eventFrame(pyEvent("ftrack.meta.unsubscribe", { subscriber: { id: "sub-2" } })));
    await listener.next((candidate) => candidate.startsWith("6:::"));
    await listener.next((candidate) => candidate.startsWith("6:::"));
    publisher.send(eventFrame(pyEvent("ferry.test", { kind: "ping" })));
    await new Promise((resolve) => setTimeout(resolve, 200));
    strictEqual(listener.events().length, 0);

    // A bad subscription is refused in the ack, not by dropping the connection.
    listener.send(eventFrame(pyEvent("ftrack.meta.subscribe", { subscriber: { id: "bad" }, subscription: "topic=" })));
    const refused = await listener.next((candidate) => candidate.startsWith("6:::"));
    ok(refused.includes('"success":false'), refused);
  } finally {
    await publisher.close();
    await listener.close();
  }
});

Deno.test("socket.io: the hub refuses bad credentials and unknown sessions", async () => {
  await using running = await memoryTracker();
  const handshake = await fetch(`${running.url}/socket.io/1/`, {
    headers: { "ftrack-user": running.apiUser, "ftrack-api-key": "wrong" },
  });
  strictEqual(handshake.status, 401);
  await handshake.body?.cancel();
  const query = await fetch(`${running.url}/socket.io/1/?api_user=${running.apiUser}&api_key=${running.apiKey}`);
  strictEqual(query.status, 200, "the JavaScript client's query-string credentials work");
  await query.body?.cancel();
  const socket = await fetch(`${running.url}/socket.io/1/websocket/not-a-session`, {
    headers: { upgrade: "websocket" },
  });
  strictEqual(socket.status, 401);
  await socket.body?.cancel();
});

Deno.test("API: credentials on every call, error objects the clients decode, strict mode status codes", async () => {
  await using running = await memoryTracker();
  const anonymous = await fetch(`${running.url}/api`, { method: "POST", body: "[]" });
  strictEqual(anonymous.status, 401);
  const body = await anonymous.json() as Record<string, unknown>;
  strictEqual(body.exception, "FTAuthenticationError");
  deepStrictEqual(Object.keys(body).sort(), ["content", "error_code", "exception"]);
  const loose = await apiJson(running, [{ action: "fly" }]);
  strictEqual(loose.status, 200);
  strictEqual((loose.json as { content: string }).content, "Invalid action u'fly'");
  const strict = await apiJson(running, [{ action: "fly" }], { "ftrack-strict-api": "true" });
  strictEqual(strict.status, 400);
  const notJson = await apiJson(running, "[{");
  strictEqual((notJson.json as { exception: string }).exception, "ValidationError");
  const notList = await apiJson(running, { action: "query" });
  ok(/list of operations/.test((notList.json as { content: string }).content));
  const info = await apiJson(running, [{ action: "query_server_information" }]);
  const [server] = info.json as Array<Record<string, unknown>>;
  strictEqual(server!.version, "4.13.0");
  strictEqual(server!.is_timezone_support_enabled, true);
  deepStrictEqual(server!.storage_scenario, { scenario: "ftrack.automatic", data: {} });
});

Deno.test("API: Python-style creates with entity_key and separate relation updates; datetimes in UTC", async () => {
  await using running = await memoryTracker();
  const [schema] =
    ((await apiJson(running, [{ action: "query", expression: "select id from ProjectSchema" }])).json as Array<
      { data: Array<{ id: string }> }
    >)[0]!.data;
  const projectId = randomUUID();
  const shotId = randomUUID();
  const result = await apiJson(running, [
    {
      action: "create",
      entity_type: "Project",
      entity_key: [projectId],
      entity_data: {
        __entity_type__: "Project",
        id: projectId,
        name: "py",
        full_name: "py",
        project_schema_id: schema!.id,
      },
    },
    {
      action: "create",
      entity_type: "Shot",
      entity_key: [shotId],
      entity_data: {
        __entity_type__: "Shot",
        id: shotId,
        name: "sh010",
        start_date: { __type__: "datetime", value: "2024-03-01T10:00:00+02:00" },
      },
    },
    {
      action: "update",
      entity_type: "Shot",
      entity_key: [shotId],
      entity_data: { __entity_type__: "Shot", parent: { __entity_type__: "Project", id: projectId } },
    },
    { action: "query", expression: `select start_date, project_id, parent.name from Shot where id is "${shotId}"` },
  ]);
  const answers = result.json as Array<Record<string, unknown>>;
  ok(Array.isArray(answers), JSON.stringify(result.json));
  deepStrictEqual(answers.map((answer) => answer.action), ["create", "create", "update", "query"]);
  const shot = (answers[3]!.data as Array<Record<string, unknown>>)[0]!;
  deepStrictEqual(shot.start_date, { __type__: "datetime", value: "2024-03-01T08:00:00" });
  strictEqual(shot.project_id, projectId);
  strictEqual((shot.parent as { name: string }).name, "py");
});

Deno.test("files: signed upload URLs work once, expire, check size and MD5; data URLs need credentials", async () => {
  await using running = await memoryTracker();
  const componentId = randomUUID(); // not created yet: the Python client asks before committing
  const bytes = new TextEncoder().encode("frame data ".repeat(1000));
  const md5 = createHash("md5").update(bytes).digest("base64");
  const grant = async (size: number, checksum?: string) => {
    const { json } = await apiJson(running, [{
      action: "get_upload_metadata",
      component_id: componentId,
      file_name: "a.exr",
      file_size: size,
      checksum,
    }]);
    return (json as Array<{ url: string; headers: Record<string, string>; component_id: string }>)[0]!;
  };
  const wrongSize = await grant(bytes.length + 1);
  const tooShort = await fetch(wrongSize.url, { method: "PUT", body: bytes });
  strictEqual(tooShort.status, 400);
  ok(/announced/.test(await tooShort.text()));
  const wrongMd5 = await grant(bytes.length, createHash("md5").update("other").digest("base64"));
  const mismatch = await fetch(wrongMd5.url, { method: "PUT", body: bytes, headers: wrongMd5.headers });
  strictEqual(mismatch.status, 400);
  await mismatch.body?.cancel();
  strictEqual(running.tracker.files.has(componentId), false, "nothing kept from refused uploads");

  const good = await grant(bytes.length, md5);
  strictEqual(good.headers["Content-MD5"], md5);
  ok(good.url.startsWith(`${running.url}/upload/`));
  const put = await fetch(good.url, { method: "PUT", body: bytes, headers: good.headers });
  strictEqual(put.status, 200);
  strictEqual(put.headers.get("etag"), `"${createHash("md5").update(bytes).digest("hex")}"`);
  await put.body?.cancel();
  const again = await fetch(good.url, { method: "PUT", body: bytes });
  strictEqual(again.status, 404, "a signed URL works once");
  await again.body?.cancel();
  const expiredToken = running.tracker.files.grant(componentId, bytes.length, undefined, -1);
  const expired = await fetch(`${running.url}/upload/${expiredToken}`, { method: "PUT", body: bytes });
  strictEqual(expired.status, 403);
  await expired.body?.cancel();

  const anonymous = await fetch(`${running.url}/component/get?id=${componentId}`);
  strictEqual(anonymous.status, 401);
  await anonymous.body?.cancel();
  const credentials = `username=${running.apiUser}&apiKey=${running.apiKey}`;
  const download = await fetch(`${running.url}/component/get?id=${componentId}&${credentials}`);
  deepStrictEqual(new Uint8Array(await download.arrayBuffer()), bytes);
  const thumbnail = await fetch(`${running.url}/component/thumbnail?id=${componentId}&size=300&${credentials}`);
  strictEqual(thumbnail.status, 200);
  await thumbnail.body?.cancel();
  const anonymousRemove = await fetch(`${running.url}/component/remove?id=${componentId}`);
  strictEqual(anonymousRemove.status, 401);
  await anonymousRemove.body?.cancel();
  const removed = await fetch(`${running.url}/component/remove?id=${componentId}&${credentials}`);
  strictEqual(removed.status, 200);
  await removed.body?.cancel();
  const gone = await fetch(`${running.url}/component/get?id=${componentId}&${credentials}`);
  strictEqual(gone.status, 404);
  await gone.body?.cancel();
});

Deno.test("reset_remote gives a new API key; the old one stops working", async () => {
  await using running = await memoryTracker();
  const { user, apiKey } = running.tracker.addUser({ username: "render-farm" });
  const { json } = await apiJson(running, [{
    action: "reset_remote",
    reset_type: "api_key",
    entity_type: "User",
    entity_key: user.id,
  }]);
  const fresh = (json as Array<{ data: { api_key: string } }>)[0]!.data.api_key;
  ok(fresh && fresh !== apiKey);
  strictEqual(running.tracker.authenticate("render-farm", apiKey), undefined);
  strictEqual(running.tracker.authenticate("render-farm", fresh)?.id, user.id);
});

Deno.test("state persists in the data folder: entities, files and the API key survive a restart", async () => {
  const data = await mkdtemp(join(tmpdir(), "ferry-tracker-data-"));
  try {
    let key: string;
    {
      await using first = await startTracker({ port: 0, data, apiUser: "pipeline", apiKey: "fixed-key-for-ci" });
      key = first.apiKey;
      strictEqual(key, "fixed-key-for-ci");
      const [schema] =
        ((await apiJson(first, [{ action: "query", expression: "select id from ProjectSchema" }])).json as Array<
          { data: Array<{ id: string }> }
        >)[0]!.data;
      await apiJson(first, [{
        action: "create",
        entity_type: "Project",
        entity_data: { name: "kept", project_schema_id: schema!.id },
      }]);
      first.tracker.files.grant("unused", 1);
    }
    await using second = await startTracker({ port: 0, data });
    strictEqual(second.apiUser, "pipeline");
    strictEqual(second.tracker.authenticate("pipeline", key)?.username, "pipeline", "the given key is kept (hashed)");
    const { json } = await apiJson(second, [{
      action: "query",
      expression: 'select name from Project where name is "kept"',
    }]);
    strictEqual((json as Array<{ data: unknown[] }>)[0]!.data.length, 1);
    const locations = await apiJson(second, [{ action: "query", expression: "select id from Location" }]);
    strictEqual((locations.json as Array<{ data: unknown[] }>)[0]!.data.length, 5, "not seeded twice");
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});

Deno.test("fuzz: random and truncated queries and bodies get an error object, never a crash", async () => {
  await using running = await memoryTracker();
  let state = 42;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const pieces = [
    "select",
    "from",
    "where",
    "Shot",
    "Task",
    "name",
    "parent.name",
    "is",
    "is_not",
    "in",
    "not_in",
    "(",
    ")",
    ",",
    "'x'",
    '"y"',
    "and",
    "or",
    "not",
    "has",
    "any",
    "like",
    "order",
    "by",
    "desc",
    "offset",
    "limit",
    "1",
    "-2",
    "{",
    "}",
    "=",
    "!=",
    ">=",
    "<",
    "none",
    "True",
    "children",
    "custom_attributes",
    "link",
    "metadata",
    "'",
    '"',
    "\\",
    "%",
    "select name from",
  ];
  const good =
    "select name, parent.name from Shot where parent has (name is 'sq010') order by name desc offset 0 limit 5";
  const bodies: string[] = [];
  for (let i = 0; i < 300; i++) {
    const words = Array.from(
      { length: 1 + Math.floor(random() * 12) },
      () => pieces[Math.floor(random() * pieces.length)],
    );
    bodies.push(JSON.stringify([{ action: "query", expression: words.join(random() < 0.3 ? "" : " ") }]));
  }
  for (let cut = 1; cut < good.length; cut += 3) {
    bodies.push(JSON.stringify([{ action: "query", expression: good.slice(0, cut) }]));
  }
  const whole = JSON.stringify([{ action: "create", entity_type: "Shot", entity_data: { name: "x" } }, {
    action: "query",
    expression: good,
  }]);
  for (let cut = 0; cut < whole.length; cut += 5) bodies.push(whole.slice(0, cut));
  bodies.push(
    "null",
    "{}",
    "[1]",
    '[{"action": 5}]',
    '[{"action": "create"}]',
    '[{"action": "update", "entity_type": "Shot", "entity_key": {}}]',
    "\u0000\u0001",
  );
  for (const body of bodies) {
    const response = await api(running, body);
    const json = await response.json().catch(() => undefined);
    ok(json !== undefined, `non-JSON answer to ${body}`);
    if (!Array.isArray(json)) {
      ok(
        typeof json.exception === "string" && typeof json.content === "string",
        `not an error object for ${body}: ${JSON.stringify(json)}`,
      );
      ok(!/[{}]/.test(json.content), `braces in ${json.content}`);
    }
  }
  const still = await apiJson(running, [{ action: "query", expression: "select name from Location" }]);
  strictEqual((still.json as Array<{ data: unknown[] }>)[0]!.data.length, 5, "the server still answers");
});
