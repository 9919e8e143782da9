/**
 * ferry's version (from `deno.json`) written into the files of other languages at build time, so that every
 * artefact of a release carries the one version: the Blender add-on's `bl_info["version"]` and the Python
 * client's `__version__`. Each stamp fails loudly when the file no longer has the line it rewrites.
 *
 * @module
 */

/**
 * The `(major, minor, patch)` tuple Blender shows for a semver version (pre-release and build parts have no
 * place in it).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { versionTuple } from "./stamp_version.ts";
 *
 * ok(versionTuple("1.12.3-rc.1").join() === "1,12,3");
 * ```
 */
export function versionTuple(version: string): [number, number, number] {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version);
  if (!match) throw new TypeError(`Cannot stamp version '${version}': expected a semver version such as 1.2.3`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/**
 * Rewrites the `"version": (x, y, z)` entry of an add-on's `bl_info`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { stampBlInfo } from "./stamp_version.ts";
 *
 * const text = 'bl_info = {\n    "name": "ferry",\n    "version": (0, 0, 0),\n    "blender": (3, 0, 0),\n}\n';
 * ok(stampBlInfo(text, "2.4.1", "__init__.py").includes('"version": (2, 4, 1),\n    "blender": (3, 0, 0)'));
 * ```
 */
export function stampBlInfo(text: string, version: string, path: string): string {
  const tuple = versionTuple(version);
  const blInfo = /^bl_info\s*=\s*\{[\s\S]*?^\}/m.exec(text);
  const entry = /(["']version["']\s*:\s*)\(\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\)/;
  if (!blInfo || !entry.test(blInfo[0])) {
    throw new TypeError(`Cannot stamp version ${version} into '${path}': it has no bl_info "version": (x, y, z)`);
  }
  const stamped = blInfo[0].replace(entry, `$1(${tuple.join(", ")})`);
  return text.slice(0, blInfo.index) + stamped + text.slice(blInfo.index + blInfo[0].length);
}

/**
 * Rewrites a Python module's `__version__ = "…"` line.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { stampPythonVersion } from "./stamp_version.ts";
 *
 * const text = 'import os\n\n__version__ = "0.0.0"\n';
 * ok(stampPythonVersion(text, "2.4.1-rc.1", "__init__.py") === 'import os\n\n__version__ = "2.4.1-rc.1"\n');
 * ```
 */
export function stampPythonVersion(text: string, version: string, path: string): string {
  versionTuple(version);
  const line = /^__version__\s*=\s*(["'])[^"'\n]*\1/m;
  if (!line.test(text)) {
    throw new TypeError(`Cannot stamp version ${version} into '${path}': it has no __version__ = "…" line`);
  }
  return text.replace(line, `__version__ = ${JSON.stringify(version)}`);
}
