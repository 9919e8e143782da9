import { randomBytes } from "node:crypto";
import { EventSchema, type HubEvent, toWireEvent } from "../../src/events/event.ts";
import { ExpressionCache } from "../../src/events/subscription_expression.ts";

/** Who a connection belongs to. */
export interface HubUser {
  id: string;
  username: string;
}

interface Subscriber {
  metadata: Record<string, unknown>;
  subscription: string;
}

interface Connection {
  socket: WebSocket;
  user: HubUser;
  subscribers: Map<string, Subscriber>;
  heartbeat: ReturnType<typeof setInterval> | undefined;
}

/** Seconds announced in the handshake (heartbeat timeout and close timeout). */
const HANDSHAKE_TIMEOUT = 60;
/** Milliseconds between server heartbeats: well under the JavaScript client's 15 s timeout. */
export const HEARTBEAT_MS = 10_000;

/**
 * The event hub: the socket.io 0.9 subset both official ftrack clients speak. A handshake
 * (`GET /socket.io/1/`, authenticated) gives a session id; the WebSocket of that session then
 * sends `5:::` events, `ftrack.meta.subscribe` / `unsubscribe`, and heartbeats. Each event goes
 * once to every connection with a subscriber whose subscription matches the event and whose
 * metadata matches the event's target.
 */
export class EventHub {
  #sessions = new Map<string, { user: HubUser; expires: number }>();
  #connections = new Set<Connection>();
  #expressions = new ExpressionCache();
  /** Events published here are also given to these listeners (tests, in-process services). */
  readonly listeners = new Set<(event: HubEvent) => void>();

  /** Starts a session for an authenticated user; returns the handshake body `SID:60:60:websocket`. */
  handshake(user: HubUser): string {
    const sid = randomBytes(16).toString("hex");
    this.#sessions.set(sid, { user, expires: Date.now() + HANDSHAKE_TIMEOUT * 1000 });
    for (const [other, session] of this.#sessions) if (session.expires < Date.now()) this.#sessions.delete(other);
    return `${sid}:${HANDSHAKE_TIMEOUT}:${HANDSHAKE_TIMEOUT}:websocket`;
  }

  /** The user of a pending session, consuming it; undefined when unknown or expired. */
  claim(sid: string): HubUser | undefined {
    const session = this.#sessions.get(sid);
    this.#sessions.delete(sid);
    if (session === undefined || session.expires < Date.now()) return undefined;
    return session.user;
  }

  /** Serves an upgraded WebSocket for a claimed session. */
  accept(socket: WebSocket, user: HubUser): void {
    const connection: Connection = { socket, user, subscribers: new Map(), heartbeat: undefined };
    socket.onopen = () => {
      this.#connections.add(connection);
      socket.send("1::");
      connection.heartbeat = setInterval(() => this.#send(connection, "2::"), HEARTBEAT_MS);
    };
    socket.onmessage = (message) => {
      if (typeof message.data === "string") this.#receive(connection, message.data);
    };
    const drop = () => {
      clearInterval(connection.heartbeat);
      this.#connections.delete(connection);
    };
    socket.onclose = drop;
    socket.onerror = drop;
  }

  /** Whether a published event can reach anyone: a connected WebSocket or an in-process listener. */
  get hasAudience(): boolean {
    return this.#connections.size > 0 || this.listeners.size > 0;
  }

  /** How many WebSockets are connected. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Routes an event to every matching connection (the sender's included) and the listeners.
   * `tailor` gives the event as one user may receive it (undefined: not at all), e.g. without the
   * entities of private projects they have no access to; listeners get the event as published.
   */
  publish(event: HubEvent, tailor?: (user: HubUser, event: HubEvent) => HubEvent | undefined): void {
    const wire = toWireEvent(event);
    // Written once, and only when a connection wants it: a big batch's event is a large text.
    let frame: string | undefined;
    const frames = new Map<string, string | undefined>();
    const frameFor = (user: HubUser): string | undefined => {
      if (tailor === undefined) return frame ??= `5:::${JSON.stringify({ name: "ftrack.event", args: [wire] })}`;
      if (!frames.has(user.id)) {
        const tailored = tailor(user, wire);
        frames.set(
          user.id,
          tailored && `5:::${JSON.stringify({ name: "ftrack.event", args: [toWireEvent(tailored)] })}`,
        );
      }
      return frames.get(user.id);
    };
    for (const connection of this.#connections) {
      if (!this.#wants(connection, wire)) continue;
      const text = frameFor(connection.user);
      if (text !== undefined) this.#send(connection, text);
    }
    for (const listener of this.listeners) {
      try {
        listener(wire);
      } catch {
        // A listener's failure must not stop routing.
      }
    }
  }

  /** Closes every connection. */
  close(): void {
    for (const connection of this.#connections) {
      clearInterval(connection.heartbeat);
      try {
        connection.socket.close();
      } catch {
        // already closing
      }
    }
    this.#connections.clear();
    this.#sessions.clear();
  }

  #wants(connection: Connection, event: HubEvent): boolean {
    for (const subscriber of connection.subscribers.values()) {
      try {
        if (event.target !== "" && !this.#expressions.matches(event.target, subscriber.metadata)) continue;
        if (this.#expressions.matches(subscriber.subscription, event)) return true;
      } catch {
        // An unparsable target matches nobody.
      }
    }
    return false;
  }

  #send(connection: Connection, frame: string): void {
    if (connection.socket.readyState === WebSocket.OPEN) connection.socket.send(frame);
  }

  #receive(connection: Connection, frame: string): void {
    const first = frame.indexOf(":");
    const second = frame.indexOf(":", first + 1);
    const third = frame.indexOf(":", second + 1);
    if (first < 0 || second < 0) return;
    const type = frame.slice(0, first);
    const messageId = frame.slice(first + 1, second);
    const data = third < 0 ? "" : frame.slice(third + 1);
    if (type !== "5") return; // heartbeats (2) and anything else need no answer
    let result: { success: boolean; message?: string };
    try {
      result = this.#handleEvent(connection, JSON.parse(data));
    } catch (error) {
      result = { success: false, message: (error as Error).message };
    }
    // Python asks for an acknowledgement with data (`5:N+::`); it must hold exactly one object.
    if (messageId !== "") this.#send(connection, `6:::${messageId.replace(/\+$/, "")}+${JSON.stringify([result])}`);
  }

  #handleEvent(connection: Connection, packet: unknown): { success: boolean; message?: string } {
    const { name, args } = packet as { name?: unknown; args?: unknown };
    if (name !== "ftrack.event" || !Array.isArray(args) || args.length === 0) {
      return { success: false, message: "Expected an 'ftrack.event' packet with the event as its argument." };
    }
    const parsed = EventSchema.safeParse(args[0]);
    if (!parsed.success) {
      return {
        success: false,
        message: `Invalid event: ${
          parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")
        }`,
      };
    }
    const event = parsed.data;
    const data = (event.data ?? {}) as Record<string, unknown>;
    if (event.topic === "ftrack.meta.subscribe") {
      const subscriber = data.subscriber as Record<string, unknown> | undefined;
      const subscription = data.subscription;
      if (typeof subscriber?.id !== "string" || typeof subscription !== "string") {
        return { success: false, message: "A subscription needs data.subscriber.id and data.subscription." };
      }
      this.#expressions.get(subscription);
      connection.subscribers.set(subscriber.id, { metadata: subscriber, subscription });
      return { success: true };
    }
    if (event.topic === "ftrack.meta.unsubscribe") {
      const subscriber = data.subscriber as Record<string, unknown> | undefined;
      if (typeof subscriber?.id === "string") connection.subscribers.delete(subscriber.id);
      return { success: true };
    }
    const user = (event.source.user ?? {}) as Record<string, unknown>;
    event.source = { ...event.source, user: { ...user, username: connection.user.username, id: connection.user.id } };
    this.publish(event);
    return { success: true };
  }
}
