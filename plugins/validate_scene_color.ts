/**
 * Scene validator of colour management: the view transform, working space and display the studio
 * requires (`settings.scene.colorSpace`).
 *
 * @module
 */
import { ValidatorOrder } from "../publish/orders.ts";
import type { Mismatch } from "./_scene.ts";
import { sceneValidator } from "./_scene.ts";

const FIELDS = [
  ["viewTransform", "view transform"],
  ["workingSpace", "working colour space"],
  ["display", "display device"],
] as const;

/**
 * The scene's colour management is `settings.scene.colorSpace` (each field that is set); repair:
 * set `colorManagement.<field>`. Skipped when no field is required or the host sent none of them.
 */
export const ValidateSceneColorSpace = sceneValidator({
  name: "ValidateSceneColorSpace",
  label: "Scene colour management is the studio's",
  order: ValidatorOrder + 0.05,
  repairLabel: "Set the studio's colour management",
  check({ facts, settings }) {
    const required = FIELDS.filter(([key]) => settings.scene.colorSpace[key] !== undefined);
    if (required.length === 0) return { skipped: "settings scene.colorSpace requires nothing" };
    const sent = required.filter(([key]) => facts.colorManagement?.[key] !== undefined);
    if (sent.length === 0) return { skipped: `the host sent no ${required.map(([key]) => key).join(", ")}` };
    const mismatches: Mismatch[] = [];
    for (const [key, what] of sent) {
      const expected = settings.scene.colorSpace[key]!;
      const found = facts.colorManagement![key]!;
      if (found !== expected) {
        mismatches.push({
          what,
          expected,
          found,
          source: `settings scene.colorSpace.${key}`,
          set: { key: `colorManagement.${key}`, value: expected },
        });
      }
    }
    return { mismatches };
  },
});
