import type { Session } from "@ftrack/api";
import type { PipelineStore } from "../../src/store/pipeline_store.ts";
import type { AttributeLookup } from "./_lookups.ts";

/** What one pipeline change is, as the appliers get it. */
export interface ChangeContext {
  session: Session;
  store: PipelineStore;
  /** `created`, `data_changed`, `deleted`… (the topic's last part). */
  change: string;
  payload: { entityId: string; entityType: string; parentId: string | null; old: unknown; new: unknown };
  /** Written as the sender of ids written back (sender type `tracker`, so they are not carried again). */
  sender: string;
  /** Whether pipeline creations and deletions reach the tracker. */
  createDeleted: boolean;
  /** Where pipeline attributes mapped to tracker custom attributes are written (the sync's settings; one per job). */
  attributes: AttributeLookup;
}
