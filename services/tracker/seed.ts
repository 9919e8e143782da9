import { createHash } from "node:crypto";
import { DEFAULT_PRIORITY_ID, LOCATION_IDS, OBJECT_TYPE_IDS } from "./schema/definitions.ts";
import type { Writer } from "./writer.ts";

/** A stable uuid-shaped id from a name, so seed rows have the same ids on every installation. */
export function seedId(name: string): string {
  const hex = createHash("sha1").update(`ferry-seed:${name}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const STATES = [["Not started", "NOT_STARTED"], ["In progress", "IN_PROGRESS"], ["Done", "DONE"], [
  "Blocked",
  "BLOCKED",
]] as const;

/** name, state, colour */
const STATUSES = [
  ["Not started", "Not started", "#BDC3C7"],
  ["Ready to start", "Not started", "#3498DB"],
  ["In progress", "In progress", "#F39C12"],
  ["Pending Review", "In progress", "#9B59B6"],
  ["Revise", "In progress", "#E74C3C"],
  ["On hold", "Blocked", "#7F8C8D"],
  ["Approved", "Done", "#2ECC71"],
  ["Completed", "Done", "#27AE60"],
  ["Omitted", "Done", "#34495E"],
] as const;

const TASK_WORKFLOW = [
  "Not started",
  "Ready to start",
  "In progress",
  "Pending Review",
  "Revise",
  "On hold",
  "Approved",
  "Completed",
  "Omitted",
];
const VERSION_WORKFLOW = ["Pending Review", "Revise", "Approved", "On hold", "Omitted"];
const OBJECT_WORKFLOW = ["Not started", "In progress", "On hold", "Completed", "Omitted"];

const TASK_TYPES = [
  "Generic",
  "Previz",
  "Layout",
  "Modeling",
  "Rigging",
  "Texture",
  "Lookdev",
  "Animation",
  "FX",
  "Lighting",
  "Compositing",
  "Tracking",
  "Rotoscoping",
  "Matchmove",
  "Editing",
  "Conform",
  "Audio",
];
const OBJECT_SCHEMA_TYPES: Record<string, string[]> = {
  Shot: ["Generic"],
  Sequence: ["Generic"],
  Episode: ["Generic"],
  Folder: ["Generic"],
  Milestone: ["Generic"],
  AssetBuild: ["Generic", "Character", "Prop", "Environment", "Vehicle"],
};

/** name, short: what ferry's publish plugins and DCC hosts use. */
const ASSET_TYPES = [
  ["Upload", "upload"],
  ["Render", "render"],
  ["Image", "img"],
  ["Geometry", "geo"],
  ["Movie", "mov"],
  ["Camera", "cam"],
  ["Scene", "scene"],
  ["Comp", "comp"],
  ["Plate", "plate"],
  ["Cache", "cache"],
  ["Audio", "audio"],
  ["Texture", "txt"],
  ["Rig", "rig"],
  ["Model", "model"],
  ["Look", "look"],
  ["Animation", "anim"],
  ["Workfile", "workfile"],
  ["Review", "review"],
] as const;

const CUSTOM_ATTRIBUTE_TYPES = [
  "text",
  "number",
  "boolean",
  "date",
  "enumerator",
  "dynamic enumerator",
  "expression",
  "notificationtype",
  "url",
];

/** key, label, type, entity_type, hierarchical, default, config */
const FERRY_ATTRIBUTES: Array<[string, string, string, string, boolean, unknown, Record<string, unknown>]> = [
  ["ferry_id", "ferry id", "text", "show", true, "", { markdown: false }],
  ["ferry_path", "ferry path", "text", "show", true, "", { markdown: false }],
  ["ferry_sync_failed", "ferry sync failed", "boolean", "show", true, false, {}],
  ["ferry_auto_sync", "ferry auto-sync", "boolean", "show", false, false, {}],
  ["fps", "FPS", "number", "show", true, 24, { isdecimal: true }],
  ["frameStart", "Frame start", "number", "show", true, 1001, { isdecimal: false }],
  ["frameEnd", "Frame end", "number", "show", true, 1100, { isdecimal: false }],
  ["handleStart", "Handle start", "number", "show", true, 0, { isdecimal: false }],
  ["handleEnd", "Handle end", "number", "show", true, 0, { isdecimal: false }],
  ["resolutionWidth", "Resolution width", "number", "show", true, 1920, { isdecimal: false }],
  ["resolutionHeight", "Resolution height", "number", "show", true, 1080, { isdecimal: false }],
  ["pixelAspect", "Pixel aspect", "number", "show", true, 1, { isdecimal: true }],
  ["ferry_publish_source", "Published from", "text", "assetversion", false, "", { markdown: false }],
];

/**
 * Fills an empty tracker with what every ftrack site has: the built-in Locations with their fixed
 * ids, object types with their classifier ids, states, statuses, task types, priorities, task and
 * version workflows, a project schema, asset types, note categories, custom attribute types and
 * ferry's own custom attributes. Ids are derived from names, so two trackers seeded apart agree.
 */
export function seedTracker(writer: Writer): void {
  for (const [name, id] of Object.entries(LOCATION_IDS)) {
    writer.create("Location", { id, name, label: name, description: `Built-in location ${name}` });
  }
  for (const [name, short] of STATES) writer.create("State", { id: seedId(`state:${name}`), name, short });
  STATUSES.forEach(([name, state, color], sort) =>
    writer.create("Status", { id: seedId(`status:${name}`), name, color, sort, state_id: seedId(`state:${state}`) })
  );
  const typeNames = [...new Set([...TASK_TYPES, ...Object.values(OBJECT_SCHEMA_TYPES).flat()])];
  typeNames.forEach((name, sort) => writer.create("Type", { id: seedId(`type:${name}`), name, sort }));
  const priorities: Array<[string, number, string]> = [["Urgent", 4, "#E74C3C"], ["High", 3, "#E67E22"], [
    "Medium",
    2,
    "#F1C40F",
  ], ["Low", 1, "#3498DB"]];
  writer.create("Priority", { id: DEFAULT_PRIORITY_ID, name: "None", value: 0, sort: 0, color: "#BDC3C7" });
  priorities.forEach(([name, value, color]) =>
    writer.create("Priority", { id: seedId(`priority:${name}`), name, value, sort: value, color })
  );
  Object.entries(OBJECT_TYPE_IDS).forEach(([name, id], sort) =>
    writer.create("ObjectType", {
      id,
      name,
      sort,
      is_leaf: name === "Task" || name === "Milestone",
      is_typeable: true,
      is_statusable: true,
      is_taskable: name !== "Task" && name !== "Milestone",
      is_time_reportable: name === "Task",
      is_schedulable: name === "Task" || name === "Milestone",
    })
  );
  const statusIds = (names: string[]) => names.map((name) => seedId(`status:${name}`));
  writer.create("WorkflowSchema", {
    id: seedId("workflow:task"),
    name: "ferry task workflow",
    statuses: statusIds(TASK_WORKFLOW),
  });
  writer.create("WorkflowSchema", {
    id: seedId("workflow:version"),
    name: "ferry version workflow",
    statuses: statusIds(VERSION_WORKFLOW),
  });
  writer.create("TaskTypeSchema", {
    id: seedId("task-types"),
    name: "ferry task types",
    types: TASK_TYPES.map((name) => seedId(`type:${name}`)),
  });
  const projectSchemaId = seedId("project-schema:ferry");
  writer.create("ProjectSchema", {
    id: projectSchemaId,
    name: "ferry VFX",
    task_workflow_schema_id: seedId("workflow:task"),
    asset_version_workflow_schema_id: seedId("workflow:version"),
    task_type_schema_id: seedId("task-types"),
    object_types: Object.values(OBJECT_TYPE_IDS),
  });
  for (const [objectName, types] of Object.entries(OBJECT_SCHEMA_TYPES)) {
    const schemaId = seedId(`schema:${objectName}`);
    writer.create("Schema", {
      id: schemaId,
      project_schema_id: projectSchemaId,
      object_type_id: OBJECT_TYPE_IDS[objectName as keyof typeof OBJECT_TYPE_IDS],
    });
    OBJECT_WORKFLOW.forEach((name, sort) =>
      writer.create("SchemaStatus", { schema_id: schemaId, status_id: seedId(`status:${name}`), sort })
    );
    types.forEach((name, sort) =>
      writer.create("SchemaType", { schema_id: schemaId, type_id: seedId(`type:${name}`), sort })
    );
  }
  for (const [name, short] of ASSET_TYPES) {
    writer.create("AssetType", { id: seedId(`asset-type:${short}`), name, short });
  }
  for (const name of ["Default", "Internal", "External", "Client feedback"]) {
    writer.create("NoteCategory", { id: seedId(`note-category:${name}`), name });
  }
  writer.create("ListCategory", { id: seedId("list-category:Default"), name: "Default" });
  for (const name of CUSTOM_ATTRIBUTE_TYPES) {
    writer.create("CustomAttributeType", { id: seedId(`ca-type:${name}`), name });
  }
  writer.create("CustomAttributeGroup", { id: seedId("ca-group:ferry"), name: "ferry" });
  FERRY_ATTRIBUTES.forEach(([key, label, typeName, entity, hierarchical, defaultValue, config], sort) =>
    writer.create("CustomAttributeConfiguration", {
      id: seedId(`ca:${key}`),
      key,
      label,
      type_id: seedId(`ca-type:${typeName}`),
      entity_type: entity,
      is_hierarchical: hierarchical,
      default: defaultValue,
      config: JSON.stringify(config),
      group_id: seedId("ca-group:ferry"),
      sort,
      core: false,
    })
  );
}
