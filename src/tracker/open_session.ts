import { Session } from "@ftrack/api";
import type { TrackerCredentials } from "./tracker_credentials.ts";

/**
 * An initialised official-client session (event hub not connected). Wrong credentials or an
 * unreachable site reject with an error naming the server.
 */
export async function openSession(
  credentials: TrackerCredentials,
  options: { eventHub?: boolean } = {},
): Promise<Session> {
  const session = new Session(credentials.server, credentials.apiUser, credentials.apiKey, {
    autoConnectEventHub: options.eventHub ?? false,
  });
  try {
    await session.initializing;
  } catch (error) {
    throw new Error(
      `Cannot connect to the tracker at '${credentials.server}' as '${credentials.apiUser}': ${
        (error as Error).message
      }`,
      {
        cause: error,
      },
    );
  }
  return session;
}
