import type { Entity } from "../store/entity.ts";
import type { PipelineStore } from "../store/pipeline_store.ts";

/**
 * The pipeline entities of one project as a sync sees them: loaded whole for a full sync, or
 * looked up on demand (and remembered) for an incremental one.
 */
export class PipelineIndex {
  readonly #store: PipelineStore;
  readonly #project: string;
  readonly #byId = new Map<string, Entity>();
  readonly #byTracker = new Map<string, string>();
  readonly #children = new Map<string, Set<string>>();
  readonly #loadedChildren = new Set<string>();
  #complete = false;

  constructor(store: PipelineStore, project: string) {
    this.#store = store;
    this.#project = project;
  }

  /** Loads every entity of the project (a full sync's start). */
  async preload(): Promise<void> {
    for (const entity of await this.#store.findEntities({ project: this.#project })) this.put(entity);
    this.#complete = true;
  }

  /** Every entity known (all of the project once preloaded). */
  all(): Entity[] {
    return [...this.#byId.values()];
  }

  /** Remembers an entity as written. */
  put(entity: Entity): void {
    const before = this.#byId.get(entity.id);
    if (before) {
      if (before.trackerId && this.#byTracker.get(before.trackerId) === entity.id) {
        this.#byTracker.delete(before.trackerId);
      }
      this.#children.get(before.parentId ?? "")?.delete(entity.id);
    }
    this.#byId.set(entity.id, entity);
    if (entity.trackerId) this.#byTracker.set(entity.trackerId, entity.id);
    const siblings = this.#children.get(entity.parentId ?? "") ?? new Set<string>();
    siblings.add(entity.id);
    this.#children.set(entity.parentId ?? "", siblings);
  }

  /** Forgets a deleted entity. */
  drop(id: string): void {
    const before = this.#byId.get(id);
    if (!before) return;
    this.#byId.delete(id);
    if (before.trackerId && this.#byTracker.get(before.trackerId) === id) this.#byTracker.delete(before.trackerId);
    this.#children.get(before.parentId ?? "")?.delete(id);
  }

  async get(id: string): Promise<Entity | undefined> {
    const known = this.#byId.get(id);
    if (known || this.#complete) return known;
    const found = await this.#store.getEntity(id);
    if (found && found.project === this.#project) this.put(found);
    return found;
  }

  async byTrackerId(trackerId: string): Promise<Entity | undefined> {
    const id = this.#byTracker.get(trackerId);
    if (id !== undefined) return this.#byId.get(id);
    if (this.#complete) return undefined;
    const found = (await this.#store.findEntities({ project: this.#project, trackerId }))[0];
    if (found) this.put(found);
    return found;
  }

  /** The children of an entity (`null`: the project's top folders). */
  async children(parentId: string | null): Promise<Entity[]> {
    const key = parentId ?? "";
    if (!this.#complete && !this.#loadedChildren.has(key)) {
      const found = parentId === null
        ? (await this.#store.findEntities({ project: this.#project, type: "folder" })).filter((e) =>
          e.parentId === null
        )
        : await this.#store.findEntities({ project: this.#project, parentId });
      for (const entity of found) this.put(entity);
      this.#loadedChildren.add(key);
    }
    return [...(this.#children.get(key) ?? [])].map((id) => this.#byId.get(id)!).filter(Boolean);
  }

  /** `/sq010/sh010/lighting`: the names from the top folder down. */
  async pathOf(entity: Entity): Promise<string> {
    const names: string[] = [];
    let current: Entity | undefined = entity;
    for (let depth = 0; current && current.type !== "project" && depth < 1_000; depth++) {
      names.unshift(current.name);
      current = current.parentId ? await this.get(current.parentId) : undefined;
    }
    return `/${names.join("/")}`;
  }

  /** Whether products hang below a folder (directly or deeper): it is then immutable. */
  async hasProducts(entity: Entity): Promise<boolean> {
    const stack = [entity];
    while (stack.length) {
      const current = stack.pop()!;
      for (const child of await this.children(current.id)) {
        if (child.type === "product") return true;
        if (child.type === "folder") stack.push(child);
      }
    }
    return false;
  }
}
