import { UsageError } from "./args.ts";
import { storeLocation } from "../store/open_store.ts";
import { type Variant, VariantSchema } from "../store/settings.ts";

/** What every event service resolves at start. */
export interface ServiceConfig {
  variant: Variant;
  /** A SQLite file path or a `postgres://` URL. */
  store: string;
}

/**
 * The variant (`--variant`, else `FERRY_VARIANT`, else `production`) and the pipeline store
 * (`--store`, else `FERRY_STORE`, else `<ferry home>/store.db`) of a service. A bad variant is a
 * {@linkcode UsageError} naming the value.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { serviceConfig } from "./service_config.ts";
 *
 * const config = serviceConfig({ env: { FERRY_VARIANT: "staging" }, home: "/srv/ferry" });
 * ok(config.variant === "staging" && config.store === "/srv/ferry/store.db");
 * ```
 */
export function serviceConfig(input: {
  variant?: string;
  store?: string;
  env: Record<string, string | undefined>;
  home: string;
}): ServiceConfig {
  const given = input.variant ?? input.env.FERRY_VARIANT ?? "production";
  const variant = VariantSchema.safeParse(given);
  if (!variant.success) {
    const from = input.variant !== undefined ? "--variant" : "FERRY_VARIANT";
    throw new UsageError(`${from} '${given}' must be production, staging or dev`);
  }
  return { variant: variant.data, store: input.store ?? storeLocation(input.env, input.home) };
}
