import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { addonFolders, zipBlenderAddon } from "../../../src/hosts/blender_addon.ts";
import { BridgeError } from "../errors.ts";
import { errorResponses } from "./_responses.ts";

/** `GET /v1/hosts/blender/addon.zip`: the Blender add-on, installable through Preferences › Add-ons › Install. */
export const blenderAddonRoute = createRoute({
  method: "get",
  path: "/v1/hosts/blender/addon.zip",
  summary: "The Blender add-on zip (ferry_blender with the Python client vendored), to install in Blender",
  responses: {
    200: {
      description: "The add-on zip, as an attachment named ferry_blender-<version>.zip",
      content: { "application/zip": { schema: z.string().openapi({ type: "string", format: "binary" }) } },
    },
    ...errorResponses(401, 403, 404),
  },
});

const built = new Map<string, Promise<Uint8Array>>();

/** The add-on zip built from `root` (the folder holding `hosts/`), once per process per root. */
function addonZip(root: string): Promise<Uint8Array> {
  let zip = built.get(root);
  if (!zip) {
    zip = zipBlenderAddon(root).then((zipped) => zipped.bytes);
    zip.catch(() => built.delete(root));
    built.set(root, zip);
  }
  return zip;
}

/** Adds `GET /v1/hosts/blender/addon.zip`; answers 404 naming the folder when `root` has no add-on sources. */
export function addBlenderAddonRoute(app: OpenAPIHono, options: { root: string; version: string }): void {
  app.openapi(blenderAddonRoute, async (c) => {
    let bytes: Uint8Array;
    try {
      bytes = await addonZip(options.root);
    } catch (error) {
      const folders = addonFolders(options.root);
      throw new BridgeError(
        404,
        "addon_not_found",
        `The Blender add-on is not available on this bridge: ${
          (error as Error).message
        } (needs '${folders.addon}' and '${folders.client}')`,
        { cause: error },
      );
    }
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="ferry_blender-${options.version}.zip"`,
    }) as never;
  });
}
