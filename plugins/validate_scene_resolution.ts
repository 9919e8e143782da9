/**
 * Scene validator of the image: the render resolution and pixel aspect against the tracker
 * context's `resolutionWidth`, `resolutionHeight` and `pixelAspect`.
 *
 * @module
 */
import { ValidatorOrder } from "../publish/orders.ts";
import { compareWithTracker, sceneValidator } from "./_scene.ts";

/** The scene's resolution and pixel aspect are the shot's (repair: set them). */
export const ValidateSceneResolution = sceneValidator({
  name: "ValidateSceneResolution",
  label: "Scene resolution is the shot's",
  order: ValidatorOrder + 0.05,
  repairLabel: "Set the shot's resolution",
  check: (input) =>
    compareWithTracker(input, [
      { key: "resolutionWidth", what: "resolution width" },
      { key: "resolutionHeight", what: "resolution height" },
      { key: "pixelAspect", what: "pixel aspect", tolerance: 1e-6 },
    ]),
});
