/**
 * Hierarchical ↔ per-object-type attribute push (`handlers.push-hierarchical-values`): when one
 * of `attributes` changes on an entity of `objectTypes` (Shot, Asset Build … and Task), the
 * other custom attribute of the same key (the per-object-type one for a hierarchical change, the
 * hierarchical one for a per-object-type change) gets the same value. Inert without attributes.
 *
 * @module
 */
import { operation } from "@ftrack/api";
import { z } from "zod";
import { defineHandler } from "../define_handler.ts";

const Settings = z.looseObject({
  attributes: z.array(z.string().min(1)).default([]),
  objectTypes: z.array(z.string().min(1)).default(["Shot", "AssetBuild", "Task"]),
});

type Row = Record<string, unknown>;

/** Keeps hierarchical and per-object-type values of the same key equal. */
export const pushHierarchicalValues = defineHandler({
  name: "push-hierarchical-values",
  subscription: "topic=ftrack.update",
  priority: 90,
  async handle(event, { session, settings }) {
    const { attributes, objectTypes } = Settings.parse(settings);
    if (attributes.length === 0) return;
    const entries = ((event.data as { entities?: unknown })?.entities ?? []) as Array<Record<string, unknown>>;
    const relevant = (Array.isArray(entries) ? entries : []).filter((entry) =>
      Array.isArray(entry.keys) && entry.keys.some((key) => attributes.includes(String(key))) &&
      objectTypes.some((type) => type.toLowerCase() === String(entry.entity_type).toLowerCase())
    );
    if (relevant.length === 0) return;
    const quoted = attributes.map((key) => `"${key.replace(/"/g, "")}"`).join(", ");
    const configurations = (await session.query(
      `select id, key, is_hierarchical, entity_type, object_type_id from CustomAttributeConfiguration where key in (${quoted})`,
    )).data as Row[];
    for (const entry of relevant) {
      const entity =
        (await session.query(`select id, object_type_id from TypedContext where id is "${entry.entityId}"`))
          .data[0] as Row | undefined;
      if (!entity) continue;
      const operations = [];
      for (const key of (entry.keys as string[]).filter((k) => attributes.includes(k))) {
        const hierarchical = configurations.find((c) => c.key === key && c.is_hierarchical);
        const perType = configurations.find((c) =>
          c.key === key && !c.is_hierarchical && c.entity_type === "task" && c.object_type_id === entity.object_type_id
        );
        if (!hierarchical || !perType) continue;
        const value = (entry.changes as Record<string, { new?: unknown }> | undefined)?.[key]?.new ?? null;
        const own = (await session.query(
          `select configuration_id, value from CustomAttributeValue where entity_id is "${entity.id}" and configuration_id in ("${hierarchical.id}", "${perType.id}")`,
        )).data as Row[];
        for (const configuration of [hierarchical, perType]) {
          const current = own.find((row) => row.configuration_id === configuration.id)?.value ?? null;
          if (JSON.stringify(current) !== JSON.stringify(value)) {
            operations.push(
              operation.update("ContextCustomAttributeValue", [String(configuration.id), String(entity.id)], { value }),
            );
          }
        }
      }
      if (operations.length) await session.call(operations);
    }
  },
});
