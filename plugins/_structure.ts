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

/** A path segment safe on every platform: no separators, no reserved characters. */
function segment(value: string): string {
  // Control characters are intended here: they are not allowed in file names.
  // deno-lint-ignore no-control-regex
  return value.replace(/[\\/:*?"<>|\u0000-\u001f]/g, "_").trim() || "_";
}

/**
 * Fills the structure template (settings.structure), e.g.
 * `{project}/{context}/{asset}/v{version}/{component}{frame}{ext}` →
 * `demo/sq010/sh010/beauty/v003/exr.1001.exr`. Version numbers are padded to three digits.
 */
export function structurePath(template: string, values: StructureValues): string {
  return template.replace(/\{(\w+)\}/g, (_, field: string) => {
    switch (field) {
      case "project":
        return segment(values.project);
      case "context":
        return values.context.map(segment).join("/");
      case "asset":
        return segment(values.asset);
      case "version":
        return String(values.version).padStart(3, "0");
      case "component":
        return segment(values.component);
      case "frame":
        return values.frame;
      case "ext":
        return values.ext;
      default:
        throw new Error(`Unknown structure field '{${field}}'`);
    }
  }).replace(/\/+/g, "/");
}
