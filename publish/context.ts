import { randomUUID } from "node:crypto";

/** Data of a context or instance: anything plugins agree on. */
export type Data = Record<string, unknown>;

/**
 * One thing to publish (a render, a model, a workfile): a name, data, and families from
 * `data.family` plus `data.families`. `data.publish === false` makes the publish skip it.
 */
export class Instance {
  readonly id: string = randomUUID();
  readonly name: string;
  readonly data: Data;
  readonly parent: Context | Instance;
  /** Nested instances (kept, but the publish loop only processes the context's direct children). */
  readonly children: Instance[] = [];

  constructor(name: string, parent: Context | Instance, data: Data = {}) {
    this.name = name;
    this.parent = parent;
    this.data = { family: "default", name, ...data };
    parent.children.push(this);
  }

  /** `[data.family, ...data.families]`, without empty values. */
  get families(): string[] {
    const family = this.data.family;
    const more = Array.isArray(this.data.families) ? this.data.families.map(String) : [];
    return [...(family ? [String(family)] : []), ...more];
  }

  /** Whether the publish processes it (anything but a literal `false`). */
  get publish(): boolean {
    return this.data.publish !== false;
  }

  /** The context it belongs to. */
  get context(): Context {
    let node: Context | Instance = this.parent;
    while (node instanceof Instance) node = node.parent;
    return node;
  }

  /** Creates a nested instance. */
  createInstance(name: string, data: Data = {}): Instance {
    return new Instance(name, this, data);
  }

  toString(): string {
    return this.name;
  }
}

/**
 * What a publish works on: shared data and the instances collectors create.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Context } from "./context.ts";
 *
 * const context = new Context();
 * const render = context.createInstance("beauty", { family: "render", families: ["review"] });
 * ok(render.families.join() === "render,review" && context.has(render.id));
 * ```
 */
export class Context {
  readonly id: string = randomUUID();
  readonly name: string;
  readonly data: Data = {};
  readonly children: Instance[] = [];

  constructor(name = "Context") {
    this.name = name;
  }

  /** The direct children. */
  get instances(): readonly Instance[] {
    return this.children;
  }

  /** Creates an instance; its data starts as `{family: "default", name}` plus `data`. */
  createInstance(name: string, data: Data = {}): Instance {
    return new Instance(name, this, data);
  }

  /** The direct child with this id. */
  get(id: string): Instance | undefined {
    return this.children.find((instance) => instance.id === id);
  }

  /** Whether an instance (or id) is a direct child. */
  has(instance: Instance | string): boolean {
    const id = typeof instance === "string" ? instance : instance.id;
    return this.children.some((child) => child.id === id);
  }
}
