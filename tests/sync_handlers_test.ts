/**
 * The built-in status automations through the real services (leecher, processor) on the
 * embedded tracker with a SQLite store: each acts once configured in the settings, not when
 * switched off, and the service's own changes do not start a loop. Changes are made by a
 * supervisor; the processor works as the tracker's service user.
 */
import { strictEqual } from "node:assert/strict";
import type { Session } from "@ftrack/api";
import { openSession } from "./_tracker.ts";
import { settle, startServices, trackerAndStore, waitFor } from "./_sync.ts";

async function statusOf(session: Session, type: string, id: string): Promise<string> {
  return String((await session.query(`select status.name from ${type} where id is "${id}"`)).data[0]!.status.name);
}

Deno.test({
  name: "status automation handlers follow their settings and do not loop",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store } = fixture;
    await store.setSettings("production", {
      handlers: {
        "version-to-task-status": {
          mapping: { approved: ["Completed"] },
          assetTypes: { mode: "deny", names: ["audio"] },
        },
        "task-to-version-status": { mapping: { Revise: "Revise" } },
        "task-to-parent-status": {
          all: [{ statuses: ["Completed", "Omitted"], parent: "Completed" }],
          any: [{ statuses: ["In progress", "Revise"], parent: "In progress" }],
        },
        "next-task-update": { order: ["Layout", "Lighting"], doneStatuses: ["Completed"] },
        "first-version-status": { taskTypes: { "*": "Pending Review" } },
        "thumbnail-updates": { levels: 1 },
      },
    });
    const supervisor = running.tracker.addUser({ username: "supervisor" }, { administrator: true });
    const human = await openSession(running, { apiUser: "supervisor", apiKey: supervisor.apiKey });
    await using _services = await startServices(running, store);
    const statuses = new Map(
      (await human.query("select id, name from Status")).data.map((row) => [row.name, row.id] as const),
    );
    const types = new Map(
      (await human.query("select id, name from Type")).data.map((row) => [row.name, row.id] as const),
    );
    const schema = (await human.query("select id from ProjectSchema")).data[0]!;
    const project = (await human.create("Project", { name: "auto", full_name: "auto", project_schema_id: schema.id }))
      .data;
    const shot = (await human.create("Shot", { name: "sh010", parent_id: project.id })).data;
    const layout = (await human.create("Task", { name: "layout", parent_id: shot.id, type_id: types.get("Layout") }))
      .data;
    const lighting =
      (await human.create("Task", { name: "lighting", parent_id: shot.id, type_id: types.get("Lighting") }))
        .data;
    const assetType = (await human.query('select id from AssetType where short is "render"')).data[0]!;
    const asset = (await human.create("Asset", { name: "main", context_id: shot.id, type_id: assetType.id })).data;

    // First version of an asset on a task: its status from the settings.
    const v1 = (await human.create("AssetVersion", { asset_id: asset.id, task_id: layout.id, version: 1 })).data;
    await waitFor(
      async () => (await statusOf(human, "AssetVersion", v1.id)) === "Pending Review",
      "the first version status",
    );

    // Task in progress → parent in progress (any rule).
    await human.update("Task", [layout.id], { status_id: statuses.get("In progress") });
    await waitFor(async () => (await statusOf(human, "Shot", shot.id)) === "In progress", "the parent status (any)");

    // Version approved → task completed → next task ready, and the parent stays in progress until all are done.
    await human.update("AssetVersion", [v1.id], { status_id: statuses.get("Approved") });
    await waitFor(async () => (await statusOf(human, "Task", layout.id)) === "Completed", "version → task status");
    await waitFor(async () => (await statusOf(human, "Task", lighting.id)) === "Ready to start", "the next task");
    await human.update("Task", [lighting.id], { status_id: statuses.get("Completed") });
    await waitFor(async () => (await statusOf(human, "Shot", shot.id)) === "Completed", "the parent status (all)");

    // The supervisor sends the task back: its latest version follows; the service's own change is not echoed.
    await human.update("Task", [layout.id], { status_id: statuses.get("Revise") });
    await waitFor(async () => (await statusOf(human, "AssetVersion", v1.id)) === "Revise", "task → version status");
    await settle(store);
    strictEqual(await statusOf(human, "Task", layout.id), "Revise", "version → task did not undo the supervisor");

    // Thumbnail: the version's new thumbnail goes to the task and one level up.
    const component = (await human.create("FileComponent", { name: "thumbnail", version_id: v1.id })).data;
    await human.update("AssetVersion", [v1.id], { thumbnail_id: component.id });
    const thumbnailOf = async (id: string) =>
      (await human.query(`select thumbnail_id from TypedContext where id is "${id}"`)).data[0]!.thumbnail_id;
    await waitFor(async () => (await thumbnailOf(shot.id)) === component.id, "the thumbnail on the shot");
    strictEqual(await thumbnailOf(layout.id), component.id);

    // Switched off for the project: nothing happens.
    await store.setSettings("production", { handlers: { "version-to-task-status": { enabled: false } } }, {
      project: "auto",
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await human.update("AssetVersion", [v1.id], { status_id: statuses.get("Approved") });
    await settle(store);
    strictEqual(await statusOf(human, "Task", layout.id), "Revise", "switched off: the task keeps its status");
  },
});

Deno.test({
  name: "push-hierarchical-values keeps a Shot's hierarchical and per-object-type frame values equal, both ways",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store } = fixture;
    await store.setSettings("production", {
      handlers: { "push-hierarchical-values": { attributes: ["frameStart"], objectTypes: ["Shot"] } },
    });
    const supervisor = running.tracker.addUser({ username: "supervisor" }, { administrator: true });
    const human = await openSession(running, { apiUser: "supervisor", apiKey: supervisor.apiKey });
    const numberType = (await human.query('select id from CustomAttributeType where name is "number"')).data[0]!;
    const shotType = (await human.query('select id from ObjectType where name is "Shot"')).data[0]!;
    const perType = (await human.create("CustomAttributeConfiguration", {
      key: "frameStart",
      label: "Frame start (Shot)",
      type_id: numberType.id,
      entity_type: "task",
      object_type_id: shotType.id,
      is_hierarchical: false,
      default: 0,
      config: JSON.stringify({ isdecimal: false }),
    })).data;
    const hierarchical = (await human.query(
      'select id from CustomAttributeConfiguration where key is "frameStart" and is_hierarchical is true',
    )).data[0]!;
    await using _services = await startServices(running, store);
    const schema = (await human.query("select id from ProjectSchema")).data[0]!;
    const project = (await human.create("Project", { name: "push", full_name: "push", project_schema_id: schema.id }))
      .data;
    const shot = (await human.create("Shot", { name: "sh010", parent_id: project.id })).data;
    const own = async (configurationId: string) =>
      (await human.query(
        `select value from CustomAttributeValue where configuration_id is "${configurationId}" and entity_id is "${shot.id}"`,
      )).data[0]?.value;
    await human.update("ContextCustomAttributeValue", [hierarchical.id, shot.id], { value: 1009 });
    await waitFor(async () => (await own(perType.id)) === 1009, "hierarchical → per object type");
    await human.update("ContextCustomAttributeValue", [perType.id, shot.id], { value: 1021 });
    await waitFor(async () => (await own(hierarchical.id)) === 1021, "per object type → hierarchical");
    await settle(store);
    strictEqual(await own(perType.id), 1021, "no ping-pong");
  },
});
