import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { extname, resolve } from "node:path";
import type { Entity, EntityInput, Writer } from "../store/entity.ts";
import type { PipelineStore } from "../store/pipeline_store.ts";
import { COMMENT_NAME, COMMENTABLE_TYPES } from "./comment_sync.ts";
import { linksOf, type PipelineLink } from "./link_sync.ts";

/** The image types a thumbnail may be (by file extension). */
export const THUMBNAIL_EXTENSIONS: ReadonlySet<string> = new Set([".jpg", ".jpeg", ".png", ".gif", ".webp"]);

/** The entity types that take a thumbnail (`data.thumbnail`, a file path). */
export const THUMBNAIL_TYPES: ReadonlySet<string> = new Set(["folder", "task", "version"]);

/** Children a path walks through and `list` shows: everything but comments and lists. */
const walkable = (entity: Entity) => entity.type !== "comment" && entity.type !== "list";

/** What each list type holds. */
const LIST_HOLDS: Record<"version" | "context", string[]> = { version: ["version"], context: ["folder", "task"] };

/** Options of {@linkcode PipelineOps.createList}. */
export interface CreateListOptions {
  /** `version`: a list of versions (an AssetVersionList); `context`: folders and tasks. @default {"version"} */
  listType?: "version" | "context";
  /** The tracker list category's name. @default {null: the tracker's Default} */
  category?: string | null;
  /** Paths or ids of what the list holds, in order. @default {[]} */
  items?: string[];
}

/** A change of {@linkcode PipelineOps.changeList}. */
export interface ListChange {
  name?: string;
  open?: boolean;
  category?: string | null;
  /** Paths or ids to add (at the end; those listed already stay where they are). */
  add?: string[];
  /** Paths or ids to take out. */
  remove?: string[];
}

/** A request that names something the pipeline does not have, or a value it refuses. */
export class PipelineOpError extends Error {
  override name = "PipelineOpError";
  constructor(message: string, readonly status: 400 | 404 = 400) {
    super(message);
  }
}

/**
 * Changes people and tools make to the pipeline store, by project and path (`/sq010/sh010/comp`,
 * `/` for the project, or an entity id). Each write records `entity.*` events with the writer's
 * sender type (`user`), which the transmitter carries to the tracker.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { openStore } from "../store/mod.ts";
 * import { PipelineOps } from "./pipeline_ops.ts";
 *
 * await using store = await openStore(":memory:");
 * await store.writeEntity({ type: "project", project: "demo", name: "demo" }, { sender: "setup" });
 * const ops = new PipelineOps(store, { sender: "tool", senderType: "user" });
 * await ops.createFolder("demo", "/", "sq010", "Sequence");
 * await ops.createTask("demo", "/sq010", "layout", "Layout");
 * ok((await ops.get("demo", "/sq010/layout")).data.taskType === "Layout");
 * const comment = await ops.comment("demo", "/sq010/layout", "Blocking looks good", { author: "ana" });
 * await ops.editComment("demo", comment.id, "Blocking looks great");
 * ok((await ops.listComments("demo", "/sq010/layout"))[0]!.data.text === "Blocking looks great");
 * ```
 */
export class PipelineOps {
  constructor(readonly store: PipelineStore, readonly writer: Writer) {}

  /** The project entity; a 404 error naming the project when there is none. */
  async project(project: string): Promise<Entity> {
    const found = (await this.store.findEntities({ type: "project", project }))[0];
    if (!found) {
      throw new PipelineOpError(
        `The pipeline has no project '${project}' (sync it first: deno task sync ${project})`,
        404,
      );
    }
    return found;
  }

  /** The entity at a path (or with an id) in a project. */
  async get(project: string, path: string): Promise<Entity> {
    const root = await this.project(project);
    if (!path.startsWith("/")) {
      const byId = await this.store.getEntity(path);
      if (byId && byId.project === project) return byId;
      throw new PipelineOpError(
        `There is no entity '${path}' in project '${project}': give a path like /sq010/sh010`,
        404,
      );
    }
    const names = path.split("/").filter(Boolean);
    let current: Entity = root;
    for (let i = 0; i < names.length; i++) {
      const siblings = i === 0
        ? (await this.store.findEntities({ project, type: "folder" })).filter((e) => e.parentId === null)
        : (await this.store.findEntities({ project, parentId: current.id })).filter(walkable);
      const next = siblings.find((entity) => entity.name === names[i]) ??
        siblings.find((entity) => entity.name.toLowerCase() === names[i]!.toLowerCase());
      if (!next) {
        throw new PipelineOpError(
          `There is no '${names[i]}' in '/${names.slice(0, i).join("/")}' of project '${project}' (path '${path}')`,
          404,
        );
      }
      current = next;
    }
    return current;
  }

  /** The children of the entity at a path (`/`: the top folders). */
  async list(project: string, path = "/"): Promise<Entity[]> {
    const parent = await this.get(project, path);
    if (parent.type === "project") {
      return (await this.store.findEntities({ project, type: "folder" })).filter((e) => e.parentId === null);
    }
    return (await this.store.findEntities({ project, parentId: parent.id })).filter(walkable);
  }

  async #write(entity: Entity, change: Partial<Entity>): Promise<Entity> {
    return (await this.store.writeEntity({ ...entity, ...change } as EntityInput, this.writer)).entity;
  }

  /** Sets attributes (merged with the entity's; `null` clears one). */
  async setAttributes(project: string, path: string, attributes: Record<string, unknown>): Promise<Entity> {
    const entity = await this.get(project, path);
    return await this.#write(entity, { attributes: { ...entity.attributes, ...attributes } });
  }

  /** Sets the status: one of the project's statuses (case-insensitively), else a 400 error listing them. */
  async setStatus(project: string, path: string, status: string): Promise<Entity> {
    const entity = await this.get(project, path);
    const root = await this.project(project);
    const statuses = Array.isArray(root.data.statuses) ? root.data.statuses.map(String) : [];
    const known = statuses.length === 0 ? status : statuses.find((s) => s.toLowerCase() === status.toLowerCase());
    if (!known) {
      throw new PipelineOpError(
        `Unknown status '${status}' in project '${project}': use one of ${statuses.join(", ")}`,
      );
    }
    return await this.#write(entity, { status: known });
  }

  /**
   * Assigns users, named by username or email (case-insensitively) when the pipeline knows users
   * (synced from the tracker): they are recorded by username, and a name no user has is refused
   * with a 400 error. With no users known, names are recorded as given. `replace` drops those not named.
   */
  async assign(project: string, path: string, users: string[], options: { replace?: boolean } = {}): Promise<Entity> {
    const entity = await this.get(project, path);
    if (entity.type !== "task") throw new PipelineOpError(`Only tasks are assigned; '${path}' is a ${entity.type}`);
    const known = await this.store.listUsers();
    if (known.length > 0) {
      const unknown: string[] = [];
      users = users.map((name) => {
        const key = name.trim().toLowerCase();
        const user = known.find((u) => u.username.toLowerCase() === key) ??
          known.find((u) => u.email?.toLowerCase() === key);
        if (user === undefined) unknown.push(name);
        return user?.username ?? name;
      });
      if (unknown.length > 0) {
        throw new PipelineOpError(
          `Unknown user ${
            unknown.map((name) => `'${name}'`).join(", ")
          }: name users by username or email (deno task sync --users brings the tracker's)`,
        );
      }
    }
    const assignees = options.replace ? [...new Set(users)] : [...new Set([...entity.assignees, ...users])];
    return await this.#write(entity, { assignees });
  }

  async #create(input: EntityInput, project: string, parentPath: string): Promise<Entity> {
    const siblings = await this.list(project, parentPath);
    if (siblings.some((s) => s.name.toLowerCase() === input.name.toLowerCase())) {
      throw new PipelineOpError(
        `'${parentPath.replace(/\/$/, "")}/${input.name}' exists already in project '${project}'`,
      );
    }
    return (await this.store.writeEntity(input, this.writer)).entity;
  }

  /** Creates a folder under a folder (or at the top with `/`). */
  async createFolder(project: string, parentPath: string, name: string, folderType = "Folder"): Promise<Entity> {
    const parent = await this.get(project, parentPath);
    if (parent.type !== "project" && parent.type !== "folder") {
      throw new PipelineOpError(`A folder goes under a folder, not under the ${parent.type} '${parentPath}'`);
    }
    return await this.#create(
      {
        type: "folder",
        id: randomUUID(),
        project,
        parentId: parent.type === "project" ? null : parent.id,
        name,
        data: { folderType },
      },
      project,
      parentPath,
    );
  }

  /** Creates a task under a folder. */
  async createTask(project: string, folderPath: string, name: string, taskType = "Generic"): Promise<Entity> {
    const parent = await this.get(project, folderPath);
    if (parent.type !== "folder") {
      throw new PipelineOpError(`A task goes under a folder, not under the ${parent.type} '${folderPath}'`);
    }
    return await this.#create(
      { type: "task", id: randomUUID(), project, parentId: parent.id, name, data: { taskType } },
      project,
      folderPath,
    );
  }

  /**
   * Adds a comment to an entity (a project, folder, task or version): a `comment` entity under it,
   * which the transmitter makes a tracker note. `replyTo` names the comment (id) it answers, on
   * the same entity.
   */
  async comment(
    project: string,
    path: string,
    text: string,
    options: { author?: string; replyTo?: string } = {},
  ): Promise<Entity> {
    if (!text.trim()) throw new PipelineOpError(`A comment needs some text, not '${text}'`);
    const entity = await this.get(project, path);
    if (!COMMENTABLE_TYPES.has(entity.type)) {
      throw new PipelineOpError(
        `Only projects, folders, tasks and versions take comments; '${path}' is a ${entity.type}`,
      );
    }
    if (options.replyTo !== undefined) {
      const answered = await this.getComment(project, options.replyTo);
      if (answered.parentId !== entity.id) {
        throw new PipelineOpError(`Comment '${options.replyTo}' is not on '${path}': a reply goes on the same entity`);
      }
    }
    return (await this.store.writeEntity({
      type: "comment",
      id: randomUUID(),
      project,
      parentId: entity.id,
      name: COMMENT_NAME,
      data: {
        text: text.trim(),
        author: options.author ?? null,
        ...(options.replyTo !== undefined ? { replyTo: options.replyTo } : {}),
      },
    }, this.writer)).entity;
  }

  /** A comment by id; a 404 error naming it when the project has no such comment. */
  async getComment(project: string, id: string): Promise<Entity> {
    const comment = await this.store.getEntity(id);
    if (!comment || comment.type !== "comment" || comment.project !== project) {
      throw new PipelineOpError(
        `There is no comment '${id}' in project '${project}' (deno task pipeline comment list ${project} <path>)`,
        404,
      );
    }
    return comment;
  }

  /** Changes a comment's text. */
  async editComment(project: string, id: string, text: string): Promise<Entity> {
    if (!text.trim()) throw new PipelineOpError(`A comment needs some text, not '${text}'`);
    const comment = await this.getComment(project, id);
    return await this.#write(comment, { data: { ...comment.data, text: text.trim() } as Entity["data"] });
  }

  /** Deletes a comment (the transmitter deletes its tracker note). */
  async deleteComment(project: string, id: string): Promise<Entity> {
    const comment = await this.getComment(project, id);
    await this.store.deleteEntity(comment.id, this.writer);
    return comment;
  }

  /** The comments on the entity at a path, oldest first (a reply after what it answers when made in the same instant). */
  async listComments(project: string, path: string): Promise<Entity[]> {
    const entity = await this.get(project, path);
    const comments = await this.store.findEntities({ project, parentId: entity.id, type: "comment" });
    const byId = new Map(comments.map((comment) => [comment.id, comment]));
    const depth = (comment: Entity, seen = 0): number => {
      const answered = byId.get(String(comment.data.replyTo ?? ""));
      return answered && seen < comments.length ? 1 + depth(answered, seen + 1) : 0;
    };
    return comments.sort((a, b) => a.createdAt - b.createdAt || depth(a) - depth(b));
  }

  /**
   * Sets the thumbnail of a folder, task or version: `data.thumbnail`, the image's absolute path,
   * which the transmitter uploads to the tracker. A 400 error names a missing file or a file that
   * is not an image.
   */
  async setThumbnail(project: string, path: string, image: string): Promise<Entity> {
    const entity = await this.get(project, path);
    if (!THUMBNAIL_TYPES.has(entity.type)) {
      throw new PipelineOpError(`Only folders, tasks and versions take a thumbnail; '${path}' is a ${entity.type}`);
    }
    const file = resolve(image);
    if (!THUMBNAIL_EXTENSIONS.has(extname(file).toLowerCase())) {
      throw new PipelineOpError(
        `'${image}' is not an image a thumbnail can be (use ${[...THUMBNAIL_EXTENSIONS].join(", ")})`,
      );
    }
    const found = await stat(file).catch(() => undefined);
    if (!found?.isFile()) throw new PipelineOpError(`There is no image file '${file}'`);
    // The time makes setting the same file again (an image changed in place) a change too.
    return await this.#write(entity, {
      data: { ...entity.data, thumbnail: file, thumbnailSetAt: Date.now() } as Entity["data"],
    });
  }

  /** The project's lists, by name. */
  async lists(project: string): Promise<Entity[]> {
    await this.project(project);
    return (await this.store.findEntities({ project, type: "list" })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A list by id or name (case-insensitively); a 404 error naming it when the project has none. */
  async getList(project: string, list: string): Promise<Entity> {
    const lists = await this.lists(project);
    const found = lists.find((entity) => entity.id === list) ?? lists.find((entity) => entity.name === list) ??
      lists.find((entity) => entity.name.toLowerCase() === list.toLowerCase());
    if (!found) {
      throw new PipelineOpError(
        `There is no list '${list}' in project '${project}' (${lists.map((l) => l.name).join(", ") || "it has none"})`,
        404,
      );
    }
    return found;
  }

  async #items(project: string, listType: "version" | "context", listName: string, paths: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const path of paths) {
      const item = await this.get(project, path);
      if (!LIST_HOLDS[listType].includes(item.type)) {
        throw new PipelineOpError(
          `List '${listName}' holds ${
            LIST_HOLDS[listType].join(" and ")
          }s (a ${listType} list), not the ${item.type} '${path}'`,
        );
      }
      if (!ids.includes(item.id)) ids.push(item.id);
    }
    return ids;
  }

  /**
   * Creates a list at the top of the project: of versions (for review) or of folders and tasks.
   * The transmitter makes it a tracker list.
   */
  async createList(project: string, name: string, options: CreateListOptions = {}): Promise<Entity> {
    const { listType = "version", category = null, items = [] } = options;
    if (!name.trim()) throw new PipelineOpError(`A list needs a name, not '${name}'`);
    if (!(listType in LIST_HOLDS)) {
      throw new PipelineOpError(`Unknown list type '${listType}': use version or context`);
    }
    const existing = (await this.lists(project)).find((list) => list.name.toLowerCase() === name.trim().toLowerCase());
    if (existing) throw new PipelineOpError(`List '${existing.name}' exists already in project '${project}'`);
    return (await this.store.writeEntity({
      type: "list",
      id: randomUUID(),
      project,
      name: name.trim(),
      data: { listType, category, items: await this.#items(project, listType, name, items), open: true },
    }, this.writer)).entity;
  }

  /** Renames, opens or closes a list, changes its category, adds or takes out items. */
  async changeList(project: string, list: string, change: ListChange): Promise<Entity> {
    const entity = await this.getList(project, list);
    const listType = entity.data.listType === "context" ? "context" : "version";
    const removed = new Set(await this.#items(project, listType, entity.name, change.remove ?? []));
    const items = [
      ...(entity.data.items as string[]),
      ...await this.#items(project, listType, entity.name, change.add ?? []),
    ]
      .filter((id, at, all) => all.indexOf(id) === at && !removed.has(id));
    if (change.name !== undefined && change.name.toLowerCase() !== entity.name.toLowerCase()) {
      if (!change.name.trim()) throw new PipelineOpError(`A list needs a name, not '${change.name}'`);
      const taken = (await this.lists(project)).find((l) => l.name.toLowerCase() === change.name!.trim().toLowerCase());
      if (taken) throw new PipelineOpError(`List '${taken.name}' exists already in project '${project}'`);
    }
    return await this.#write(entity, {
      name: change.name?.trim() || entity.name,
      data: {
        ...entity.data,
        items,
        ...(change.open !== undefined ? { open: change.open } : {}),
        ...(change.category !== undefined ? { category: change.category } : {}),
      } as Entity["data"],
    });
  }

  /**
   * Links two folders or tasks: the one at `toPath` depends on the one at `fromPath` (a tracker
   * TypedContextLink from → to). Kept on the target's `data.links` as `{ from, type, trackerId:
   * null }` until the transmitter has made the tracker link. A link that exists already (any
   * type) is refused with a 400 error, as is a link of an entity to itself. `type` should be the
   * sync's `linkType` (the tracker's links have no type: the sync gives them that one).
   */
  async link(project: string, fromPath: string, toPath: string, type = "dependency"): Promise<Entity> {
    const [from, to] = await this.#linkEnds(project, fromPath, toPath);
    if (from.id === to.id) throw new PipelineOpError(`'${fromPath}' cannot be linked to itself`);
    if (!type.trim()) throw new PipelineOpError(`A link needs a type, not '${type}'`);
    const links = linksOf(to);
    if (links.some((link) => link.from === from.id)) {
      throw new PipelineOpError(`'${toPath}' is linked from '${fromPath}' already in project '${project}'`);
    }
    return await this.#write(to, {
      data: { ...to.data, links: [...links, { from: from.id, type: type.trim(), trackerId: null }] } as Entity["data"],
    });
  }

  /** Removes the link from `fromPath` into `toPath` (the transmitter deletes the tracker link); a 404 error when there is none. */
  async unlink(project: string, fromPath: string, toPath: string): Promise<Entity> {
    const [from, to] = await this.#linkEnds(project, fromPath, toPath);
    const links = linksOf(to);
    const kept = links.filter((link) => link.from !== from.id);
    if (kept.length === links.length) {
      throw new PipelineOpError(`'${toPath}' is not linked from '${fromPath}' in project '${project}'`, 404);
    }
    const data: Record<string, unknown> = { ...to.data, links: kept };
    if (kept.length === 0) delete data.links;
    return await this.#write(to, { data: data as Entity["data"] });
  }

  /** The links into the entity at a path (`{ from, type, trackerId }`, `from` a pipeline id). */
  async links(project: string, path: string): Promise<PipelineLink[]> {
    return linksOf(await this.get(project, path));
  }

  async #linkEnds(project: string, fromPath: string, toPath: string): Promise<[Entity, Entity]> {
    const ends = [await this.get(project, fromPath), await this.get(project, toPath)] as [Entity, Entity];
    for (const [entity, path] of [[ends[0], fromPath], [ends[1], toPath]] as const) {
      if (entity.type !== "folder" && entity.type !== "task") {
        throw new PipelineOpError(`Only folders and tasks are linked; '${path}' is a ${entity.type}`);
      }
    }
    return ends;
  }

  /** Deletes a list (the transmitter deletes its tracker list). */
  async deleteList(project: string, list: string): Promise<Entity> {
    const entity = await this.getList(project, list);
    await this.store.deleteEntity(entity.id, this.writer);
    return entity;
  }
}
