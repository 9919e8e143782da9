import type { Session } from "@ftrack/api";

/** One component whose data may be stored already: its id and the SHA-1 the data must have. */
export interface ReuseCandidate {
  componentId: string;
  sha1: string;
}

/**
 * Whether the tracker offers `ferry_reuse_component_data` (ferry's embedded tracker does; an
 * ftrack site does not, and files are then uploaded as usual). Read from the session's server
 * information.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Session } from "@ftrack/api";
 * import { offersContentReuse } from "./reuse_content.ts";
 *
 * ok(!offersContentReuse({ serverInformation: { version: "4.13" } } as unknown as Session));
 * ok(offersContentReuse({ serverInformation: { ferry_content_reuse: true } } as unknown as Session));
 * ```
 */
export function offersContentReuse(session: Session): boolean {
  const information = (session as { serverInformation?: unknown }).serverInformation;
  return (information as { ferry_content_reuse?: unknown } | undefined)?.ferry_content_reuse === true;
}

/**
 * Asks the tracker to give each candidate component the stored content of its SHA-1 (nothing is
 * sent); returns the ids of the components it did. Nothing is asked of a tracker that does not
 * offer it. A component refused (not the caller's to change) is an error, as its upload would be.
 *
 * The SHA-1 stands for bytes the caller holds: give only one computed from the file's bytes (read
 * now, or recorded for the same unchanged file), which is ferry's proof of possession. The tracker
 * links content only when the caller could read it anyway (some component holding it is in no
 * private project hidden from them, or they stored it); other content is answered "not reused",
 * exactly as content it does not hold, and must be uploaded. `uploadFiles` asks the same question
 * inside the upload grant (`get_upload_metadata` with `ferry_sha1`), and for a large file it has not
 * read whole first asks by its probe (`ferry_probe`: size and the digest of four sampled blocks, see
 * `content_probe.ts`), which the tracker answers `ferry_candidate` under the same rule; a probe
 * only says which file is worth hashing, never links anything.
 */
export async function reuseContent(
  session: Session,
  candidates: ReadonlyArray<ReuseCandidate>,
  options: { batch?: number } = {},
): Promise<Set<string>> {
  const { batch = 1000 } = options;
  const reused = new Set<string>();
  if (candidates.length === 0 || !offersContentReuse(session)) return reused;
  for (let i = 0; i < candidates.length; i += batch) {
    const slice = candidates.slice(i, i + batch);
    const answers = await session.call(slice.map((candidate) => ({
      action: "ferry_reuse_component_data",
      component_id: candidate.componentId,
      sha1: candidate.sha1,
    })) as never[]) as unknown as Array<{ component_id?: string; reused?: boolean }>;
    for (const answer of answers) if (answer?.reused === true && answer.component_id) reused.add(answer.component_id);
  }
  return reused;
}
