import config from "../../deno.json" with { type: "json" };

/** ferry's version, from deno.json. */
export const FERRY_VERSION: string = config.version;
