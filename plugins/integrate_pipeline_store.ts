/**
 * Records each published version in the pipeline store when one is configured (`FERRY_STORE`,
 * or a `store.db` in ferry's data folder): the product (the asset), the version, and one
 * representation per component with its files (path, size, SHA-1 fingerprint) and location.
 * The folder and task come from the sync (matched by tracker id); a context not synced yet is
 * reported as a warning, never a failure of the publish.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { definePlugin } from "../publish/plugin.ts";
import { IntegratorOrder } from "../publish/orders.ts";
import { ferryHome } from "../src/config/ferry_home.ts";
import type { Entity, EntityInput, Writer } from "../src/store/entity.ts";
import { openStore } from "../src/store/open_store.ts";
import type { PipelineStore } from "../src/store/pipeline_store.ts";
import { sessionOf, trackerOf } from "./_contract.ts";
import { pipelineIdOf } from "../src/sync/pipeline_id.ts";

/** Where the pipeline store is, when one is configured. */
export function configuredStore(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.FERRY_STORE) return env.FERRY_STORE;
  const file = join(ferryHome({ env, platform: process.platform, home: env.HOME ?? "" }), "store.db");
  return existsSync(file) ? file : undefined;
}

interface Created {
  versionId: string;
  version: number;
  locationId: string;
  components: Array<{ id: string; name: string; members?: number }>;
}

async function upsert(
  store: PipelineStore,
  writer: Writer,
  found: Entity | undefined,
  input: EntityInput,
): Promise<Entity> {
  const merged = found
    ? {
      ...input,
      id: found.id,
      status: found.status,
      assignees: found.assignees,
      // A tracker id the sync or an earlier publish recorded stays (this publish may not know it).
      trackerId: input.trackerId ?? found.trackerId,
      data: { ...found.data, ...input.data },
    }
    // New: the id a sync gives the same tracker entity, so a sync racing this publish writes one entity.
    : { ...input, id: input.trackerId ? pipelineIdOf(input.trackerId) : undefined };
  return (await store.writeEntity(merged as EntityInput, writer)).entity;
}

/** Records the instance's published version in the pipeline store. */
export const IntegratePipelineStore = definePlugin({
  kind: "instance",
  name: "IntegratePipelineStore",
  label: "Record in the pipeline store",
  order: IntegratorOrder + 0.2,
  async process(instance, { log }) {
    const location = configuredStore();
    const created = instance.data.created as Created | undefined;
    if (!location || !created) return;
    const tracker = trackerOf(instance.context);
    const session = sessionOf(instance.context);
    await using store = await openStore(location);
    const folder = (await store.findEntities({ trackerId: tracker.entity.id }))[0];
    if (!folder || folder.type !== "folder") {
      log.warning(
        `not recorded in the pipeline store: '${tracker.entity.name}' is not synced there (deno task sync ${tracker.project.name})`,
      );
      return;
    }
    const writer: Writer = { sender: `publish@${hostname()}`, senderType: "pipeline" };
    const task = tracker.task ? (await store.findEntities({ trackerId: tracker.task.id }))[0] : undefined;
    const productName = String(instance.data.asset ?? instance.name);
    const products = await store.findEntities({ parentId: folder.id, type: "product" });
    // The product is the version's Asset in the tracker.
    const assetId = (await session.query(`select asset_id from AssetVersion where id is "${created.versionId}"`))
      .data[0]?.asset_id as string | undefined;
    const product = await upsert(
      store,
      writer,
      products.find((p) => assetId !== undefined && p.trackerId === assetId) ??
        products.find((p) => p.name === productName),
      {
        type: "product",
        project: folder.project,
        parentId: folder.id,
        name: productName,
        trackerId: assetId ?? null,
        data: { productType: String(instance.data.family) },
      },
    );
    const version = await upsert(store, writer, (await store.findEntities({ trackerId: created.versionId }))[0], {
      type: "version",
      project: folder.project,
      parentId: product.id,
      name: `v${String(created.version).padStart(3, "0")}`,
      trackerId: created.versionId,
      attributes: {
        comment: String(
          instance.context.data.request ? (instance.context.data.request as { comment?: string }).comment ?? "" : "",
        ),
      },
      data: { version: created.version, taskId: task?.id ?? null },
    });
    // Files by component; a sequence's members belong to their container.
    const files = (instance.data.fileReport ?? []) as Array<
      { path: string; size: number; sha1?: string; componentId: string }
    >;
    const ids = [...new Set(files.map((file) => file.componentId))];
    const inList = (list: string[]) => list.map((id) => `"${id}"`).join(", ");
    const components: Array<{ id: string; name: string; container_id?: string | null }> = [];
    const placed: Array<{ component_id: string; resource_identifier?: string | null }> = [];
    for (let i = 0; i < ids.length; i += 200) {
      const part = ids.slice(i, i + 200);
      components.push(
        ...(await session.query(`select id, name, container_id from Component where id in (${inList(part)})`))
          .data as typeof components,
      );
      placed.push(
        ...(await session.query(
          `select component_id, resource_identifier from ComponentLocation where location_id is "${created.locationId}" and component_id in (${
            inList(part)
          })`,
        )).data as typeof placed,
      );
    }
    const containerOf = new Map(components.map((c) => [c.id, c.container_id || c.id]));
    const nameOf = new Map([
      ...components.map((c) => [c.id, c.name] as const),
      ...created.components.map((c) => [c.id, c.name] as const),
    ]);
    const publishedAt = new Map(placed.map((p) => [p.component_id, p.resource_identifier ?? undefined]));
    const groups = new Map<string, typeof files>();
    for (const file of files) {
      const key = containerOf.get(file.componentId) ?? file.componentId;
      groups.set(key, [...(groups.get(key) ?? []), file]);
    }
    const existing = await store.findEntities({ parentId: version.id, type: "representation" });
    for (const [componentId, members] of groups) {
      await upsert(store, writer, existing.find((r) => r.trackerId === componentId), {
        type: "representation",
        project: folder.project,
        parentId: version.id,
        name: nameOf.get(componentId) ?? componentId,
        trackerId: componentId,
        attributes: { locationId: created.locationId },
        data: {
          files: members.map((file) => ({
            path: publishedAt.get(file.componentId) || file.path,
            size: file.size,
            ...(file.sha1 ? { hash: `sha1:${file.sha1}` } : {}),
          })),
          sources: members.map((file) => file.path),
        },
      });
    }
    log.info(`recorded ${productName} ${version.name} in the pipeline store (${groups.size} representation(s))`);
  },
});
