/**
 * The part of the tar format handler archives need: regular files and folders (ustar, with GNU
 * long names and pax `path` records), read and written in memory.
 */

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** An entry of a tar archive. */
export interface TarEntry {
  path: string;
  kind: "file" | "directory" | "link" | "other";
  data: Uint8Array;
}

const field = (block: Uint8Array, start: number, length: number) => {
  const bytes = block.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
};

const octal = (block: Uint8Array, start: number, length: number): number => {
  const text = field(block, start, length).trim();
  return text === "" ? 0 : parseInt(text, 8);
};

/** Reads every entry; throws a `SyntaxError` when the bytes are not a tar archive. */
export function readTar(bytes: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= bytes.length) {
    const header = bytes.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const checksum = octal(header, 148, 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    if (sum !== checksum) throw new SyntaxError(`not a tar archive (bad header checksum at byte ${offset})`);
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 48);
    const data = bytes.subarray(offset + 512, offset + 512 + size);
    if (data.length < size) throw new SyntaxError("the tar archive is truncated");
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = decoder.decode(data).replace(/\0+$/, "");
      continue;
    }
    if (type === "x") {
      const match = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(decoder.decode(data));
      if (match) longName = match[1];
      continue;
    }
    if (type === "g") continue;
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    const kind = type === "0" || type === "7"
      ? "file"
      : type === "5"
      ? "directory"
      : type === "1" || type === "2"
      ? "link"
      : "other";
    entries.push({ path: name, kind, data: data.slice() });
  }
  return entries;
}

function header(path: string, size: number, type: "0" | "5" | "L"): Uint8Array {
  const block = new Uint8Array(512);
  const put = (text: string, start: number, length: number) =>
    block.set(encoder.encode(text).subarray(0, length), start);
  put(path, 0, 100);
  put(type === "5" ? "0000755\0" : "0000644\0", 100, 8);
  put("0000000\0", 108, 8);
  put("0000000\0", 116, 8);
  put(size.toString(8).padStart(11, "0") + "\0", 124, 12);
  put(Math.floor(Date.now() / 1000).toString(8).padStart(11, "0") + "\0", 136, 12);
  put("        ", 148, 8);
  block[156] = type.charCodeAt(0);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return block;
}

/** Writes files (path → bytes; paths ending in `/` are folders) as a tar archive. */
export function writeTar(files: Array<[string, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [];
  const pad = (size: number) => new Uint8Array((512 - (size % 512)) % 512);
  for (const [path, data] of files) {
    const isDirectory = path.endsWith("/");
    const name = encoder.encode(path);
    if (name.length > 100) {
      parts.push(header("././@LongLink", name.length + 1, "L"), name, new Uint8Array(1), pad(name.length + 1));
    }
    parts.push(header(path, isDirectory ? 0 : data.length, isDirectory ? "5" : "0"));
    if (!isDirectory) parts.push(data, pad(data.length));
  }
  parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
