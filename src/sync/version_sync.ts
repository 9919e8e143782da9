import type { Entity, EntityInput } from "../store/entity.ts";
import type { ProjectSync } from "./project_sync.ts";
import { pipelineIdOf } from "./pipeline_id.ts";
import { versionAttributes } from "./attribute_mapping.ts";
import type {
  TrackerAsset,
  TrackerComponent,
  TrackerFile,
  TrackerVersion,
  TrackerVersions,
} from "./tracker_versions.ts";

/** Locations whose resource identifiers are not where the published files are kept. */
const NOT_STORAGE = new Set(["ftrack.origin", "ftrack.review", "ftrack.connect"]);

/**
 * The version name the publish gives.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { versionName } from "./version_sync.ts";
 *
 * ok(versionName(3) === "v003" && versionName(1204) === "v1204");
 * ```
 */
export const versionName = (version: number): string => `v${String(version).padStart(3, "0")}`;

/**
 * The files of a representation: each file where it is kept (the location the representation
 * was recorded at when it is still there, else the first storage location), with its size and
 * fingerprint. Files in no location are left out.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { representationFiles } from "./version_sync.ts";
 *
 * const files = representationFiles([{ componentId: "c", name: "a.exr", size: 3, hash: "sha1:ab",
 *   places: [{ locationId: "o", location: "ftrack.origin", resourceIdentifier: "/src/a.exr" },
 *            { locationId: "d", location: "studio.disk", resourceIdentifier: "/proj/a.exr" }] }], null);
 * ok(files.locationId === "d" && files.files[0]!.path === "/proj/a.exr" && files.files[0]!.hash === "sha1:ab");
 * ```
 */
export function representationFiles(
  files: TrackerFile[],
  preferred: string | null,
): { locationId: string | null; files: Array<{ path: string; size?: number; hash?: string }>; locations: string[] } {
  const counts = new Map<string, { name: string; n: number }>();
  for (const file of files) {
    for (const place of file.places) {
      const known = counts.get(place.locationId) ?? { name: place.location, n: 0 };
      known.n++;
      counts.set(place.locationId, known);
    }
  }
  const candidates = [...counts.entries()].sort((a, b) => b[1].n - a[1].n);
  const locationId = preferred !== null && counts.has(preferred)
    ? preferred
    : candidates.find(([, { name }]) => !NOT_STORAGE.has(name))?.[0] ?? candidates[0]?.[0] ?? null;
  const placed: Array<{ path: string; size?: number; hash?: string }> = [];
  for (const file of files) {
    const place = file.places.find((p) => p.locationId === locationId && p.resourceIdentifier) ??
      file.places.find((p) => !NOT_STORAGE.has(p.location) && p.resourceIdentifier);
    if (!place?.resourceIdentifier) continue;
    placed.push({
      path: place.resourceIdentifier,
      ...(file.size !== null ? { size: file.size } : {}),
      ...(file.hash !== null ? { hash: file.hash } : {}),
    });
  }
  return { locationId, files: placed, locations: [...counts.values()].map(({ name }) => name).sort() };
}

/** Two file lists hold the same files (order aside). */
function sameFiles(a: unknown, b: Array<{ path: string }>): boolean {
  if (!Array.isArray(a) || a.length !== b.length) return false;
  const key = (file: unknown) => JSON.stringify(Object.entries(file as object).sort());
  const left = new Set(a.map(key));
  return b.every((file) => left.has(key(file)));
}

/**
 * Syncs tracker assets, versions and components into pipeline products, versions and
 * representations (a version's comment as its `comment` and `description`, its mapped custom
 * attributes as theirs: see {@linkcode versionAttributes}), matched by tracker id first, then (as
 * a ferry publish records them) a product by name under its folder, a version by number under its
 * product, a representation by name under its version, so a publish's records are updated, never
 * duplicated.
 */
export class VersionSync {
  readonly #sync: ProjectSync;
  readonly #products = new Map<string, Entity>();

  constructor(sync: ProjectSync) {
    this.#sync = sync;
  }

  /** The pipeline folder a tracker context puts a product in (a task's folder for a task), or why none. */
  async #folderOf(asset: TrackerAsset): Promise<Entity | string> {
    if (asset.contextId === null || asset.contextId === this.#sync.trackerProjectId) {
      return "an asset directly under the project has no folder to go in";
    }
    const context = await this.#sync.index.byTrackerId(asset.contextId);
    if (context === undefined) return `its context ${asset.contextId} is not synced`;
    if (context.type === "folder") return context;
    if (context.type === "task" && context.parentId) {
      const folder = await this.#sync.index.get(context.parentId);
      if (folder?.type === "folder") return folder;
    }
    return `its context '${context.name}' is a ${context.type}, not a folder or task`;
  }

  async #product(asset: TrackerAsset, stale: (id: string) => boolean): Promise<Entity | undefined> {
    const done = this.#products.get(asset.id);
    if (done) return done;
    const folder = await this.#folderOf(asset);
    if (typeof folder === "string") {
      this.#sync.skip("version", asset.id, asset.name, `asset '${asset.name}': ${folder}`);
      return undefined;
    }
    const folderPath = await this.#sync.index.pathOf(folder);
    const label = `${folderPath}/${asset.name}`;
    let existing = await this.#sync.index.byTrackerId(asset.id);
    if (existing !== undefined && existing.type !== "product") existing = undefined;
    existing ??= (await this.#sync.index.children(folder.id)).find((entity) =>
      entity.type === "product" && (entity.trackerId === null || stale(entity.trackerId)) &&
      entity.name.toLowerCase() === asset.name.toLowerCase()
    );
    const product = await this.#sync.writeIn(
      "products",
      {
        ...(existing ?? {}),
        type: "product",
        id: existing?.id ?? pipelineIdOf(asset.id),
        project: this.#sync.report.project,
        parentId: folder.id,
        name: asset.name,
        trackerId: asset.id,
        data: {
          ...(existing?.data ?? {}),
          productType: (existing?.data as { productType?: string } | undefined)?.productType ?? asset.type ?? "upload",
        },
      } as EntityInput,
      existing,
      label,
    );
    this.#products.set(asset.id, product);
    return product;
  }

  async #version(version: TrackerVersion, product: Entity, stale: (id: string) => boolean): Promise<Entity> {
    const label = `${await this.#sync.index.pathOf(product)}/${versionName(version.version)}`;
    let existing = await this.#sync.index.byTrackerId(version.id);
    if (existing !== undefined && existing.type !== "version") existing = undefined;
    existing ??= (await this.#sync.index.children(product.id)).find((entity) =>
      entity.type === "version" && (entity.trackerId === null || stale(entity.trackerId)) &&
      (entity.data as { version?: number }).version === version.version
    );
    const task = version.taskId ? await this.#sync.index.byTrackerId(version.taskId) : undefined;
    // The mapped custom attributes (see versionAttributes: those of the key's AssetVersion
    // configuration, or of mappings naming AssetVersion), merged over what the pipeline holds.
    const attributes: Record<string, unknown> = {
      ...(existing?.attributes ?? {}),
      ...versionAttributes(this.#sync.settings.attributes, version),
    };
    attributes.comment = version.comment ?? "";
    attributes.description = version.comment ?? "";
    return await this.#sync.writeIn(
      "versions",
      {
        ...(existing ?? {}),
        type: "version",
        id: existing?.id ?? pipelineIdOf(version.id),
        project: this.#sync.report.project,
        parentId: product.id,
        name: versionName(version.version),
        status: this.#sync.statusName(version.status),
        attributes,
        trackerId: version.id,
        data: {
          ...(existing?.data ?? {}),
          version: version.version,
          taskId: task?.type === "task" ? task.id : null,
          author: version.author,
          date: version.date,
          published: version.published,
        },
      } as EntityInput,
      existing,
      label,
    );
  }

  async #representations(version: Entity, components: TrackerComponent[]): Promise<void> {
    const versionPath = await this.#sync.index.pathOf(version);
    const children = (await this.#sync.index.children(version.id)).filter((entity) => entity.type === "representation");
    const kept = new Set<string>();
    for (const component of components) {
      let existing = children.find((entity) => entity.trackerId === component.id) ??
        await this.#sync.index.byTrackerId(component.id);
      if (existing !== undefined && existing.type !== "representation") existing = undefined;
      existing ??= children.find((entity) =>
        entity.trackerId === null && entity.name.toLowerCase() === component.name.toLowerCase()
      );
      const preferred = (existing?.attributes as { locationId?: string } | undefined)?.locationId ?? null;
      const placed = representationFiles(component.files, preferred);
      const data = existing?.data as Record<string, unknown> | undefined;
      const representation = await this.#sync.writeIn(
        "representations",
        {
          ...(existing ?? {}),
          type: "representation",
          id: existing?.id ?? pipelineIdOf(component.id),
          project: this.#sync.report.project,
          parentId: version.id,
          name: existing?.name ?? component.name,
          trackerId: component.id,
          attributes: {
            ...(existing?.attributes ?? {}),
            ...(placed.locationId !== null ? { locationId: placed.locationId } : {}),
          },
          data: {
            ...(data ?? {}),
            files: data && sameFiles(data.files, placed.files) ? data.files : placed.files,
            kind: component.kind,
            fileType: component.fileType,
            locations: placed.locations,
          },
        } as EntityInput,
        existing,
        `${versionPath}/${component.name}`,
      );
      kept.add(representation.id);
    }
    for (const child of children) {
      if (!kept.has(child.id) && child.trackerId !== null) {
        await this.#sync.deleteIn("representations", child, `${versionPath}/${child.name}`);
      }
    }
  }

  /**
   * Syncs what was read: products of the assets, versions with their representations.
   * `stale` says which tracker ids are gone (their pipeline entities may be matched again).
   */
  async sync(read: TrackerVersions, options: { stale?: (id: string) => boolean } = {}): Promise<void> {
    const stale = options.stale ?? (() => false);
    const assets = new Map(read.assets.map((asset) => [asset.id, asset]));
    const components = new Map<string, TrackerComponent[]>();
    for (const component of read.components) {
      const list = components.get(component.versionId) ?? [];
      list.push(component);
      components.set(component.versionId, list);
    }
    for (const asset of [...read.assets].sort((a, b) => a.name.localeCompare(b.name))) {
      await this.#product(asset, stale);
    }
    const order = (version: TrackerVersion) => assets.get(version.assetId)?.name ?? "";
    const versions = [...read.versions].sort((a, b) =>
      order(a).localeCompare(order(b)) || a.version - b.version || a.id.localeCompare(b.id)
    );
    for (const version of versions) {
      const asset = assets.get(version.assetId);
      if (asset === undefined) {
        this.#sync.skip("version", version.id, `v${version.version}`, `its asset ${version.assetId} is not readable`);
        continue;
      }
      const product = this.#products.get(asset.id);
      if (product === undefined) continue; // skipped with its asset
      const entity = await this.#version(version, product, stale);
      await this.#representations(entity, components.get(version.id) ?? []);
    }
  }

  /**
   * Merges products, versions and representations that carry one tracker id (two writers that
   * raced to record one publish): the one with the sync's id (else the oldest) stays, takes what
   * the others hang below it and the data and attributes only they had; the others go. For a full
   * sync, on a preloaded index.
   */
  async mergeDuplicates(): Promise<void> {
    const sections = { product: "products", version: "versions", representation: "representations" } as const;
    for (const type of ["product", "version", "representation"] as const) {
      const groups = new Map<string, Entity[]>();
      for (const entity of this.#sync.index.all()) {
        if (entity.type !== type || entity.trackerId === null) continue;
        groups.set(entity.trackerId, [...(groups.get(entity.trackerId) ?? []), entity]);
      }
      for (const [trackerId, group] of groups) {
        if (group.length < 2) continue;
        const ordered = [...group].sort((a, b) =>
          Number(b.id === pipelineIdOf(trackerId)) - Number(a.id === pipelineIdOf(trackerId)) ||
          a.createdAt - b.createdAt || a.id.localeCompare(b.id)
        );
        let keep = ordered[0]!;
        for (const other of ordered.slice(1)) {
          for (const child of await this.#sync.index.children(other.id)) {
            const { entity } = await this.#sync.store.writeEntity(
              { ...child, parentId: keep.id } as EntityInput,
              this.#sync.writer,
            );
            this.#sync.index.put(entity);
          }
          const { entity } = await this.#sync.store.writeEntity({
            ...keep,
            attributes: { ...other.attributes, ...keep.attributes },
            data: { ...other.data, ...keep.data },
          } as EntityInput, this.#sync.writer);
          this.#sync.index.put(entity);
          keep = entity;
          await this.#sync.deleteIn(sections[type], other, `${await this.#sync.index.pathOf(other)} (a duplicate)`);
        }
      }
    }
  }

  /**
   * Removes the pipeline products, versions and representations of tracker ones that are gone
   * (with what hangs below them from the tracker); one with pipeline-only entities below it is
   * kept, its tracker id cleared, and reported.
   */
  async remove(trackerIds: string[]): Promise<void> {
    for (const trackerId of trackerIds) {
      const entity = await this.#sync.index.byTrackerId(trackerId);
      if (entity && ["product", "version", "representation"].includes(entity.type)) await this.#removeMirror(entity);
    }
  }

  async #removeMirror(entity: Entity): Promise<boolean> {
    if (!(await this.#sync.index.get(entity.id))) return true;
    const path = await this.#sync.index.pathOf(entity);
    let clear = true;
    for (const child of await this.#sync.index.children(entity.id)) {
      if (child.type === "comment") continue;
      if (child.trackerId === null || !(await this.#removeMirror(child))) clear = false;
    }
    const section = entity.type === "product" ? "products" : entity.type === "version" ? "versions" : "representations";
    if (!clear) {
      const { entity: kept } = await this.#sync.store.writeEntity(
        { ...entity, trackerId: null, data: { ...entity.data, trackerRemoved: true } } as EntityInput,
        this.#sync.writer,
      );
      this.#sync.index.put(kept);
      this.#sync.skip(
        "version",
        entity.trackerId ?? "",
        path,
        "removed in the tracker, kept: pipeline-only entities are below it",
      );
      return false;
    }
    await this.#sync.deleteIn(section, entity, path);
    return true;
  }
}
