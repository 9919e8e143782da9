import { Session } from "@ftrack/api";
import { type RunningTracker, startTracker } from "../services/tracker/server.ts";

/** A tracker on a free port with nothing on disk, closed when disposed. */
export function memoryTracker(options: { data?: string } = {}): Promise<RunningTracker> {
  return startTracker({ port: 0, data: options.data ?? ":memory:" });
}

/** An official-client session against a running tracker (event hub off unless asked). */
export async function openSession(
  running: { url: string; apiUser: string; apiKey: string },
  options: { eventHub?: boolean; apiUser?: string; apiKey?: string } = {},
): Promise<Session> {
  const session = new Session(running.url, options.apiUser ?? running.apiUser, options.apiKey ?? running.apiKey, {
    autoConnectEventHub: options.eventHub ?? false,
  });
  await session.initializing;
  return session;
}

/** An official-client session on the event hub as `apiUser`, disconnected from the hub when disposed. */
export async function hubSession(
  running: { url: string; apiUser: string; apiKey: string },
  apiUser: string,
  apiKey: string,
): Promise<Session & Disposable> {
  const session = await openSession(running, { eventHub: true, apiUser, apiKey });
  return Object.assign(session, { [Symbol.dispose]: () => session.eventHub.disconnect() });
}

/** A project with a sequence, a shot and a lighting task, made through the official client. */
export async function makeShot(session: Session, name = "demo") {
  const schema = (await session.query("select id from ProjectSchema")).data[0]!;
  const project = (await session.create("Project", { name, full_name: name, project_schema_id: schema.id })).data;
  const sequence = (await session.create("Sequence", { name: "sq010", parent_id: project.id })).data;
  const shot = (await session.create("Shot", { name: "sh010", parent_id: sequence.id })).data;
  const task = (await session.create("Task", { name: "lighting", parent_id: shot.id })).data;
  return { project, sequence, shot, task };
}
