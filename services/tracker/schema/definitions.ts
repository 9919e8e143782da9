/**
 * ferry's definitions of the ftrack entity types the embedded tracker serves: the minimal set the
 * official clients need at start-up, plus what publishing and event handlers touch. Names, types
 * and defaults follow a real server (see `shared/reference/ftrack-query-schemas.json`).
 *
 * @module
 */
import type { Attribute, EntityType, ScalarAttribute } from "./model.ts";

/** Built-in object type ids (the classifiers of typed contexts), fixed across ftrack sites. */
export const OBJECT_TYPE_IDS = {
  Task: "11c137c0-ee7e-4f9c-91c5-8c77cec22b2c",
  Shot: "bad911de-3bd6-47b9-8b46-3476e237cb36",
  Sequence: "e5139355-61da-4c8f-9db4-3abc870166bc",
  Episode: "22139355-61da-4c8f-9db4-3abc870166bc",
  Folder: "3c133785-51cb-11e3-980a-20c9d0831e59",
  Milestone: "01decdd1-51cb-11e3-9d5b-20c9d0831e59",
  AssetBuild: "4be63b64-5010-42fb-bf1f-428af9d638f0",
} as const;

/** The built-in Locations, with the ids both clients hard-code. */
export const LOCATION_IDS = {
  "ftrack.origin": "ce9b348f-8809-11e3-821c-20c9d081909b",
  "ftrack.unmanaged": "cb268ecc-8809-11e3-a7e2-20c9d081909b",
  "ftrack.review": "cd41be70-8809-11e3-b98a-20c9d081909b",
  "ftrack.server": "3a372bde-05bc-11e4-8908-20c9d081909b",
  "ftrack.connect": "07b82a97-8cf9-11e3-9383-20c9d081909b",
} as const;

const NO_PROTOTYPE: object = Object.freeze(Object.create(null));

/**
 * An empty record whose lookups see its own properties only (`constructor`, `toString` or
 * `__proto__` are not found, and setting `__proto__` sets a property). Its prototype is an empty
 * object without one, rather than none at all, so V8 keeps it a fast object.
 */
export function bareRecord<T>(): Record<string, T> {
  return Object.create(NO_PROTOTYPE);
}

/** The default priority every typed context gets. */
export const DEFAULT_PRIORITY_ID = "9661b320-3a0c-11e2-81c1-0800200c9a66";

// --- attribute helpers -------------------------------------------------------------------------
const UID = "{uid}";
const id = (): ScalarAttribute => ({ kind: "scalar", type: "string", default: UID });
const str = (extra: Partial<ScalarAttribute> = {}): ScalarAttribute => ({ kind: "scalar", type: "string", ...extra });
const int = (defaultValue?: number): ScalarAttribute => ({ kind: "scalar", type: "integer", default: defaultValue });
const num = (defaultValue?: number): ScalarAttribute => ({ kind: "scalar", type: "number", default: defaultValue });
const bool = (defaultValue?: boolean): ScalarAttribute => ({ kind: "scalar", type: "boolean", default: defaultValue });
const date = (legacy?: string): ScalarAttribute => ({ kind: "scalar", type: "string", format: "date-time", legacy });
const fk = (target: string, legacy?: string, extra: Partial<ScalarAttribute> = {}): ScalarAttribute => ({
  kind: "scalar",
  type: "string",
  format: "foreign_key",
  target,
  legacy,
  ...extra,
});
const ref = (target: string, key: string, legacy?: string): Attribute => ({ kind: "reference", target, key, legacy });
const many = (
  target: string,
  via: string,
  extra: { filter?: { attribute: string; value: string } } = {},
): Attribute => ({
  kind: "collection",
  target,
  via,
  ...extra,
});
const ids = (target: string): Attribute => ({ kind: "association", target });
const metadata = (): Attribute => ({ kind: "collection", target: "Metadata", via: "parent_id", mapped: true });
const customAttributes = (target: string): Attribute => ({
  kind: "computed",
  compute: "custom_attributes",
  target,
  many: true,
  mapped: true,
});

function type(
  definition: Omit<EntityType, "immutable" | "required"> & Partial<Pick<EntityType, "immutable" | "required">>,
): EntityType {
  return {
    immutable: [...definition.primaryKey],
    required: [...definition.primaryKey],
    ...definition,
    attributes: Object.assign(bareRecord<Attribute>(), definition.attributes),
  };
}

// --- contexts --------------------------------------------------------------------------------
function contextAttributes(): Record<string, Attribute> {
  return {
    id: id(),
    name: str({ default: "", segment: true }),
    context_type: str(),
    parent_id: fk("Context"),
    parent: ref("Context", "parent_id"),
    project_id: fk("Project", "showid"),
    project: ref("Project", "project_id", "show"),
    children: many("Context", "parent_id"),
    assets: many("Asset", "context_id"),
    notes: many("Note", "parent_id"),
    timelogs: many("Timelog", "context_id"),
    appointments: many("Appointment", "context_id"),
    assignments: many("Appointment", "context_id", { filter: { attribute: "type", value: "assignment" } }),
    allocations: many("Appointment", "context_id", { filter: { attribute: "type", value: "allocation" } }),
    scopes: ids("Scope"),
    metadata: metadata(),
    custom_attributes: customAttributes("ContextCustomAttributeValue"),
    link: { kind: "computed", compute: "link", type: "object" },
    thumbnail_id: fk("Component", "thumbid"),
    thumbnail: ref("Component", "thumbnail_id"),
    thumbnail_url: { kind: "computed", compute: "thumbnail_url", type: "object" },
    created_at: date(),
    created_by_id: fk("User", "created_by"),
    created_by: ref("User", "created_by_id"),
  };
}

function typedContextAttributes(objectTypeId?: string): Record<string, Attribute> {
  return {
    ...contextAttributes(),
    object_type_id: fk("ObjectType", "object_typeid", objectTypeId ? { default: objectTypeId } : {}),
    object_type: ref("ObjectType", "object_type_id"),
    status_id: fk("Status", "statusid"),
    status: ref("Status", "status_id"),
    type_id: fk("Type", "typeid"),
    type: ref("Type", "type_id"),
    priority_id: fk("Priority", "priorityid", objectTypeId ? { default: DEFAULT_PRIORITY_ID } : {}),
    priority: ref("Priority", "priority_id"),
    description: str(),
    start_date: date("startdate"),
    end_date: date("enddate"),
    bid: num(),
    sort: num(),
    ancestors: { kind: "computed", compute: "ancestors", target: "TypedContext", many: true },
    descendants: { kind: "computed", compute: "descendants", target: "TypedContext", many: true },
    lists: ids("TypedContextList"),
    incoming_links: many("TypedContextLink", "to_id"),
    outgoing_links: many("TypedContextLink", "from_id"),
  };
}

const CONTEXT_TYPED = [
  ["Task", "Task"],
  ["Shot", "Shot"],
  ["Sequence", "Sequence"],
  ["Episode", "Episode"],
  ["Folder", "Folder"],
  ["Milestone", "Milestone"],
  ["AssetBuild", "AssetBuild"],
] as const;

const contextTypes: EntityType[] = [
  type({
    id: "Context",
    table: "Context",
    legacy: "context",
    abstract: true,
    primaryKey: ["id"],
    defaultProjections: ["context_type", "id", "name"],
    systemProjections: ["context_type"],
    attributes: contextAttributes(),
  }),
  type({
    id: "TypedContext",
    table: "Context",
    legacy: "task",
    base: "Context",
    abstract: true,
    primaryKey: ["id"],
    defaultProjections: ["context_type", "id", "name"],
    systemProjections: ["showid", "context_type"],
    aliasFor: "Task",
    attributes: typedContextAttributes(),
    required: ["id", "name", "context_type", "object_type_id", "status_id", "type_id", "priority_id"],
  }),
  type({
    id: "Project",
    table: "Context",
    legacy: "show",
    base: "Context",
    primaryKey: ["id"],
    defaultProjections: ["context_type", "id", "name"],
    systemProjections: ["context_type"],
    aliasFor: "Show",
    attributes: {
      ...contextAttributes(),
      full_name: str(),
      // Set on create by the server (ftrack's schema has no defaults for them).
      status: str(),
      root: str(),
      is_global: bool(false),
      is_private: bool(false),
      color: str(),
      start_date: date("startdate"),
      end_date: date("enddate"),
      project_schema_id: fk("ProjectSchema"),
      project_schema: ref("ProjectSchema", "project_schema_id"),
      descendants: { kind: "computed", compute: "descendants", target: "TypedContext", many: true },
    },
    required: ["id", "name", "full_name", "project_schema_id"],
  }),
  ...CONTEXT_TYPED.map(([name, objectType]) =>
    type({
      id: name,
      table: "Context",
      legacy: "task",
      base: "TypedContext",
      primaryKey: ["id"],
      defaultProjections: ["context_type", "id", "name"],
      systemProjections: ["showid", "context_type"],
      aliasFor: { id: "Task", classifiers: { object_typeid: OBJECT_TYPE_IDS[objectType] } },
      objectTypeId: OBJECT_TYPE_IDS[objectType],
      attributes: typedContextAttributes(OBJECT_TYPE_IDS[objectType]),
      immutable: ["id", "object_type_id", "object_type", "link", "created_at", "created_by_id"],
      required: ["id", "name", "context_type", "object_type_id", "status_id", "type_id", "priority_id"],
    })
  ),
];

// --- assets, versions, components --------------------------------------------------------------
function componentAttributes(container: boolean): Record<string, Attribute> {
  return {
    id: id(),
    name: str({ default: "main", segment: true }),
    file_type: str({ legacy: "filetype" }),
    size: int(0),
    system_type: str(),
    container_id: fk("ContainerComponent"),
    container: ref("ContainerComponent", "container_id"),
    version_id: fk("AssetVersion"),
    version: ref("AssetVersion", "version_id"),
    component_locations: many("ComponentLocation", "component_id"),
    metadata: metadata(),
    ...(container ? { members: many("Component", "container_id") } : {}),
  };
}

const componentBase = {
  table: "Component",
  legacy: "component",
  primaryKey: ["id"],
  defaultProjections: ["id", "system_type"],
  systemProjections: ["system_type", "version_id"],
};

const assetTypes: EntityType[] = [
  type({
    id: "AssetType",
    table: "AssetType",
    legacy: "assettype",
    primaryKey: ["id"],
    defaultProjections: ["id"],
    attributes: {
      id: id(),
      name: str(),
      short: str(),
      component: str({ default: "main" }),
      assets: many("Asset", "type_id"),
    },
    required: ["id", "name", "short"],
  }),
  type({
    id: "Asset",
    table: "Asset",
    legacy: "asset",
    primaryKey: ["id"],
    defaultProjections: ["id"],
    systemProjections: ["context_id"],
    attributes: {
      id: id(),
      name: str({ segment: true }),
      context_id: fk("Context"),
      parent: ref("Context", "context_id"),
      type_id: fk("AssetType", "typeid"),
      type: ref("AssetType", "type_id"),
      versions: many("AssetVersion", "asset_id"),
      latest_version: { kind: "computed", compute: "latest_version", target: "AssetVersion" },
      metadata: metadata(),
      custom_attributes: customAttributes("AssetCustomAttributeValue"),
    },
    // No type is needed (ftrack's required list is only the id): uniqueness treats a missing type as SQL NULL.
    required: ["id", "name", "context_id"],
  }),
  type({
    id: "AssetVersion",
    table: "AssetVersion",
    legacy: "assetversion",
    primaryKey: ["id"],
    defaultProjections: ["id"],
    systemProjections: ["assetid"],
    attributes: {
      id: id(),
      version: int(),
      comment: str({ default: "" }),
      is_published: bool(true),
      date: date(),
      asset_id: fk("Asset", "assetid"),
      asset: ref("Asset", "asset_id"),
      task_id: fk("Task", "taskid"),
      task: ref("Task", "task_id"),
      status_id: fk("Status", "statusid"),
      status: ref("Status", "status_id"),
      user_id: fk("User", "userid"),
      user: ref("User", "user_id"),
      thumbnail_id: fk("Component", "thumbid"),
      thumbnail: ref("Component", "thumbnail_id"),
      thumbnail_url: { kind: "computed", compute: "thumbnail_url", type: "object" },
      components: many("Component", "version_id"),
      notes: many("Note", "parent_id"),
      metadata: metadata(),
      custom_attributes: customAttributes("AssetVersionCustomAttributeValue"),
      link: { kind: "computed", compute: "link", type: "object" },
      is_latest_version: { kind: "computed", compute: "is_latest_version", type: "boolean" },
      lists: ids("AssetVersionList"),
      uses_versions: ids("AssetVersion"),
      used_in_versions: ids("AssetVersion"),
    },
    immutable: ["id", "link", "is_latest_version", "thumbnail_url"],
    required: ["id", "is_published", "status_id", "asset_id"],
  }),
  // Concrete, as on ftrack: a plain Component can be created (FileComponent and the others derive from it).
  type({ id: "Component", ...componentBase, attributes: componentAttributes(false) }),
  type({ id: "FileComponent", ...componentBase, base: "Component", attributes: componentAttributes(false) }),
  type({ id: "ContainerComponent", ...componentBase, base: "Component", attributes: componentAttributes(true) }),
  type({
    id: "SequenceComponent",
    ...componentBase,
    base: "ContainerComponent",
    attributes: { ...componentAttributes(true), padding: int(0) },
  }),
  type({
    id: "Location",
    table: "Location",
    legacy: "location",
    primaryKey: ["id"],
    defaultProjections: ["id"],
    attributes: {
      id: id(),
      name: str(),
      label: str(),
      description: str(),
      location_components: many("ComponentLocation", "location_id"),
    },
    required: ["id", "name"],
  }),
  type({
    id: "ComponentLocation",
    table: "ComponentLocation",
    legacy: "componentlocation",
    primaryKey: ["id"],
    defaultProjections: ["id"],
    systemProjections: ["location_id", "component_id"],
    attributes: {
      id: id(),
      component_id: fk("Component"),
      component: ref("Component", "component_id"),
      location_id: fk("Location"),
      location: ref("Location", "location_id"),
      resource_identifier: str(),
      url: { kind: "computed", compute: "component_url", type: "object" },
    },
    required: ["id", "component_id", "location_id"],
  }),
];

// --- users, statuses, types, schemas -----------------------------------------------------------
const simpleNamed = (
  entityId: string,
  legacy: string,
  attributes: Record<string, Attribute>,
  aliasFor?: string,
): EntityType =>
  type({
    id: entityId,
    table: entityId,
    legacy,
    primaryKey: ["id"],
    defaultProjections: ["id"],
    aliasFor,
    attributes: { id: id(), ...attributes },
  });

const workflowTypes: EntityType[] = [
  type({
    id: "User",
    table: "User",
    legacy: "user",
    base: "Resource",
    primaryKey: ["id"],
    defaultProjections: ["id"],
    systemProjections: ["resource_type"],
    attributes: {
      id: id(),
      username: str(),
      first_name: str(),
      last_name: str(),
      email: str(),
      // No schema default, as on ftrack (clients send every default with a create): the server sets true.
      is_active: bool(),
      resource_type: str({ default: "user" }),
      thumbnail_id: fk("Component", "thumbid"),
      thumbnail: ref("Component", "thumbnail_id"),
      thumbnail_url: { kind: "computed", compute: "thumbnail_url", type: "object" },
      timelogs: many("Timelog", "user_id"),
      appointments: many("Appointment", "resource_id"),
      assignments: many("Appointment", "resource_id", { filter: { attribute: "type", value: "assignment" } }),
      allocations: many("Appointment", "resource_id", { filter: { attribute: "type", value: "allocation" } }),
      metadata: metadata(),
      custom_attributes: customAttributes("UserCustomAttributeValue"),
      user_security_roles: many("UserSecurityRole", "user_id"),
    },
    required: ["id", "username"],
  }),
  type({
    id: "Resource",
    table: "User",
    legacy: "resource",
    abstract: true,
    primaryKey: ["id"],
    defaultProjections: ["id"],
    systemProjections: ["resource_type"],
    attributes: {
      id: id(),
      resource_type: str(),
      appointments: many("Appointment", "resource_id"),
      assignments: many("Appointment", "resource_id", { filter: { attribute: "type", value: "assignment" } }),
      allocations: many("Appointment", "resource_id", { filter: { attribute: "type", value: "allocation" } }),
    },
  }),
  simpleNamed("State", "statustype", { name: str(), short: str() }, "StatusType"),
  simpleNamed("Status", "taskstatus", {
    name: str(),
    color: str(),
    sort: int(0),
    is_active: bool(),
    state_id: fk("State", undefined, { hidden: true }),
    state: ref("State", "state_id"),
    tasks: many("TypedContext", "status_id"),
  }, "TaskStatus"),
  simpleNamed("Type", "tasktype", {
    name: str(),
    color: str({ default: "#510100" }),
    sort: int(0),
    is_billable: bool(true),
    tasks: many("TypedContext", "type_id"),
  }, "TaskType"),
  simpleNamed("Priority", "prioritytype", {
    name: str(),
    color: str(),
    sort: int(0),
    value: num(0),
    tasks: many("TypedContext", "priority_id"),
  }, "PriorityType"),
  simpleNamed("ObjectType", "objecttype", {
    name: str(),
    sort: int(0),
    icon: str({ default: "default" }),
    is_leaf: bool(false),
    is_typeable: bool(true),
    is_statusable: bool(true),
    is_taskable: bool(true),
    is_time_reportable: bool(false),
    is_schedulable: bool(false),
    tasks: many("TypedContext", "object_type_id"),
  }),
  simpleNamed("WorkflowSchema", "workflowscheme", {
    name: str({ default: "Workflow Name" }),
    statuses: ids("Status"),
    overrides: many("ProjectSchemaOverride", "workflow_schema_id"),
  }, "WorkflowScheme"),
  simpleNamed("TaskTypeSchema", "tasktypescheme", {
    name: str({ default: "TaskType Schema Name" }),
    types: ids("Type"),
  }, "TaskTypeScheme"),
  simpleNamed("ProjectSchema", "projectscheme", {
    name: str(),
    task_workflow_schema_id: fk("WorkflowSchema"),
    _task_workflow: ref("WorkflowSchema", "task_workflow_schema_id"),
    task_workflow_schema: ref("WorkflowSchema", "task_workflow_schema_id"),
    asset_version_workflow_schema_id: fk("WorkflowSchema"),
    _version_workflow: ref("WorkflowSchema", "asset_version_workflow_schema_id"),
    asset_version_workflow_schema: ref("WorkflowSchema", "asset_version_workflow_schema_id"),
    task_type_schema_id: fk("TaskTypeSchema"),
    _task_type_schema: ref("TaskTypeSchema", "task_type_schema_id"),
    task_type_schema: ref("TaskTypeSchema", "task_type_schema_id"),
    _schemas: many("Schema", "project_schema_id"),
    object_type_schemas: many("Schema", "project_schema_id"),
    _overrides: many("ProjectSchemaOverride", "project_schema_id"),
    task_workflow_schema_overrides: many("ProjectSchemaOverride", "project_schema_id"),
    object_types: ids("ObjectType"),
  }, "ProjectScheme"),
  simpleNamed("ProjectSchemaOverride", "projectschemeoverride", {
    project_schema_id: fk("ProjectSchema"),
    type_id: fk("Type"),
    workflow_schema_id: fk("WorkflowSchema"),
    workflow_schema: ref("WorkflowSchema", "workflow_schema_id"),
  }, "ProjectSchemeOverride"),
  // `type_id` and `object_type_id` are one column on ftrack (`typeid`): the ObjectType's id.
  simpleNamed("Schema", "schema", {
    project_schema_id: fk("ProjectSchema", "projectschemeid"),
    object_type_id: fk("ObjectType", "typeid"),
    type_id: fk("ObjectType", "typeid"),
    statuses: many("SchemaStatus", "schema_id"),
    types: many("SchemaType", "schema_id"),
  }),
  type({
    id: "SchemaStatus",
    table: "SchemaStatus",
    legacy: "schemastatus",
    primaryKey: ["status_id", "schema_id"],
    defaultProjections: ["status_id", "schema_id"],
    attributes: {
      status_id: fk("Status"),
      schema_id: fk("Schema"),
      sort: int(0),
      task_status: ref("Status", "status_id"),
    },
  }),
  type({
    id: "SchemaType",
    table: "SchemaType",
    legacy: "schematype",
    primaryKey: ["type_id", "schema_id"],
    defaultProjections: ["type_id", "schema_id"],
    attributes: {
      type_id: fk("Type"),
      schema_id: fk("Schema"),
      sort: int(0),
      task_type: ref("Type", "type_id"),
    },
  }),
];

// --- notes, metadata, custom attributes, jobs, time, lists --------------------------------------
const customAttributeValue = (entityId: string, legacy: string, target: string, base?: string): EntityType =>
  type({
    id: entityId,
    table: "CustomAttributeValue",
    legacy,
    base,
    abstract: base === undefined,
    primaryKey: ["configuration_id", "entity_id"],
    defaultProjections: base
      ? ["configuration_id", "entity_id", "key", "value"]
      : ["configuration_id", "entity_id", "value"],
    systemProjections: ["entity_id", "key"],
    attributes: {
      configuration_id: fk("CustomAttributeConfiguration", "register_id"),
      configuration: ref("CustomAttributeConfiguration", "configuration_id"),
      entity_id: fk(target),
      key: str(),
      value: { kind: "scalar", type: "variable" },
    },
  });

const noteTypes: EntityType[] = [
  simpleNamed("Note", "note", {
    content: str(),
    date: date(),
    is_todo: bool(false),
    completed_at: date(),
    completed_by_id: fk("User"),
    completed_by: ref("User", "completed_by_id"),
    parent_id: str(),
    parent_type: str(),
    user_id: fk("User"),
    author: ref("User", "user_id"),
    category_id: fk("NoteCategory"),
    category: ref("NoteCategory", "category_id"),
    in_reply_to_id: fk("Note"),
    in_reply_to: ref("Note", "in_reply_to_id"),
    replies: many("Note", "in_reply_to_id"),
    recipients: many("Recipient", "note_id"),
    note_components: many("NoteComponent", "note_id"),
    note_label_links: many("NoteLabelLink", "note_id"),
    thread_activity: date(),
    metadata: metadata(),
  }),
  // One table on ftrack (both alias NoteCategory): current clients send a note's category as a label.
  {
    ...simpleNamed("NoteCategory", "notecategory", { name: str(), color: str(), sort: int(0) }, "NoteCategory"),
    sameAs: "NoteLabel",
  },
  {
    ...simpleNamed("NoteLabel", "notecategory", { name: str(), color: str(), sort: int(0) }, "NoteCategory"),
    table: "NoteCategory",
    sameAs: "NoteCategory",
  },
  type({
    id: "NoteLabelLink",
    table: "NoteLabelLink",
    legacy: "notelabellink",
    primaryKey: ["note_id", "label_id"],
    defaultProjections: ["note_id", "label_id"],
    attributes: {
      note_id: fk("Note"),
      note: ref("Note", "note_id"),
      label_id: fk("NoteLabel"),
      label: ref("NoteLabel", "label_id"),
    },
  }),
  type({
    id: "Recipient",
    table: "Recipient",
    legacy: "recipient",
    primaryKey: ["note_id", "resource_id"],
    defaultProjections: ["note_id", "resource_id"],
    attributes: {
      note_id: fk("Note"),
      note: ref("Note", "note_id"),
      resource_id: fk("Resource"),
      recipient: ref("Resource", "resource_id"),
      user: ref("User", "resource_id"),
      text_mentioned: str(),
    },
  }),
  type({
    id: "NoteComponent",
    table: "NoteComponent",
    legacy: "notecomponent",
    primaryKey: ["component_id", "note_id"],
    defaultProjections: ["component_id", "note_id"],
    attributes: {
      component_id: fk("Component"),
      component: ref("Component", "component_id"),
      note_id: fk("Note"),
      note: ref("Note", "note_id"),
    },
  }),
  type({
    id: "Metadata",
    table: "Metadata",
    legacy: "meta",
    primaryKey: ["parent_id", "key"],
    defaultProjections: ["parent_id", "key", "value", "parent_type"],
    aliasFor: "Meta",
    attributes: { parent_id: str(), parent_type: str(), key: str(), value: str({ textual: true }) },
    required: ["parent_id", "key", "value", "parent_type"],
  }),
  simpleNamed("CustomAttributeType", "customattributetype", {
    name: str(),
    form_config: str(),
    core: bool(false),
    custom_attribute_configurations: many("CustomAttributeConfiguration", "type_id"),
  }),
  simpleNamed("CustomAttributeGroup", "customattributegroup", {
    name: str(),
    custom_attribute_configurations: many("CustomAttributeConfiguration", "group_id"),
  }, "AttributeGroup"),
  simpleNamed("CustomAttributeConfiguration", "customattributeconfiguration", {
    key: str(),
    label: str(),
    entity_type: str(),
    object_type_id: str(),
    object_type: ref("ObjectType", "object_type_id"),
    project_id: str(),
    is_hierarchical: bool(false),
    default: { kind: "scalar", type: "variable", default: "" },
    config: str(),
    sort: int(0),
    core: bool(false),
    type_id: fk("CustomAttributeType"),
    type: ref("CustomAttributeType", "type_id"),
    group_id: fk("CustomAttributeGroup"),
    group: ref("CustomAttributeGroup", "group_id"),
    values: many("CustomAttributeValue", "configuration_id"),
  }, "Variable_Register"),
  customAttributeValue("CustomAttributeValue", "customattributevalue", "Context"),
  customAttributeValue("ContextCustomAttributeValue", "customattributevalue", "Context", "CustomAttributeValue"),
  customAttributeValue(
    "AssetVersionCustomAttributeValue",
    "customattributevalue",
    "AssetVersion",
    "CustomAttributeValue",
  ),
  customAttributeValue("AssetCustomAttributeValue", "customattributevalue", "Asset", "CustomAttributeValue"),
  customAttributeValue("UserCustomAttributeValue", "customattributevalue", "User", "CustomAttributeValue"),
  customAttributeValue("ListCustomAttributeValue", "customattributevalue", "List", "CustomAttributeValue"),
  simpleNamed("Job", "job", {
    status: str({ default: "queued", enum: ["queued", "running", "done", "failed"] }),
    type: str({ default: "api_job" }),
    data: str({ format: "json" }),
    user_id: fk("User"),
    user: ref("User", "user_id"),
    created_at: date(),
    finished_at: date(),
    job_components: many("JobComponent", "job_id"),
  }),
  type({
    id: "JobComponent",
    table: "JobComponent",
    legacy: "jobcomponent",
    primaryKey: ["component_id", "job_id"],
    defaultProjections: ["component_id", "job_id"],
    attributes: {
      component_id: fk("Component"),
      component: ref("Component", "component_id"),
      job_id: fk("Job"),
      job: ref("Job", "job_id"),
      url: { kind: "computed", compute: "component_url", type: "object" },
    },
  }),
  simpleNamed("Timer", "timer", {
    name: str(),
    comment: str({ default: "" }),
    start: date(),
    user_id: fk("User"),
    user: ref("User", "user_id"),
    context_id: fk("Context"),
    context: ref("Context", "context_id"),
  }),
  simpleNamed("Timelog", "timelog", {
    name: str(),
    comment: str({ default: "" }),
    start: date(),
    duration: num(),
    time_zone_offset: num(),
    user_id: fk("User"),
    user: ref("User", "user_id"),
    context_id: fk("Context"),
    context: ref("Context", "context_id"),
  }),
  simpleNamed("Appointment", "appointment", {
    type: str(),
    context_id: fk("Context"),
    context: ref("Context", "context_id"),
    resource_id: fk("Resource"),
    resource: ref("Resource", "resource_id"),
  }),
  simpleNamed("Scope", "scope", { name: str() }),
  simpleNamed("ListCategory", "listtype", { name: str(), lists: many("List", "category_id") }, "ListType"),
  ...(["List", "TypedContextList", "AssetVersionList"] as const).map((entityId) =>
    type({
      id: entityId,
      table: "List",
      legacy: "list",
      base: entityId === "List" ? undefined : "List",
      abstract: entityId === "List",
      primaryKey: ["id"],
      defaultProjections: ["id"],
      systemProjections: ["showid"],
      aliasFor: entityId === "List"
        ? undefined
        : { id: "List", classifiers: { entity: entityId === "TypedContextList" ? "task" : "assetversion" } },
      attributes: {
        id: id(),
        name: str({ default: "" }),
        is_open: bool(true),
        system_type: str({ default: entityId === "AssetVersionList" ? "assetversion" : "task" }),
        date: date(),
        project_id: fk("Project", "showid"),
        project: ref("Project", "project_id"),
        category_id: fk("ListCategory"),
        category: ref("ListCategory", "category_id"),
        user_id: fk("User"),
        owner: ref("User", "user_id"),
        custom_attributes: customAttributes("ListCustomAttributeValue"),
        ...(entityId === "List"
          ? {}
          : { items: ids(entityId === "TypedContextList" ? "TypedContext" : "AssetVersion") }),
      },
    })
  ),
  // A dependency between two typed contexts (ftrack's `Dependency`): `from` must happen before `to`.
  type({
    id: "TypedContextLink",
    table: "TypedContextLink",
    legacy: "dependency",
    primaryKey: ["id"],
    defaultProjections: ["id", "from_id", "to_id"],
    required: ["id", "from_id", "to_id"],
    attributes: {
      id: id(),
      from_id: fk("TypedContext"),
      from: ref("TypedContext", "from_id"),
      to_id: fk("TypedContext"),
      to: ref("TypedContext", "to_id"),
      metadata: metadata(),
    },
  }),
  type({
    id: "ListObject",
    table: "ListObject",
    legacy: "listobject",
    primaryKey: ["id"],
    defaultProjections: ["id", "entity_id", "list_id"],
    attributes: { id: id(), entity_id: str(), list_id: fk("List"), list: ref("List", "list_id") },
  }),
];

// --- security roles (read-only, derived from the tracker's own roles: see ../security_roles.ts) -------
/**
 * The tables whose rows are not stored but worked out from the roles the tracker keeps with its API
 * keys: nothing is indexed or written in them; the graph answers for them.
 */
export const DERIVED_TABLES: ReadonlySet<string> = new Set([
  "SecurityRole",
  "UserSecurityRole",
  "UserSecurityRoleProject",
]);

const securityRoleTypes: EntityType[] = [
  type({
    id: "SecurityRole",
    table: "SecurityRole",
    legacy: "role",
    primaryKey: ["id"],
    defaultProjections: ["id", "name"],
    aliasFor: "Auth_Role",
    attributes: {
      id: id(),
      name: str(),
      type: str({ legacy: "typeid" }),
      user_security_roles: many("UserSecurityRole", "security_role_id"),
    },
  }),
  type({
    id: "UserSecurityRole",
    table: "UserSecurityRole",
    legacy: "userrole",
    primaryKey: ["id"],
    defaultProjections: ["id", "user_id", "security_role_id"],
    aliasFor: "Auth_UserRole",
    attributes: {
      id: id(),
      user_id: fk("User", "userid"),
      user: ref("User", "user_id"),
      security_role_id: fk("SecurityRole", "roleid"),
      security_role: ref("SecurityRole", "security_role_id", "role"),
      is_all_projects: bool(),
      is_all_open_projects: bool(),
      user_security_role_projects: many("UserSecurityRoleProject", "user_security_role_id"),
    },
  }),
  type({
    id: "UserSecurityRoleProject",
    table: "UserSecurityRoleProject",
    legacy: "userroleproject",
    primaryKey: ["id"],
    defaultProjections: ["id", "user_security_role_id", "project_id"],
    aliasFor: "UserRoleProject",
    attributes: {
      id: id(),
      user_security_role_id: fk("UserSecurityRole", "user_role_id"),
      user_security_role: ref("UserSecurityRole", "user_security_role_id", "user_role"),
      project_id: fk("Project"),
      project: ref("Project", "project_id"),
    },
  }),
];

/** Every entity type the embedded tracker serves, by schema id. */
export const ENTITY_TYPES: ReadonlyMap<string, EntityType> = new Map(
  [...contextTypes, ...assetTypes, ...workflowTypes, ...noteTypes, ...securityRoleTypes].map((
    entity,
  ) => [entity.id, entity]),
);
