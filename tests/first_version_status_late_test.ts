/**
 * `first-version-status` handled late (a processor catching up after downtime): a status a person
 * gave the version after it was made stands; the handler does not overwrite it.
 */
import { strictEqual } from "node:assert/strict";
import { createLogger } from "../src/cli/service_log.ts";
import { LEECH_TOPIC } from "../src/store/mod.ts";
import { discoverHandlers } from "../services/processor/discover_handlers.ts";
import { startProcessor } from "../services/processor/processor.ts";
import { BUILTIN_HANDLERS } from "../services/processor/main.ts";
import { openSession } from "./_tracker.ts";
import { connectedLeecher, settle, trackerAndStore, waitFor } from "./_sync.ts";

Deno.test({
  name: "firstVersionStatus handled late leaves a status changed since the version was made; on time it sets its own",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using fixture = await trackerAndStore();
    const { running, store } = fixture;
    const supervisor = running.tracker.addUser({ username: "supervisor" }, { administrator: true });
    const human = await openSession(running, { apiUser: "supervisor", apiKey: supervisor.apiKey });
    const ids = async (type: string) =>
      new Map((await human.query(`select id, name from ${type}`)).data.map((row) => [row.name, row.id] as const));
    const statuses = await ids("Status");
    const types = await ids("Type");
    const schema = (await human.query("select id from ProjectSchema")).data[0]!;
    const render = (await human.query('select id from AssetType where short is "render"')).data[0]!;
    const project = (await human.create("Project", { name: "late", full_name: "late", project_schema_id: schema.id }))
      .data;
    const shot = (await human.create("Shot", { name: "sh010", parent_id: project.id })).data;
    const comp = (await human.create("Task", { name: "comp", parent_id: shot.id, type_id: types.get("Compositing") }))
      .data;
    const asset = (await human.create("Asset", { name: "main", context_id: shot.id, type_id: render.id })).data;
    await store.setSettings("production", {
      handlers: { "first-version-status": { taskTypes: { compositing: "On hold" } } },
    }, { project: "late" });
    const statusOf = async (id: string) =>
      String((await human.query(`select status.name from AssetVersion where id is "${id}"`)).data[0]!.status.name);

    // Only the leecher runs: the version is made, then a person sets its status, then the processor starts.
    const leecher = await connectedLeecher(running, store);
    try {
      const stored = await store.countEvents({ topic: LEECH_TOPIC });
      const late = (await human.create("AssetVersion", {
        asset_id: asset.id,
        task_id: comp.id,
        status_id: statuses.get("Approved"),
      })).data;
      await human.update("AssetVersion", [late.id], { status_id: statuses.get("Revise") });
      await waitFor(async () => (await store.countEvents({ topic: LEECH_TOPIC })) >= stored + 2, "both events stored");

      const { handlers } = await discoverHandlers([BUILTIN_HANDLERS]);
      const processor = await startProcessor({
        store,
        session: await openSession(running),
        handlers,
        variant: "production",
        log: createLogger({ name: "processor", level: "error" }),
        settingsRefreshMs: 20,
      });
      try {
        await settle(store);
        strictEqual(await statusOf(late.id), "Revise", "the person's status stands");

        // On time (nothing changed it since): the first version of another task gets the mapped status.
        const paint = (await human.create("Task", {
          name: "paint",
          parent_id: shot.id,
          type_id: types.get("Compositing"),
        })).data;
        const onTime = (await human.create("AssetVersion", {
          asset_id: asset.id,
          task_id: paint.id,
          status_id: statuses.get("Approved"),
        })).data;
        await waitFor(async () => (await statusOf(onTime.id)) === "On hold", "the mapped status on time");
      } finally {
        await processor.stop();
      }
    } finally {
      await leecher.close();
    }
  },
});
