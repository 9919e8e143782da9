import type { Session } from "@ftrack/api";
import { type AttributeSources, mappingApplies, splitValues, VERSION_OBJECT_TYPE } from "./attribute_mapping.ts";
import type { AttributeMapping } from "./sync_settings.ts";
import { chunk, isoDate, queryAll, quoted, readAttributeConfigurations } from "./tracker_project.ts";

type Row = Record<string, unknown>;

/** A tracker Asset: what becomes a pipeline product. */
export interface TrackerAsset {
  id: string;
  name: string;
  /** The context it was published in (a shot, an asset build, a task …). */
  contextId: string | null;
  /** The asset type's short name (`render`, `geo` …), else its name. */
  type: string | null;
}

/** A tracker AssetVersion: what becomes a pipeline version. */
export interface TrackerVersion {
  id: string;
  assetId: string;
  version: number;
  taskId: string | null;
  status: string | null;
  comment: string | null;
  /** The author's username. */
  author: string | null;
  date: string | null;
  published: boolean;
  /** Its custom attribute values by key (the hierarchical one winning where a key has both). */
  values: Record<string, unknown>;
  /**
   * Its values split by configuration: hierarchical (inherited from its context when not set on
   * it), and its own AssetVersion (`assetversion`) configurations'.
   */
  sources: AttributeSources;
}

/** One file of a component: where it is, its size and ferry's fingerprint (`sha1:…`) when recorded. */
export interface TrackerFile {
  componentId: string;
  name: string;
  size: number | null;
  hash: string | null;
  /** Where the file is, by location id: its resource identifier there. */
  places: Array<{ locationId: string; location: string; resourceIdentifier: string | null }>;
}

/** A tracker Component of a version (a file, or a sequence/container with its members). */
export interface TrackerComponent {
  id: string;
  name: string;
  versionId: string;
  kind: "file" | "sequence" | "container";
  fileType: string | null;
  files: TrackerFile[];
}

/** What a sync of versions reads: assets, their versions, the versions' components. */
export interface TrackerVersions {
  assets: TrackerAsset[];
  versions: TrackerVersion[];
  components: TrackerComponent[];
}

const COMPONENT_FIELDS =
  "id, name, file_type, size, version_id, container_id, metadata, component_locations.location_id, component_locations.location.name, component_locations.resource_identifier";

const text = (value: unknown): string | null => typeof value === "string" && value !== "" ? value : null;
const object = (value: unknown): Row => value && typeof value === "object" ? value as Row : {};

function assetOf(row: Row): TrackerAsset {
  const type = object(row.type);
  return {
    id: String(row.id),
    name: String(row.name),
    contextId: text(row.context_id),
    type: text(type.short) ?? text(type.name),
  };
}

/** Whether each configuration id is hierarchical, by session (a configuration never changes kind). */
const KINDS = new WeakMap<Session, Map<string, boolean>>();

/**
 * Which configurations of some version rows' `custom_attributes` are hierarchical: known from
 * earlier reads of the session, the configurations read again only when a row holds one not
 * known yet (so an incremental sync of a version costs no extra request).
 */
async function hierarchicalIds(session: Session, rows: Row[]): Promise<(id: string) => boolean> {
  let kinds = KINDS.get(session);
  if (kinds === undefined) KINDS.set(session, kinds = new Map());
  const unknown = rows.some((row) =>
    ((row.custom_attributes ?? []) as Row[]).some((value) => !kinds.has(String(value.configuration_id)))
  );
  if (unknown) {
    for (
      const configuration of await queryAll(session, "select id, is_hierarchical from CustomAttributeConfiguration")
    ) {
      kinds.set(String(configuration.id), configuration.is_hierarchical === true);
    }
  }
  return (id) => kinds.get(id) === true;
}

/** Version rows as {@linkcode TrackerVersion}s, their custom attribute values split by configuration. */
async function versionsOf(session: Session, rows: Row[]): Promise<TrackerVersion[]> {
  const isHierarchical = await hierarchicalIds(session, rows);
  return rows.map((row) => versionOf(row, isHierarchical));
}

function versionOf(row: Row, isHierarchical: (id: string) => boolean): TrackerVersion {
  const { values, sources } = splitValues((row.custom_attributes ?? []) as Row[], isHierarchical);
  return {
    id: String(row.id),
    assetId: String(row.asset_id),
    version: Number(row.version ?? 0),
    taskId: text(row.task_id),
    status: text(object(row.status).name),
    comment: text(row.comment),
    author: text(object(row.user).username),
    date: isoDate(row.date),
    published: row.is_published !== false,
    values,
    sources,
  };
}

function metadataOf(row: Row): Record<string, string> {
  const list = Array.isArray(row.metadata) ? row.metadata as Row[] : [];
  return Object.fromEntries(list.map((item) => [String(item.key), String(item.value)]));
}

function fileOf(row: Row): TrackerFile {
  const meta = metadataOf(row);
  const size = row.size ?? meta.ferry_size;
  const places = (Array.isArray(row.component_locations) ? row.component_locations as Row[] : []).map((place) => ({
    locationId: String(place.location_id),
    location: String(object(place.location).name ?? place.location_id),
    resourceIdentifier: text(place.resource_identifier),
  }));
  return {
    componentId: String(row.id),
    name: `${String(row.name)}${text(row.file_type) ?? ""}`,
    size: size === null || size === undefined || size === "" || Number.isNaN(Number(size)) ? null : Number(size),
    hash: text(meta.ferry_fingerprint),
    places,
  };
}

/** Reads the components of some versions: top-level ones, with a sequence's or container's members as files. */
async function componentsOf(session: Session, versionIds: string[]): Promise<TrackerComponent[]> {
  const components: TrackerComponent[] = [];
  for (const part of chunk(versionIds, 200)) {
    const rows =
      (await queryAll(session, `select ${COMPONENT_FIELDS} from Component where version_id in (${quoted(part)})`))
        .filter((row) => !text(row.container_id));
    const containers = rows.filter((row) =>
      row.__entity_type__ === "SequenceComponent" || row.__entity_type__ === "ContainerComponent"
    );
    const members = new Map<string, Row[]>();
    for (const ids of chunk(containers.map((row) => String(row.id)), 200)) {
      for (
        const member of await queryAll(
          session,
          `select ${COMPONENT_FIELDS} from Component where container_id in (${quoted(ids)})`,
        )
      ) {
        const list = members.get(String(member.container_id)) ?? [];
        list.push(member);
        members.set(String(member.container_id), list);
      }
    }
    for (const row of rows) {
      const type = row.__entity_type__;
      const kind = type === "SequenceComponent" ? "sequence" : type === "ContainerComponent" ? "container" : "file";
      const own = members.get(String(row.id)) ?? [];
      components.push({
        id: String(row.id),
        name: String(row.name),
        versionId: String(row.version_id),
        kind,
        fileType: text(row.file_type),
        files: kind === "file" ? [fileOf(row)] : own.map(fileOf).sort((a, b) => a.name.localeCompare(b.name)),
      });
    }
  }
  return components;
}

const ASSET_FIELDS = "id, name, context_id, type.name, type.short";
const VERSION_FIELDS = "id, version, asset_id, task_id, status.name, comment, user.username, date, is_published";

/** Options of {@linkcode readProjectVersions} and {@linkcode readVersions}. */
export interface ReadVersionsOptions {
  /**
   * The sync's attribute mappings: the versions' custom attribute values are read only when one
   * can apply to versions (see {@linkcode versionValuesNeeded}). Unset: always read.
   */
  mappings?: AttributeMapping[];
  /** Read the AssetVersion configurations again rather than use the session's cached ones (a full sync). */
  fresh?: boolean;
}

/** How long the AssetVersion configuration keys read for {@linkcode versionValuesNeeded} are kept. */
const VERSION_KEYS_TTL_MS = 60_000;

/** By session: the keys with an AssetVersion configuration of their own, by key asked, and when read. */
const VERSION_KEYS = new WeakMap<Session, Map<string, { own: boolean; at: number }>>();

/**
 * Whether reading versions needs their custom attribute values for `mappings`: when a mapping
 * names `AssetVersion` in `objectTypes`, or one naming no object type has a key with an
 * AssetVersion (`assetversion`, not hierarchical) configuration of its own: the mappings
 * `versionMappingApplies` can let through. The default mappings (hierarchical `fps`, frames …)
 * need none, so versions are read without their values (`custom_attributes` costs several times
 * the rest of a version query). The configurations of the keys are read once per session and
 * kept {@linkcode VERSION_KEYS_TTL_MS} (a configuration made since is seen by then, or at once
 * with `fresh`).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import type { Session } from "@ftrack/api";
 * import { versionValuesNeeded } from "./tracker_versions.ts";
 *
 * const session = {} as Session; // not queried: the mapping names AssetVersion
 * ok(await versionValuesNeeded(session, [{ pipeline: "fps", tracker: "fps", objectTypes: ["AssetVersion"] }]));
 * ok(!(await versionValuesNeeded(session, [{ pipeline: "fps", tracker: "fps", objectTypes: ["Shot"] }])));
 * ok(!(await versionValuesNeeded(session, [])));
 * ```
 */
export async function versionValuesNeeded(
  session: Session,
  mappings: AttributeMapping[] | undefined,
  options: { fresh?: boolean } = {},
): Promise<boolean> {
  if (mappings === undefined) return true;
  if (mappings.some((mapping) => mapping.objectTypes !== undefined && mappingApplies(mapping, VERSION_OBJECT_TYPE))) {
    return true;
  }
  const keys = [...new Set(mappings.filter((mapping) => mapping.objectTypes === undefined).map((m) => m.tracker))];
  if (keys.length === 0) return false;
  let known = VERSION_KEYS.get(session);
  if (known === undefined) VERSION_KEYS.set(session, known = new Map());
  const now = Date.now();
  const stale = keys.filter((key) => {
    const seen = known.get(key);
    return options.fresh === true || seen === undefined || now - seen.at > VERSION_KEYS_TTL_MS;
  });
  if (stale.length > 0) {
    const own = new Set(
      (await readAttributeConfigurations(session, stale))
        .filter((configuration) => configuration.entityType === "assetversion" && !configuration.isHierarchical)
        .map((configuration) => configuration.key),
    );
    for (const key of stale) known.set(key, { own: own.has(key), at: now });
  }
  return keys.some((key) => known.get(key)?.own === true);
}

/** The fields of a version query: with `custom_attributes` only when the mappings need them. */
async function versionFields(session: Session, options: ReadVersionsOptions): Promise<string> {
  return await versionValuesNeeded(session, options.mappings, options)
    ? `${VERSION_FIELDS}, custom_attributes`
    : VERSION_FIELDS;
}

/**
 * Reads every asset, version and component of a tracker project (the versions' custom attribute
 * values only when `options.mappings` need them: see {@linkcode versionValuesNeeded}).
 */
export async function readProjectVersions(
  session: Session,
  projectId: string,
  options: ReadVersionsOptions = {},
): Promise<TrackerVersions> {
  const assets = (await queryAll(
    session,
    `select ${ASSET_FIELDS} from Asset where parent.project_id is "${projectId}" order by id`,
  ))
    .map(assetOf);
  const projectAssets =
    (await queryAll(session, `select ${ASSET_FIELDS} from Asset where context_id is "${projectId}" order by id`))
      .map(assetOf);
  const all = [...assets, ...projectAssets];
  const versions: TrackerVersion[] = [];
  const fields = all.length > 0 ? await versionFields(session, options) : VERSION_FIELDS;
  for (const part of chunk(all.map((asset) => asset.id), 200)) {
    versions.push(
      ...await versionsOf(
        session,
        await queryAll(
          session,
          `select ${fields} from AssetVersion where asset_id in (${quoted(part)}) order by id`,
        ),
      ),
    );
  }
  return { assets: all, versions, components: await componentsOf(session, versions.map((version) => version.id)) };
}

/**
 * Reads some assets and versions (those still there) with what they need: a version's asset, an
 * asset's versions are not read (an asset change renames or moves its product only). The
 * versions' custom attribute values are read only when `options.mappings` need them.
 */
export async function readVersions(
  session: Session,
  ids: { assetIds: string[]; versionIds: string[] },
  options: ReadVersionsOptions = {},
): Promise<TrackerVersions> {
  const versions: TrackerVersion[] = [];
  const fields = ids.versionIds.length > 0 ? await versionFields(session, options) : VERSION_FIELDS;
  for (const part of chunk([...new Set(ids.versionIds)], 200)) {
    versions.push(
      ...await versionsOf(
        session,
        (await session.query(`select ${fields} from AssetVersion where id in (${quoted(part)})`)).data as Row[],
      ),
    );
  }
  const assetIds = [...new Set([...ids.assetIds, ...versions.map((version) => version.assetId)])];
  const assets: TrackerAsset[] = [];
  for (const part of chunk(assetIds, 200)) {
    assets.push(
      ...(await session.query(`select ${ASSET_FIELDS} from Asset where id in (${quoted(part)})`)).data.map((row) =>
        assetOf(row as Row)
      ),
    );
  }
  return { assets, versions, components: await componentsOf(session, versions.map((version) => version.id)) };
}

/**
 * The versions some components belong to (a member's through its container), for components
 * still in the tracker.
 */
export async function versionsOfComponents(session: Session, componentIds: string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const part of chunk([...new Set(componentIds)], 200)) {
    const rows = (await session.query(
      `select id, version_id, container.version_id from Component where id in (${quoted(part)})`,
    )).data as Row[];
    for (const row of rows) {
      const id = text(row.version_id) ?? text(object(row.container).version_id);
      if (id) found.add(id);
    }
  }
  return [...found];
}
