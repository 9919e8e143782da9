import { gzipSync } from "fflate";

/** A file of an archive. */
export interface ArchiveFile {
  /** The path inside the archive, `/`-separated. */
  path: string;
  data: Uint8Array;
  /** Whether it is a program (mode 755; 644 otherwise). */
  executable?: boolean;
}

const encoder = new TextEncoder();

function header(path: string, options: { size: number; mode: number; type: "0" | "5"; mtime: number }): Uint8Array {
  const block = new Uint8Array(512);
  let name = path;
  let prefix = "";
  if (encoder.encode(name).length > 100) {
    const cut = path.lastIndexOf("/", 155);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
    if (cut <= 0 || encoder.encode(name).length > 100 || encoder.encode(prefix).length > 155) {
      throw new RangeError(`Cannot archive '${path}': the path is too long for a tar archive`);
    }
  }
  const put = (text: string, at: number) => block.set(encoder.encode(text), at);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, "0") + "\0";
  put(name, 0);
  put(octal(options.mode, 8), 100);
  put(octal(0, 8), 108); // uid
  put(octal(0, 8), 116); // gid
  put(octal(options.size, 12), 124);
  put(octal(options.mtime, 12), 136);
  put("        ", 148); // checksum, counted as spaces
  put(options.type, 156);
  put("ustar\0", 257);
  put("00", 263);
  put(prefix, 345);
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return block;
}

/**
 * A gzipped ustar archive of the files (folders are written before their files; modes 755/644; owner root;
 * one fixed time, so the same files give the same archive).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { gunzipSync } from "fflate";
 * import { tarGz } from "./tar_gz.ts";
 *
 * const archive = tarGz([{ path: "ferry/bin/ferry", data: new Uint8Array([1, 2]), executable: true }]);
 * const tar = gunzipSync(archive);
 * ok(new TextDecoder().decode(tar.subarray(0, 6)) === "ferry/");
 * ok(tar.length === 512 * 6); // two folders, a header, a block of data, two end blocks
 * ```
 */
export function tarGz(files: readonly ArchiveFile[], options: { mtime?: Date } = {}): Uint8Array {
  const mtime = Math.floor((options.mtime ?? new Date("2026-01-01T00:00:00Z")).getTime() / 1000);
  const blocks: Uint8Array[] = [];
  const folders = new Set<string>();
  for (const file of [...files].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) {
    const parts = file.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const folder = `${parts.slice(0, i).join("/")}/`;
      if (folders.has(folder)) continue;
      folders.add(folder);
      blocks.push(header(folder, { size: 0, mode: 0o755, type: "5", mtime }));
    }
    blocks.push(header(file.path, { size: file.data.length, mode: file.executable ? 0o755 : 0o644, type: "0", mtime }));
    blocks.push(file.data);
    const padding = (512 - (file.data.length % 512)) % 512;
    if (padding) blocks.push(new Uint8Array(padding));
  }
  blocks.push(new Uint8Array(1024));
  const tar = new Uint8Array(blocks.reduce((total, block) => total + block.length, 0));
  let offset = 0;
  for (const block of blocks) {
    tar.set(block, offset);
    offset += block.length;
  }
  return gzipSync(tar, { level: 9, mtime: mtime * 1000 });
}
