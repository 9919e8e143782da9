/**
 * Scene validator of the camera: the scene renders through a camera the studio allows
 * (`settings.scene.allowedCameras`, regular expressions).
 *
 * @module
 */
import { ValidatorOrder } from "../publish/orders.ts";
import { sceneValidator } from "./_scene.ts";

/**
 * The scene's camera matches one of `settings.scene.allowedCameras`. Skipped when none are set or
 * the host sent no camera; no repair (which camera to use is the artist's choice).
 */
export const ValidateSceneCamera = sceneValidator({
  name: "ValidateSceneCamera",
  label: "Scene camera is allowed",
  order: ValidatorOrder + 0.05,
  check({ facts, settings }) {
    const allowed = settings.scene.allowedCameras;
    if (allowed.length === 0) return { skipped: "settings scene.allowedCameras is empty" };
    if (facts.camera === undefined) return { skipped: "the host sent no camera" };
    if (facts.camera !== null && allowed.some((pattern) => new RegExp(pattern).test(facts.camera!))) {
      return { mismatches: [] };
    }
    return {
      mismatches: [{
        what: "the camera",
        expected: `one matching ${allowed.map((pattern) => `/${pattern}/`).join(" or ")}`,
        found: facts.camera,
        source: "settings scene.allowedCameras",
      }],
    };
  },
});
