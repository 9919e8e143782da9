/**
 * Scene validators of time: the scene's frame range, handles and frame rate against the tracker
 * context's `frameStart`, `frameEnd`, `handleStart`, `handleEnd` and `fps`.
 *
 * @module
 */
import { ValidatorOrder } from "../publish/orders.ts";
import { compareWithTracker, sceneValidator } from "./_scene.ts";

/** The scene's frame range and handles are the shot's (repair: set them). */
export const ValidateSceneFrameRange = sceneValidator({
  name: "ValidateSceneFrameRange",
  label: "Scene frame range is the shot's",
  order: ValidatorOrder + 0.05,
  repairLabel: "Set the shot's frame range",
  check: (input) =>
    compareWithTracker(input, [
      { key: "frameStart", what: "frame start" },
      { key: "frameEnd", what: "frame end" },
      { key: "handleStart", what: "handle start" },
      { key: "handleEnd", what: "handle end" },
    ]),
});

/** The scene's frame rate is the shot's, within `settings.scene.fpsTolerance` (repair: set it). */
export const ValidateSceneFps = sceneValidator({
  name: "ValidateSceneFps",
  label: "Scene frame rate is the shot's",
  order: ValidatorOrder + 0.05,
  repairLabel: "Set the shot's frame rate",
  check: (input) =>
    compareWithTracker(input, [{ key: "fps", what: "frame rate (fps)", tolerance: input.settings.scene.fpsTolerance }]),
});
