/** How a plugin's families (or targets) are compared with an instance's (or the session's). */
export type MatchAlgorithm = "intersection" | "subset" | "exact";

/**
 * pyblish's family matching: `"*"` in the plugin's families matches every instance; otherwise
 * `intersection` needs one family in common, `subset` needs all of the plugin's families on the
 * instance (so `[]` matches everything), and `exact` needs the same set.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { matchFamilies } from "./match.ts";
 *
 * ok(matchFamilies(["render"], ["render", "review"], "intersection"));
 * ok(!matchFamilies(["render", "cache"], ["render"], "subset"));
 * ```
 */
export function matchFamilies(
  pluginFamilies: readonly string[],
  families: readonly string[],
  algorithm: MatchAlgorithm,
): boolean {
  if (pluginFamilies.includes("*")) return true;
  return matchSets(pluginFamilies, families, algorithm);
}

/** Target matching: the same algorithms, with no `"*"` wildcard. */
export function matchTargets(
  pluginTargets: readonly string[],
  targets: readonly string[],
  algorithm: MatchAlgorithm,
): boolean {
  return matchSets(pluginTargets, targets, algorithm);
}

function matchSets(wanted: readonly string[], present: readonly string[], algorithm: MatchAlgorithm): boolean {
  const have = new Set(present);
  switch (algorithm) {
    case "intersection":
      return wanted.some((item) => have.has(item));
    case "subset":
      return wanted.every((item) => have.has(item));
    case "exact": {
      const want = new Set(wanted);
      return want.size === have.size && [...want].every((item) => have.has(item));
    }
    default: {
      const _exhaustive: never = algorithm;
      throw new TypeError(`Unknown match algorithm '${_exhaustive}'`);
    }
  }
}
