/**
 * The built-in handlers' ayon-ftrack behaviours beyond the basics of `sync_handlers_test.ts`,
 * through the real leecher and processor on the embedded tracker with a SQLite store, each with
 * the settings that switch it on and off: next task update by type batch and by name, the push of
 * hierarchical values to tasks on create and move, and the parent object types of task → parent
 * status.
 */
import { ok, strictEqual } from "node:assert/strict";
import type { Session } from "@ftrack/api";
import { memoryTracker, openSession } from "./_tracker.ts";
import { settle, startServices, trackerAndStore, waitFor } from "./_sync.ts";
import type { PipelineStore } from "../src/store/mod.ts";

async function statusOf(session: Session, type: string, id: string): Promise<string> {
  return String((await session.query(`select status.name from ${type} where id is "${id}"`)).data[0]!.status.name);
}

/** A supervisor's session, the statuses and task types by name, makers, and the services to start. */
async function workspace(running: Awaited<ReturnType<typeof memoryTracker>>, store: PipelineStore) {
  const supervisor = running.tracker.addUser({ username: "supervisor" }, { administrator: true });
  const human = await openSession(running, { apiUser: "supervisor", apiKey: supervisor.apiKey });
  const byName = async (type: string) =>
    new Map((await human.query(`select id, name from ${type}`)).data.map((row) => [row.name, row.id] as const));
  const statuses = await byName("Status");
  const types = await byName("Type");
  const schema = (await human.query("select id from ProjectSchema")).data[0]!;
  const project = async (name: string) =>
    (await human.create("Project", { name, full_name: name, project_schema_id: schema.id })).data;
  const task = async (parentId: string, name: string, type: string, status = "Not started") =>
    (await human.create("Task", {
      name,
      parent_id: parentId,
      type_id: types.get(type),
      status_id: statuses.get(status),
    })).data;
  const renderType = async () => (await human.query('select id from AssetType where short is "render"')).data[0]!;
  return { human, statuses, types, project, task, store, renderType, services: () => startServices(running, store) };
}

type Workspace = Awaited<ReturnType<typeof workspace>>;

/** A test on its own embedded tracker and SQLite store. */
function trackerTest(name: string, fn: (workspace: Workspace) => Promise<void>): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await using fixture = await trackerAndStore();
      const { running, store } = fixture;
      await fn(await workspace(running, store));
    },
  });
}

trackerTest(
  "nextTaskUpdate moves the next type once a type is all done, or the next task by name with nameSorting",
  async ({ human, statuses, project, task, store, services }) => {
    const byType = await project("bytype");
    const byName = await project("byname");
    const off = await project("off");
    const settings = { order: "tracker", doneStatuses: ["Completed"], ignoredStatuses: ["Omitted"] };
    await store.setSettings("production", { handlers: { "next-task-update": settings } }, { project: "bytype" });
    await store.setSettings("production", { handlers: { "next-task-update": { ...settings, nameSorting: true } } }, {
      project: "byname",
    });
    await store.setSettings("production", {
      handlers: { "next-task-update": { ...settings, nameSorting: true, enabled: false } },
    }, { project: "off" });
    await store.setSettings("production", { handlers: { "next-task-update": { order: "tracker" } } }, {
      project: "bystate",
    });
    await using _services = await services();
    const set = (id: string, status: string) => human.update("Task", [id], { status_id: statuses.get(status) });

    // By type (the tracker's order: Animation before Lighting): the animation batch must be all done.
    const shotA = (await human.create("Shot", { name: "sh010", parent_id: byType.id })).data;
    const animA = await task(shotA.id, "anim_a", "Animation");
    const animB = await task(shotA.id, "anim_b", "Animation");
    await task(shotA.id, "anim_c", "Animation", "Omitted");
    const light = await task(shotA.id, "light", "Lighting");
    await set(animA.id, "Completed");
    await settle(store);
    strictEqual(await statusOf(human, "Task", animB.id), "Not started", "a same-type task is not the next one");
    strictEqual(await statusOf(human, "Task", light.id), "Not started", "the animation batch is not done yet");
    await set(animB.id, "Completed");
    await waitFor(async () => (await statusOf(human, "Task", light.id)) === "Ready to start", "the next type");

    // By name: one task after another, numbers in names compared as numbers, ignored statuses skipped.
    const shotB = (await human.create("Shot", { name: "sh010", parent_id: byName.id })).data;
    const lightB = await task(shotB.id, "light", "Lighting");
    const comp1 = await task(shotB.id, "comp1", "Compositing");
    const comp2 = await task(shotB.id, "comp2", "Compositing");
    await task(shotB.id, "comp3", "Compositing", "Omitted");
    const comp10 = await task(shotB.id, "comp10", "Compositing");
    await set(lightB.id, "Completed");
    await waitFor(async () => (await statusOf(human, "Task", comp1.id)) === "Ready to start", "comp1 after light");
    await set(comp1.id, "Completed");
    await waitFor(async () => (await statusOf(human, "Task", comp2.id)) === "Ready to start", "comp2 after comp1");
    await settle(store);
    strictEqual(await statusOf(human, "Task", comp10.id), "Not started", "one task at a time");
    await set(comp2.id, "Completed");
    await waitFor(
      async () => (await statusOf(human, "Task", comp10.id)) === "Ready to start",
      "comp10 after comp2 (comp3 omitted)",
    );

    // Without doneStatuses, any status of the Done state counts (Approved here).
    const stateProject = await project("bystate");
    const shotS = (await human.create("Shot", { name: "sh010", parent_id: stateProject.id })).data;
    const lightS = await task(shotS.id, "light", "Lighting");
    const compS = await task(shotS.id, "comp", "Compositing");
    await set(lightS.id, "Approved");
    await waitFor(async () => (await statusOf(human, "Task", compS.id)) === "Ready to start", "a Done-state status");

    // Switched off for a project: nothing moves.
    const shotC = (await human.create("Shot", { name: "sh010", parent_id: off.id })).data;
    const lightC = await task(shotC.id, "light", "Lighting");
    const compC = await task(shotC.id, "comp1", "Compositing");
    await set(lightC.id, "Completed");
    await settle(store);
    strictEqual(await statusOf(human, "Task", compC.id), "Not started", "switched off");
  },
);

trackerTest(
  "pushHierarchicalValues gives a created or moved task its parent's value, and a Shot's change to its tasks",
  async ({ human, project, task, store, services }) => {
    const numberType = (await human.query('select id from CustomAttributeType where name is "number"')).data[0]!;
    const objectType = async (name: string) =>
      (await human.query(`select id from ObjectType where name is "${name}"`)).data[0]!.id;
    const perType = async (objectTypeName: string) =>
      (await human.create("CustomAttributeConfiguration", {
        key: "frameStart",
        label: `Frame start (${objectTypeName})`,
        type_id: numberType.id,
        entity_type: "task",
        object_type_id: await objectType(objectTypeName),
        is_hierarchical: false,
        default: 0,
        config: JSON.stringify({ isdecimal: false }),
      })).data;
    await perType("Shot");
    const taskFrameStart = await perType("Task");
    const hierarchical = (await human.query(
      'select id from CustomAttributeConfiguration where key is "frameStart" and is_hierarchical is true',
    )).data[0]!;
    const handler = { attributes: ["frameStart"], objectTypes: ["Shot"] };
    await store.setSettings("production", { handlers: { "push-hierarchical-values": handler } }, { project: "push" });
    await store.setSettings("production", {
      handlers: { "push-hierarchical-values": { ...handler, tasksOnCreate: false, pushToTasks: false } },
    }, { project: "quiet" });
    await using _services = await services();
    const own = async (configurationId: string, entityId: string) =>
      (await human.query(
        `select value from CustomAttributeValue where configuration_id is "${configurationId}" and entity_id is "${entityId}"`,
      )).data[0]?.value;
    const setHierarchical = (entityId: string, value: number) =>
      human.update("ContextCustomAttributeValue", [hierarchical.id, entityId], { value });

    const push = await project("push");
    const sh010 = (await human.create("Shot", { name: "sh010", parent_id: push.id })).data;
    const sh020 = (await human.create("Shot", { name: "sh020", parent_id: push.id })).data;
    await setHierarchical(sh010.id, 1001);
    await setHierarchical(sh020.id, 2001);
    await settle(store);
    const comp = await task(sh010.id, "comp", "Compositing");
    await waitFor(async () => (await own(taskFrameStart.id, comp.id)) === 1001, "the created task's value");
    await human.update("Task", [comp.id], { parent_id: sh020.id });
    await waitFor(async () => (await own(taskFrameStart.id, comp.id)) === 2001, "the moved task's value");
    await setHierarchical(sh020.id, 2101);
    await waitFor(async () => (await own(taskFrameStart.id, comp.id)) === 2101, "the shot's change on its task");
    await settle(store);
    strictEqual(await own(hierarchical.id, comp.id), undefined, "the task still inherits (no value pinned on it)");

    // Switched off: a created task and a shot's change leave the task alone.
    const quiet = await project("quiet");
    const sh030 = (await human.create("Shot", { name: "sh030", parent_id: quiet.id })).data;
    await setHierarchical(sh030.id, 3001);
    await settle(store);
    const light = await task(sh030.id, "light", "Lighting");
    await setHierarchical(sh030.id, 3101);
    await settle(store);
    strictEqual(await own(taskFrameStart.id, light.id), undefined, "tasksOnCreate and pushToTasks off");
  },
);

trackerTest(
  "taskToParentStatus changes only the parents of parentObjectTypes",
  async ({ human, statuses, project, task, store, services }) => {
    await store.setSettings("production", {
      handlers: {
        "task-to-parent-status": {
          any: [{ statuses: ["In progress"], parent: "In progress" }],
          parentObjectTypes: ["asset build"],
        },
      },
    });
    await using _services = await services();
    const parents = await project("parents");
    const shot = (await human.create("Shot", { name: "sh010", parent_id: parents.id })).data;
    const build = (await human.create("AssetBuild", { name: "hero", parent_id: parents.id })).data;
    const shotTask = await task(shot.id, "light", "Lighting");
    const buildTask = await task(build.id, "model", "Modeling");
    await human.update("Task", [shotTask.id], { status_id: statuses.get("In progress") });
    await human.update("Task", [buildTask.id], { status_id: statuses.get("In progress") });
    await waitFor(async () => (await statusOf(human, "AssetBuild", build.id)) === "In progress", "the asset build");
    await settle(store);
    strictEqual(await statusOf(human, "Shot", shot.id), "Not started", "a Shot is not among parentObjectTypes");
  },
);

trackerTest(
  "taskToVersionStatus leaves the versions of a denied asset type alone, and does nothing switched off",
  async ({ human, statuses, project, task, store, services }) => {
    const mapping = { Revise: "Revise" };
    await store.setSettings("production", {
      handlers: { "task-to-version-status": { mapping, assetTypes: { mode: "deny", names: ["audio"] } } },
    }, { project: "versions" });
    await store.setSettings("production", {
      handlers: { "task-to-version-status": { mapping, enabled: false } },
    }, { project: "quiet" });
    await using _services = await services();
    const versionsOf = async (name: string) => {
      const root = await project(name);
      const shot = (await human.create("Shot", { name: "sh010", parent_id: root.id })).data;
      const comp = await task(shot.id, "comp", "Compositing");
      const version = async (short: string) => {
        const type = (await human.query(`select id from AssetType where short is "${short}"`)).data[0]!;
        const asset = (await human.create("Asset", { name: short, context_id: shot.id, type_id: type.id })).data;
        return (await human.create("AssetVersion", { asset_id: asset.id, task_id: comp.id, version: 1 })).data;
      };
      return { comp, render: await version("render"), audio: await version("audio") };
    };
    const live = await versionsOf("versions");
    const quiet = await versionsOf("quiet");
    await settle(store);
    await human.update("Task", [live.comp.id], { status_id: statuses.get("Revise") });
    await human.update("Task", [quiet.comp.id], { status_id: statuses.get("Revise") });
    await waitFor(async () => (await statusOf(human, "AssetVersion", live.render.id)) === "Revise", "the render");
    await settle(store);
    ok((await statusOf(human, "AssetVersion", live.audio.id)) !== "Revise", "audio is denied");
    ok((await statusOf(human, "AssetVersion", quiet.render.id)) !== "Revise", "switched off");
  },
);

trackerTest(
  "thumbnailUpdates counts levels from the asset's parent as ayon-ftrack does, and does nothing switched off",
  async ({ human, project, task, store, services, renderType }) => {
    const levels = (n: number, enabled = true) => ({ handlers: { "thumbnail-updates": { levels: n, enabled } } });
    await store.setSettings("production", levels(2), { project: "two" });
    await store.setSettings("production", levels(1), { project: "one" });
    await store.setSettings("production", levels(2, false), { project: "off" });
    await using _services = await services();
    const render = await renderType();
    const thumbnailOf = async (id: string) =>
      (await human.query(`select thumbnail_id from TypedContext where id is "${id}"`)).data[0]!.thumbnail_id ?? null;
    /** A sequence, a shot, a comp task, and a version (on the task or not) whose thumbnail is set. */
    const thumbnailed = async (name: string, onTask: boolean) => {
      const root = await project(name);
      const sequence = (await human.create("Sequence", { name: "sq010", parent_id: root.id })).data;
      const shot = (await human.create("Shot", { name: "sh010", parent_id: sequence.id })).data;
      const comp = await task(shot.id, "comp", "Compositing");
      const asset = (await human.create("Asset", { name: "main", context_id: shot.id, type_id: render.id })).data;
      const version = (await human.create("AssetVersion", {
        asset_id: asset.id,
        version: 1,
        ...(onTask ? { task_id: comp.id } : {}),
      })).data;
      const component = (await human.create("FileComponent", { name: "thumbnail", version_id: version.id })).data;
      await human.update("AssetVersion", [version.id], { thumbnail_id: component.id });
      return { sequence, shot, comp, thumbnail: component.id as string };
    };
    const two = await thumbnailed("two", true);
    await waitFor(async () => (await thumbnailOf(two.sequence.id)) === two.thumbnail, "level 2: the sequence");
    strictEqual(await thumbnailOf(two.shot.id), two.thumbnail);
    strictEqual(await thumbnailOf(two.comp.id), two.thumbnail);
    const one = await thumbnailed("one", false);
    await waitFor(async () => (await thumbnailOf(one.shot.id)) === one.thumbnail, "level 1: the shot");
    const off = await thumbnailed("off", true);
    await settle(store);
    strictEqual(await thumbnailOf(one.sequence.id), null, "level 1 stops at the shot (no task: not one more)");
    strictEqual(await thumbnailOf(one.comp.id), null, "a version without a task sets no task's thumbnail");
    strictEqual(await thumbnailOf(off.shot.id), null, "switched off");
  },
);

trackerTest(
  "firstVersionStatus maps by task name before task type, only for an asset's first version on a task",
  async ({ human, statuses, project, task, store, services, renderType }) => {
    const mapping = { tasks: { COMP: "On hold" }, taskTypes: { compositing: "Revise" } };
    await store.setSettings("production", { handlers: { "first-version-status": mapping } }, { project: "first" });
    await store.setSettings("production", { handlers: { "first-version-status": { ...mapping, enabled: false } } }, {
      project: "quiet",
    });
    await using _services = await services();
    const render = await renderType();
    const setUp = async (name: string) => {
      const root = await project(name);
      const shot = (await human.create("Shot", { name: "sh010", parent_id: root.id })).data;
      const comp = await task(shot.id, "comp", "Compositing");
      const paint = await task(shot.id, "paint", "Compositing");
      const asset = (await human.create("Asset", { name: "main", context_id: shot.id, type_id: render.id })).data;
      const version = async (taskId: string, number: number) =>
        (await human.create("AssetVersion", {
          asset_id: asset.id,
          task_id: taskId,
          version: number,
          status_id: statuses.get("Approved"),
        })).data;
      return { comp, paint, version };
    };
    const first = await setUp("first");
    const onComp = await first.version(first.comp.id, 1);
    const onPaint = await first.version(first.paint.id, 2);
    await waitFor(async () => (await statusOf(human, "AssetVersion", onComp.id)) === "On hold", "by task name");
    await waitFor(async () => (await statusOf(human, "AssetVersion", onPaint.id)) === "Revise", "by task type");
    const second = await first.version(first.comp.id, 3);
    const quiet = await setUp("quiet");
    const quietVersion = await quiet.version(quiet.comp.id, 1);
    await settle(store);
    strictEqual(await statusOf(human, "AssetVersion", second.id), "Approved", "not the first on its task");
    strictEqual(await statusOf(human, "AssetVersion", quietVersion.id), "Approved", "switched off");
  },
);

trackerTest(
  "versionToTaskStatus with sameName gives the task the version's own status name when nothing is mapped",
  async ({ human, statuses, project, task, store, services, renderType }) => {
    const handler = { mapping: { approved: "Completed" }, sameName: true };
    await store.setSettings("production", { handlers: { "version-to-task-status": handler } }, { project: "same" });
    await store.setSettings("production", {
      handlers: { "version-to-task-status": { ...handler, sameName: false } },
    }, { project: "mapped" });
    await using _services = await services();
    const render = await renderType();
    const setUp = async (name: string) => {
      const root = await project(name);
      const shot = (await human.create("Shot", { name: "sh010", parent_id: root.id })).data;
      const comp = await task(shot.id, "comp", "Compositing");
      const asset = (await human.create("Asset", { name: "main", context_id: shot.id, type_id: render.id })).data;
      const version = (await human.create("AssetVersion", { asset_id: asset.id, task_id: comp.id, version: 1 })).data;
      return { comp, version };
    };
    const same = await setUp("same");
    const mapped = await setUp("mapped");
    await settle(store);
    await human.update("AssetVersion", [same.version.id], { status_id: statuses.get("Revise") });
    await human.update("AssetVersion", [mapped.version.id], { status_id: statuses.get("Revise") });
    await waitFor(async () => (await statusOf(human, "Task", same.comp.id)) === "Revise", "the same name");
    await human.update("AssetVersion", [same.version.id], { status_id: statuses.get("Approved") });
    await waitFor(async () => (await statusOf(human, "Task", same.comp.id)) === "Completed", "the mapping first");
    await settle(store);
    strictEqual(await statusOf(human, "Task", mapped.comp.id), "Not started", "sameName off: unmapped is left alone");
  },
);

trackerTest(
  "firstAllowed() keeps versionToTaskStatus, taskToVersionStatus and taskToParentStatus to statuses the workflow offers",
  async ({ human, statuses, types, project, task, store, services, renderType }) => {
    // Compositing tasks get a workflow of their own, without "Completed".
    const workflow = (await human.create("WorkflowSchema", {
      name: "comp",
      statuses: ["Not started", "In progress", "Pending Review"].map((name) => ({
        __entity_type__: "Status",
        id: statuses.get(name),
      })),
    })).data;
    const schema = (await human.query("select id from ProjectSchema")).data[0]!;
    await human.create("ProjectSchemaOverride", {
      project_schema_id: schema.id,
      type_id: types.get("Compositing"),
      workflow_schema_id: workflow.id,
    });
    await store.setSettings("production", {
      handlers: {
        "version-to-task-status": { mapping: { Approved: ["Completed", "Pending Review"] } },
        "task-to-version-status": { mapping: { "In progress": "Completed" } },
        "task-to-parent-status": { any: [{ statuses: ["In progress"], parent: "Approved" }] },
      },
    });
    await using _services = await services();
    const render = await renderType();
    const root = await project("workflows");
    const shot = (await human.create("Shot", { name: "sh010", parent_id: root.id })).data;
    const comp = await task(shot.id, "comp", "Compositing");
    const light = await task(shot.id, "light", "Lighting");
    const asset = (await human.create("Asset", { name: "main", context_id: shot.id, type_id: render.id })).data;
    const version = async (taskId: string, number: number) =>
      (await human.create("AssetVersion", { asset_id: asset.id, task_id: taskId, version: number })).data;
    const onComp = await version(comp.id, 1);
    const onLight = await version(light.id, 2);
    await settle(store);
    await human.update("AssetVersion", [onComp.id], { status_id: statuses.get("Approved") });
    await human.update("AssetVersion", [onLight.id], { status_id: statuses.get("Approved") });
    await waitFor(async () => (await statusOf(human, "Task", light.id)) === "Completed", "the first mapped status");
    await waitFor(
      async () => (await statusOf(human, "Task", comp.id)) === "Pending Review",
      "the next mapped status, as Compositing's workflow has no Completed",
    );
    const versionBefore = await statusOf(human, "AssetVersion", onLight.id);
    await human.update("Task", [light.id], { status_id: statuses.get("In progress") });
    await settle(store);
    strictEqual(await statusOf(human, "AssetVersion", onLight.id), versionBefore, "versions have no Completed");
    strictEqual(await statusOf(human, "Shot", shot.id), "Not started", "a Shot's workflow has no Approved");
  },
);
