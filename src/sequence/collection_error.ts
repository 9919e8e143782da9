/**
 * Raised when an item cannot be added to or removed from a {@linkcode Collection}, or when two
 * incompatible collections are merged. clique's `CollectionError`, under the same name.
 *
 * @example Catching it
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { Collection, CollectionError } from "./mod.ts";
 *
 * const collection = new Collection({ head: "beauty.", tail: ".exr", padding: 4 });
 * try {
 *   collection.add("beauty.10001.exr");
 * } catch (error) {
 *   ok(error instanceof CollectionError);
 * }
 * ```
 */
export class CollectionError extends Error {
  /** Creates the error with a message that names the item or collection at fault. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CollectionError";
  }
}
