import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import type { Collection } from "../sequence/collection.ts";
import type { HashAlgorithm } from "./algorithm.ts";
import { fingerprintFiles, type FingerprintFilesOptions } from "./fingerprint_files.ts";

/** One member of a fingerprinted sequence. */
export interface MemberFingerprint {
  /** The frame number. */
  frame: number;
  /** The member's path. */
  path: string;
  /** Its digest, lower-case hexadecimal. */
  hex: string;
  /** Its size in bytes. */
  size: number;
}

/** The fingerprint of a whole image sequence. */
export interface SequenceFingerprint {
  algorithm: HashAlgorithm;
  /**
   * The combined digest: the same algorithm over the `sha1sum`-style manifest of the members,
   * one line `<hex>  <file name>\n` per member in ascending frame order (file names without
   * their folder). So `cd renders && sha1sum beauty.*.exr | sha1sum` gives the same value for a
   * padded sequence, and moving the sequence to another folder keeps it.
   */
  hex: string;
  /** Total size in bytes. */
  size: number;
  /** Each member, in ascending frame order. */
  members: MemberFingerprint[];
}

/** Options of {@linkcode fingerprintSequence}: those of `fingerprintFiles`, plus where the files are. */
export interface FingerprintSequenceOptions extends FingerprintFilesOptions {
  /** Folder that relative member names are resolved against. @default {""} (the names are paths) */
  directory?: string;
}

/**
 * Fingerprints every member of a collection and combines the digests into one (see
 * {@linkcode SequenceFingerprint.hex} for its definition).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Collection } from "../sequence/mod.ts";
 * import { fingerprintSequence } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.0001.txt`, "abc");
 * await Deno.writeTextFile(`${dir}/a.0002.txt`, "");
 * const frames = new Collection({ head: "a.", tail: ".txt", padding: 4, indexes: [1, 2] });
 * const result = await fingerprintSequence(frames, { directory: dir });
 * ok(result.size === 3 && result.members.length === 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function fingerprintSequence(
  collection: Collection,
  options: FingerprintSequenceOptions = {},
): Promise<SequenceFingerprint> {
  const { directory = "", algorithm = "sha1", ...rest } = options;
  const frames = collection.indexes;
  const paths = [...collection].map((name) => (directory ? join(directory, name) : name));
  const digests = await fingerprintFiles(paths, { ...rest, algorithm });
  const members: MemberFingerprint[] = digests.map((digest, i) => ({
    frame: frames[i]!,
    path: paths[i]!,
    hex: digest.hex,
    size: digest.size,
  }));
  return {
    algorithm,
    hex: combineMemberDigests(algorithm, paths, digests.map((digest) => digest.hex)),
    size: members.reduce((sum, member) => sum + member.size, 0),
    members,
  };
}

/**
 * The combined digest of a sequence from its members' paths (or names) and digests, in frame
 * order: `algorithm` over one `sha1sum`-style line `<hex>  <file name>\n` per member.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { combineMemberDigests } from "./fingerprint_sequence.ts";
 *
 * const hex = combineMemberDigests("sha1", ["/r/a.1.exr"], ["da39a3ee5e6b4b0d3255bfef95601890afd80709"]);
 * ok(hex.length === 40);
 * ```
 */
export function combineMemberDigests(
  algorithm: HashAlgorithm,
  paths: readonly string[],
  hexes: readonly string[],
): string {
  if (paths.length !== hexes.length) {
    throw new RangeError(`Cannot combine ${hexes.length} digests for ${paths.length} members`);
  }
  const combined = createHash(algorithm);
  paths.forEach((path, i) => combined.update(`${hexes[i]}  ${basename(path)}\n`));
  return combined.digest("hex");
}
