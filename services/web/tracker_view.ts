import type { Session } from "@ftrack/api";
import { WebError } from "./web_error.ts";

type Row = Record<string, unknown>;

/** A step of a context's path (project first). */
export interface LinkItem {
  id: string;
  name: string;
  type: string;
}

/** A project, sequence, shot, asset build, folder or task. */
export interface ContextItem {
  id: string;
  name: string;
  /** `Project`, `Sequence`, `Shot`, `AssetBuild`, `Task`, … */
  type: string;
  thumbnailId: string | null;
}

/** An asset version as lists show it. */
export interface VersionItem {
  id: string;
  asset: string;
  assetType: string;
  version: number;
  status: { name: string; color: string } | null;
  task: string | null;
  user: string | null;
  date: string | null;
  comment: string;
  published: boolean;
  thumbnailId: string | null;
  link: LinkItem[];
}

/** A component of a version: a file, or an image sequence with its members. */
export interface ComponentItem {
  id: string;
  name: string;
  kind: "file" | "sequence" | "container";
  fileType: string;
  size: number | null;
  /** `sha1:…` as ferry stores it (`ferry_fingerprint` metadata), or null. */
  fingerprint: string | null;
  /** Frame ranges of a sequence (`1001-1024`), from `ferry_frames`. */
  frames: string | null;
  /** Number of member files of a sequence. */
  members: number | null;
  /** Where the file was published from (`ferry_origin`). */
  origin: string | null;
  locations: Array<{ name: string; resourceIdentifier: string }>;
}

/** A note on a version. */
export interface NoteItem {
  id: string;
  content: string;
  author: string | null;
  date: string | null;
}

/** Everything the version page shows. */
export interface VersionDetail extends VersionItem {
  components: ComponentItem[];
  notes: NoteItem[];
  /** The `ftrackreview-mp4` component (the review movie), when there is one. */
  review: ComponentItem | null;
  /** Every version of the same asset (this one included), by version number. */
  siblings: Array<{ id: string; version: number; status: VersionItem["status"]; published: boolean }>;
}

/** What a context page shows. */
export interface ContextDetail {
  context: ContextItem;
  link: LinkItem[];
  children: ContextItem[];
  versions: VersionItem[];
}

const quoted = (value: string) => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const object = (value: unknown): Row => (value && typeof value === "object" ? value as Row : {});

async function rows(session: Session, expression: string): Promise<Row[]> {
  return (await session.query(expression)).data as Row[];
}

/** Several queries in one request to the tracker (one round trip). */
async function batch(session: Session, expressions: readonly string[]): Promise<Row[][]> {
  const responses = await session.call(expressions.map((expression) => ({ action: "query" as const, expression })));
  return (responses as Array<{ data?: unknown }>).map((response) => (response.data ?? []) as Row[]);
}

const VERSION_FIELDS =
  "id, version, comment, is_published, date, status.name, status.color, asset.name, asset.type.name, task.name, user.username, thumbnail_id, link";

function versionItem(row: Row): VersionItem {
  const status = object(row.status);
  const asset = object(row.asset);
  return {
    id: String(row.id),
    asset: String(asset.name ?? "?"),
    assetType: String(object(asset.type).name ?? ""),
    version: Number(row.version ?? 0),
    status: status.name ? { name: String(status.name), color: String(status.color ?? "#888888") } : null,
    task: text(object(row.task).name),
    user: text(object(row.user).username),
    date: text(row.date),
    comment: String(row.comment ?? ""),
    published: row.is_published !== false,
    thumbnailId: text(row.thumbnail_id),
    link: linkOf(row.link),
  };
}

function linkOf(value: unknown): LinkItem[] {
  if (!Array.isArray(value)) return [];
  return value.map((item) => {
    const row = object(item);
    return { id: String(row.id), name: String(row.name), type: String(row.type) };
  });
}

function contextItem(row: Row): ContextItem {
  const type = object(row.object_type).name ?? row.__entity_type__ ?? "Context";
  return { id: String(row.id), name: String(row.name), type: String(type), thumbnailId: text(row.thumbnail_id) };
}

/** The most versions a context page lists (the newest). */
export const VERSION_LIMIT = 48;

const TYPE_ORDER = ["Episode", "Sequence", "Shot", "AssetBuild", "Folder", "Task"];
const byTypeThenName = (a: ContextItem, b: ContextItem) =>
  ((TYPE_ORDER.indexOf(a.type) + 1 || 5) - (TYPE_ORDER.indexOf(b.type) + 1 || 5)) || a.name.localeCompare(b.name);

/** The tracker's projects, by name. */
export async function listProjects(session: Session): Promise<ContextItem[]> {
  const projects = await rows(session, "select id, name, full_name, thumbnail_id from Project");
  return projects.map((row) => ({
    id: String(row.id),
    name: String(row.name),
    type: "Project",
    thumbnailId: text(row.thumbnail_id),
  })).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A project or context with what is directly below it (sequences, shots, asset builds, tasks) and
 * its asset versions (of a task: the versions made for it; of another context: the versions of
 * its assets), newest first. A 404 `context_not_found` names an unknown id.
 */
export async function contextDetail(session: Session, id: string): Promise<ContextDetail> {
  let context: ContextItem;
  let link: LinkItem[];
  const project = (await rows(session, `select id, name, thumbnail_id from Project where id is ${quoted(id)}`))[0];
  if (project) {
    context = { id, name: String(project.name), type: "Project", thumbnailId: text(project.thumbnail_id) };
    link = [{ id, name: context.name, type: "Project" }];
  } else {
    const row = (await rows(
      session,
      `select id, name, object_type.name, thumbnail_id, link from TypedContext where id is ${quoted(id)}`,
    ))[0];
    if (!row) throw new WebError(404, "context_not_found", `No project or context with id '${id}' on the tracker`);
    context = contextItem(row);
    link = linkOf(row.link);
  }
  const children = (await rows(
    session,
    `select id, name, object_type.name, thumbnail_id from TypedContext where parent_id is ${quoted(id)}`,
  )).map(contextItem).sort(byTypeThenName);
  // A task: the versions made for it. A project: its newest versions anywhere. Another context:
  // the versions of assets on it or anywhere below it.
  const where = context.type === "Task"
    ? `task_id is ${quoted(id)}`
    : context.type === "Project"
    ? `asset.parent.project_id is ${quoted(id)}`
    : `asset.context_id is ${quoted(id)} or asset.parent.ancestors.id is ${quoted(id)}`;
  const versions = (await rows(
    session,
    `select ${VERSION_FIELDS} from AssetVersion where ${where} order by date descending limit ${VERSION_LIMIT}`,
  ))
    .map(versionItem)
    .sort((a, b) => (b.date ?? "").localeCompare(a.date ?? "") || b.version - a.version);
  return { context, link, children, versions };
}

function metadataOf(row: Row): Record<string, string> {
  const list = Array.isArray(row.metadata) ? row.metadata as Row[] : [];
  return Object.fromEntries(list.map((item) => [String(item.key), String(item.value)]));
}

/**
 * The frames of a review component from ftrack's `ftr_meta` (`{"frameIn":1001,"frameOut":1024,
 * "frameRate":24,"width":640,"height":360}`): `1001-1024 @ 24 fps, 640×360`, or null.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { reviewFrames } from "./tracker_view.ts";
 *
 * ok(reviewFrames('{"frameIn":1001,"frameOut":1024,"frameRate":24,"width":640,"height":360}') === "1001-1024 @ 24 fps, 640×360");
 * ok(reviewFrames("not json") === null && reviewFrames(undefined) === null);
 * ```
 */
export function reviewFrames(ftrMeta: string | undefined): string | null {
  if (!ftrMeta) return null;
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(ftrMeta);
  } catch {
    return null;
  }
  if (meta === null || typeof meta !== "object") return null;
  const number = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined);
  const [start, end, rate, width, height] = [meta.frameIn, meta.frameOut, meta.frameRate, meta.width, meta.height]
    .map(number);
  const parts = [
    start !== undefined && end !== undefined ? `${start}-${end}` : undefined,
    rate !== undefined ? `@ ${rate} fps` : undefined,
  ].filter(Boolean).join(" ");
  const size = width !== undefined && height !== undefined ? `${width}×${height}` : undefined;
  const text = [parts || undefined, size].filter(Boolean).join(", ");
  return text || null;
}

function componentItem(row: Row, members: Map<string, number>): ComponentItem {
  const meta = metadataOf(row);
  const type = String(row.__entity_type__ ?? "");
  const size = row.size ?? meta.ferry_size;
  return {
    id: String(row.id),
    name: String(row.name ?? ""),
    kind: type === "SequenceComponent" ? "sequence" : type === "ContainerComponent" ? "container" : "file",
    fileType: String(row.file_type ?? ""),
    size: size === null || size === undefined || size === "" ? null : Number(size),
    fingerprint: meta.ferry_fingerprint ?? null,
    frames: meta.ferry_frames ?? reviewFrames(meta.ftr_meta),
    members: members.get(String(row.id)) ?? null,
    origin: meta.ferry_origin ? decodeURI(meta.ferry_origin) : null,
    locations: (Array.isArray(row.component_locations) ? row.component_locations as Row[] : []).map((item) => ({
      name: String(object(item.location).name ?? item.location_id ?? "?"),
      resourceIdentifier: String(item.resource_identifier ?? ""),
    })),
  };
}

/**
 * An asset version with its components (names, sizes, fingerprints, frame ranges, locations), its
 * notes and its review movie. A 404 `version_not_found` names an unknown id.
 */
export async function versionDetail(session: Session, id: string): Promise<VersionDetail> {
  const [versionRows, componentRows, memberRows, noteRows, siblingRows] = await batch(session, [
    `select ${VERSION_FIELDS} from AssetVersion where id is ${quoted(id)}`,
    `select id, name, file_type, size, metadata, component_locations.location.name, component_locations.resource_identifier from Component where version_id is ${
      quoted(id)
    }`,
    `select id, container_id from Component where container.version_id is ${quoted(id)}`,
    `select id, content, author.username, date from Note where parent_id is ${quoted(id)}`,
    `select id, version, status.name, status.color, is_published from AssetVersion where asset.versions any (id is ${
      quoted(id)
    })`,
  ]);
  const row = versionRows![0];
  if (!row) throw new WebError(404, "version_not_found", `No asset version with id '${id}' on the tracker`);
  const members = new Map<string, number>();
  for (const member of memberRows!) {
    const container = String(member.container_id);
    members.set(container, (members.get(container) ?? 0) + 1);
  }
  const components = componentRows!.map((component) => componentItem(component, members))
    .sort((a, b) => a.name.localeCompare(b.name));
  const notes = noteRows!.map((note) => ({
    id: String(note.id),
    content: String(note.content ?? ""),
    author: text(object(note.author).username),
    date: text(note.date),
  })).sort((a, b) => (a.date ?? "").localeCompare(b.date ?? ""));
  return {
    ...versionItem(row),
    components,
    notes,
    review: components.find((component) => component.name === "ftrackreview-mp4") ?? null,
    siblings: siblingRows!.map((sibling) => {
      const { id, version, status, published } = versionItem(sibling);
      return { id, version, status, published };
    }).sort((a, b) => a.version - b.version),
  };
}

/** What a search by name finds. */
export interface SearchResult {
  contexts: Array<ContextItem & { link: LinkItem[] }>;
  versions: VersionItem[];
}

/**
 * Projects, contexts and tasks whose name contains `term`, and the versions of assets whose name
 * contains it (case-insensitive; at most `limit` of each).
 */
export async function searchByName(session: Session, term: string, options: { limit?: number } = {}) {
  const { limit = 50 } = options;
  const like = quoted(`%${term.replaceAll("%", "").replaceAll("_", "")}%`);
  const [projects, contexts, versions] = await Promise.all([
    rows(session, `select id, name, thumbnail_id from Project where name like ${like} limit ${limit}`),
    rows(
      session,
      `select id, name, object_type.name, thumbnail_id, link from TypedContext where name like ${like} limit ${limit}`,
    ),
    rows(session, `select ${VERSION_FIELDS} from AssetVersion where asset.name like ${like} limit ${limit}`),
  ]);
  const result: SearchResult = {
    contexts: [
      ...projects.map((row) => ({
        id: String(row.id),
        name: String(row.name),
        type: "Project",
        thumbnailId: text(row.thumbnail_id),
        link: [{ id: String(row.id), name: String(row.name), type: "Project" }],
      })),
      ...contexts.map((row) => ({ ...contextItem(row), link: linkOf(row.link) })),
    ],
    versions: versions.map(versionItem).sort((a, b) => a.asset.localeCompare(b.asset) || b.version - a.version),
  };
  return result;
}

/** A component's file type (`.mp4`), or undefined when the tracker has no such component. */
export async function componentFileType(session: Session, id: string): Promise<string | undefined> {
  const row = (await rows(session, `select id, file_type from Component where id is ${quoted(id)}`))[0];
  return row ? String(row.file_type ?? "") : undefined;
}
