/**
 * Scene validators of the scene file: its name follows the studio's rule
 * (`settings.scene.fileNamePattern`) and it has no unsaved changes (`settings.scene.requireSaved`).
 *
 * @module
 */
import { basename } from "node:path";
import { ValidatorOrder } from "../publish/orders.ts";
import { trackerOf } from "./_contract.ts";
import { sceneValidator } from "./_scene.ts";

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The scene file's name matches `settings.scene.fileNamePattern`, whose `{project}`, `{context}`
 * and `{task}` are the publish's names. Skipped without a pattern or a file path; no repair.
 */
export const ValidateSceneFileName = sceneValidator({
  name: "ValidateSceneFileName",
  label: "Scene file name follows the rules",
  order: ValidatorOrder + 0.05,
  check({ facts, settings, instance }) {
    const rule = settings.scene.fileNamePattern;
    if (rule === null) return { skipped: "settings scene.fileNamePattern is not set" };
    if (facts.filePath === undefined) return { skipped: "the host sent no filePath" };
    const tracker = trackerOf(instance.context);
    const names: Record<string, string> = {
      project: tracker.project.name,
      context: tracker.entity.name,
      task: tracker.task?.name ?? "",
    };
    const pattern = rule.replaceAll(/\{(project|context|task)\}/g, (_, key: string) => escape(names[key]!));
    const name = facts.filePath ? basename(facts.filePath.replaceAll("\\", "/")) : "";
    if (name && new RegExp(pattern).test(name)) return { mismatches: [] };
    return {
      mismatches: [{
        what: "the scene file name",
        expected: `a name matching /${pattern}/`,
        found: name || "none (the scene was never saved)",
        source: "settings scene.fileNamePattern",
      }],
    };
  },
});

/** The scene has no unsaved changes when `settings.scene.requireSaved` (repair: save it). */
export const ValidateSceneSaved = sceneValidator({
  name: "ValidateSceneSaved",
  label: "Scene is saved",
  order: ValidatorOrder + 0.05,
  repairLabel: "Save the scene",
  check({ facts, settings }) {
    if (!settings.scene.requireSaved) return { skipped: "settings scene.requireSaved is off" };
    if (facts.unsavedChanges === undefined) return { skipped: "the host sent no unsavedChanges" };
    if (!facts.unsavedChanges) return { mismatches: [] };
    return {
      mismatches: [{
        what: "the scene's unsaved changes",
        expected: "none",
        found: "some",
        source: "settings scene.requireSaved",
        save: true,
      }],
    };
  },
});
