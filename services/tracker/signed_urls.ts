/**
 * Component URLs a client can open directly (a browser, a player, `curl`): the tracker signs the
 * component, the user it is for and an expiry with a secret of its own (HMAC-SHA-256), so the URL
 * carries no API key and is checked, with what the user may see, when it is opened.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** How long a signed component URL works. */
export const SIGNED_URL_TTL_MS = 24 * 60 * 60 * 1000;

/** What a signed URL grants: one component's data (or thumbnail) to one user until it expires. */
export interface UrlGrant {
  componentId: string;
  userId: string;
  /** Milliseconds since the epoch. */
  expires: number;
}

/**
 * Signs and checks component URLs with one secret.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { UrlSigner } from "./signed_urls.ts";
 *
 * const signer = new UrlSigner("secret");
 * const url = new URL(signer.sign("http://127.0.0.1:8070/component/get", { componentId: "c", userId: "u", expires: Date.now() + 1000 }));
 * ok(signer.verify(url.searchParams)?.userId === "u");
 * url.searchParams.set("id", "other");
 * ok(signer.verify(url.searchParams) === undefined);
 * ```
 */
export class UrlSigner {
  #secret: string;

  constructor(secret: string) {
    this.#secret = secret;
  }

  /** A new random secret. */
  static secret(): string {
    return randomBytes(32).toString("base64url");
  }

  #signature(grant: UrlGrant): Buffer {
    return createHmac("sha256", this.#secret).update(`${grant.componentId}\n${grant.userId}\n${grant.expires}`)
      .digest();
  }

  /** `address` with `id`, `user`, `expires` and `signature` query parameters. */
  sign(address: string, grant: UrlGrant): string {
    const url = new URL(address);
    url.searchParams.set("id", grant.componentId);
    url.searchParams.set("user", grant.userId);
    url.searchParams.set("expires", String(grant.expires));
    url.searchParams.set("signature", this.#signature(grant).toString("base64url"));
    return url.href;
  }

  /** The grant of signed query parameters; undefined when unsigned, tampered with or expired. */
  verify(params: URLSearchParams, now: number = Date.now()): UrlGrant | undefined {
    const componentId = params.get("id");
    const userId = params.get("user");
    const expires = Number(params.get("expires"));
    const signature = params.get("signature");
    if (!componentId || !userId || !signature || !Number.isSafeInteger(expires) || expires < now) return undefined;
    const grant = { componentId, userId, expires };
    const expected = this.#signature(grant);
    const given = Buffer.from(signature, "base64url");
    return given.length === expected.length && timingSafeEqual(given, expected) ? grant : undefined;
  }
}
