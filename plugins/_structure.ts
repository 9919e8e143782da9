import { isAbsolute, normalize, relative, resolve, sep } from "node:path";

/** Values of the disk-location structure template. */
export interface StructureValues {
  project: string;
  /** Context names below the project, e.g. `["sq010", "sh010"]`. */
  context: string[];
  asset: string;
  version: number;
  component: string;
  /** `.1001` for a sequence member (zero-padded as the sequence), `""` for a single file. */
  frame: string;
  /** With the dot: `.exr`. */
  ext: string;
}

/** A name or a structure path would place files outside the disk location's root. */
export class UnsafePathError extends Error {
  /** The name or path refused. */
  readonly value: string;

  constructor(value: string, message: string) {
    super(message);
    this.name = "UnsafePathError";
    this.value = value;
  }
}

/**
 * A path segment made from an entity name: reserved characters (`:*?"<>|`, control characters)
 * become `_`; names that would climb or cross folders (`.`, `..`, anything with `/`, `\` or NUL)
 * are refused with an {@linkcode UnsafePathError} naming what they name and the value.
 */
function segment(value: string, what: string, options: { part?: boolean } = {}): string {
  // NUL is a control character, refused on its own; the others are only unsafe on some platforms.
  const dots = !options.part && (value.trim() === "." || value.trim() === "..");
  if (/[\\/]/.test(value) || value.includes("\u0000") || dots) {
    throw new UnsafePathError(
      value,
      `the ${what} name ${
        JSON.stringify(value)
      } cannot be a folder or file name ('.', '..' and names holding '/', '\\' or NUL are refused)`,
    );
  }
  // deno-lint-ignore no-control-regex
  const safe = value.replace(/[:*?"<>|\u0000-\u001f]/g, "_");
  // Parts of a file name (frame, extension) may be empty; whole segments never are.
  return options.part ? safe : safe.trim() || "_";
}

/**
 * Fills the structure template (settings.structure), e.g.
 * `{project}/{context}/{asset}/v{version}/{component}{frame}{ext}` →
 * `demo/sq010/sh010/beauty/v003/exr.1001.exr`. Version numbers are padded to three digits.
 * Names that are `.` or `..` or hold separators or NUL, and templates whose result is absolute or
 * climbs above the root, are refused with an {@linkcode UnsafePathError}: the result is always a
 * relative path inside the location's root.
 */
export function structurePath(template: string, values: StructureValues): string {
  const path = template.replace(/\{(\w+)\}/g, (_, field: string) => {
    switch (field) {
      case "project":
        return segment(values.project, "project");
      case "context":
        return values.context.map((name) => segment(name, "context")).join("/");
      case "asset":
        return segment(values.asset, "asset");
      case "version":
        return String(values.version).padStart(3, "0");
      case "component":
        return segment(values.component, "component");
      case "frame":
        return segment(values.frame, "frame", { part: true });
      case "ext":
        return segment(values.ext, "extension", { part: true });
      default:
        throw new Error(`Unknown structure field '{${field}}'`);
    }
  }).replace(/\/+/g, "/");
  const normal = normalize(path).replaceAll("\\", "/");
  if (isAbsolute(path) || normal === "." || normal === ".." || normal.startsWith("../") || path.includes("\u0000")) {
    throw new UnsafePathError(path, `the structure path '${path}' is not a relative path inside the location's root`);
  }
  return path;
}

/**
 * `root/relativePath`, resolved, after checking that it stays inside `root`; otherwise an
 * {@linkcode UnsafePathError} naming both.
 */
export function pathInsideRoot(root: string, relativePath: string): string {
  const base = resolve(root);
  const target = resolve(base, relativePath);
  const within = relative(base, target);
  if (within === "" || within === ".." || within.startsWith(`..${sep}`) || isAbsolute(within)) {
    throw new UnsafePathError(
      relativePath,
      `Cannot write '${relativePath}': it resolves to '${target}', outside the root '${base}'`,
    );
  }
  return target;
}
