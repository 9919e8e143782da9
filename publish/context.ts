import { randomUUID } from "node:crypto";

/** Data of a context or instance: anything plugins agree on. */
export type Data = Record<string, unknown>;

/**
 * One thing to publish (a render, a model, a workfile): a name, data, families from
 * `data.family` plus `data.families`, and, as in pyblish where an instance is a list, its
 * members: the scene nodes or files it holds (`append`, `extend`, `remove`, `at`, `length`,
 * `includes`, `indexOf`, iteration). Nested instances are members too. `data.publish === false`
 * makes the publish skip it.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Context } from "./context.ts";
 *
 * const instance = new Context().createInstance("propA", { family: "model" });
 * instance.append("|propA|geo");
 * instance.extend(["|propA|rig", "|propA|lights"]);
 * instance.remove("|propA|lights");
 * ok(instance.length === 2 && instance.at(-1) === "|propA|rig" && [...instance].join() === "|propA|geo,|propA|rig");
 * ```
 */
export class Instance implements Iterable<unknown> {
  readonly id: string = randomUUID();
  readonly name: string;
  readonly data: Data;
  readonly parent: Context | Instance;
  #members: unknown[] = [];

  constructor(name: string, parent: Context | Instance, data: Data = {}) {
    this.name = name;
    this.parent = parent;
    this.data = { family: "default", name, ...data };
    if (parent instanceof Instance) parent.append(this);
    else parent.children.push(this);
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

  /** Nested instances (members that are instances; the publish loop only processes the context's direct children). */
  get children(): Instance[] {
    return this.#members.filter((member): member is Instance => member instanceof Instance);
  }

  /** Its members, in order (a read-only view; change them with `append`, `extend`, `remove`). */
  get members(): readonly unknown[] {
    return this.#members;
  }

  /** How many members it holds (Python's `len(instance)`). */
  get length(): number {
    return this.#members.length;
  }

  /** Adds members at the end. */
  append(...members: unknown[]): void {
    this.#members.push(...members);
  }

  /** Adds every member of an iterable at the end. */
  extend(members: Iterable<unknown>): void {
    this.#members.push(...members);
  }

  /** Removes the first occurrence of a member; `RangeError` when it is not one (Python's ValueError). */
  remove(member: unknown): void {
    const index = this.#members.indexOf(member);
    if (index < 0) {
      throw new RangeError(`Cannot remove ${JSON.stringify(String(member))} from '${this.name}': not a member`);
    }
    this.#members.splice(index, 1);
  }

  /** Removes every member. */
  clear(): void {
    this.#members.length = 0;
  }

  /** The member at `index` (negative counts from the end), or undefined. */
  at(index: number): unknown {
    return this.#members.at(index);
  }

  /** Where a member is, or -1. */
  indexOf(member: unknown): number {
    return this.#members.indexOf(member);
  }

  /** Whether it holds a member (Python's `member in instance`). */
  includes(member: unknown): boolean {
    return this.#members.includes(member);
  }

  [Symbol.iterator](): Iterator<unknown> {
    return this.#members[Symbol.iterator]();
  }

  /** Creates a nested instance (a member of this one). */
  createInstance(name: string, data: Data = {}): Instance {
    return new Instance(name, this, data);
  }

  toString(): string {
    return this.name;
  }
}

/**
 * What a publish works on: shared data and the instances collectors create. Like pyblish's
 * Context it is a list of its instances (iterate it, `length`, `at`).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Context } from "./context.ts";
 *
 * const context = new Context();
 * const render = context.createInstance("beauty", { family: "render", families: ["review"] });
 * ok(render.families.join() === "render,review" && context.has(render.id));
 * ok(context.length === 1 && context.at(0) === render && [...context][0] === render);
 * ```
 */
export class Context implements Iterable<Instance> {
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

  /** How many instances it holds. */
  get length(): number {
    return this.children.length;
  }

  /** The instance at `index` (negative counts from the end), or undefined. */
  at(index: number): Instance | undefined {
    return this.children.at(index);
  }

  [Symbol.iterator](): Iterator<Instance> {
    return this.children[Symbol.iterator]();
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
