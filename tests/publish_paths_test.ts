/**
 * Disk-location paths made from names never leave the location's root: names that are `.` or
 * `..` or hold separators or NUL are refused, by the structure, by ValidateDiskStructure before
 * anything is created, and by the transfer itself, whatever the tracker accepts as a name.
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { discover } from "../publish/discover.ts";
import { CollectorOrder } from "../publish/orders.ts";
import { definePlugin, type ResolvedPlugin } from "../publish/plugin.ts";
import { parsePublishRequest } from "../publish/request.ts";
import { runPublish } from "../publish/run_publish.ts";
import { parsePublishSettings } from "../publish/settings.ts";
import { pathInsideRoot, structurePath, UnsafePathError } from "../plugins/_structure.ts";
import type { ResolvedContext } from "../src/tracker/resolve_context.ts";
import { NO_REVIEW_TOOLS, PLUGINS, publishFixture, tempFolder, writeFrames } from "./_publish.ts";

const options = { sanitizeOps: false, sanitizeResources: false };
const values = {
  project: "demo",
  context: ["sq010", "sh010"],
  asset: "beauty",
  version: 3,
  component: "exr",
  frame: ".1001",
  ext: ".exr",
};
const TEMPLATE = "{project}/{context}/{asset}/v{version}/{component}{frame}{ext}";

Deno.test("structurePath() refuses names that are '.' or '..' or hold separators or NUL, naming the name", () => {
  strictEqual(structurePath(TEMPLATE, values), "demo/sq010/sh010/beauty/v003/exr.1001.exr");
  strictEqual(
    structurePath(TEMPLATE, { ...values, project: 'a:b*c?"d' }),
    "a_b_c__d/sq010/sh010/beauty/v003/exr.1001.exr",
  );
  const unsafe: Array<[Partial<typeof values>, RegExp]> = [
    [{ project: ".." }, /the project name "\.\." cannot be a folder or file name/],
    [{ project: "." }, /the project name "\." cannot/],
    [{ context: ["..", "sh010"] }, /the context name "\.\." cannot/],
    [{ context: ["sq010", "a/../../b"] }, /the context name "a\/..\/..\/b" cannot/],
    [{ asset: "a\\..\\b" }, /the asset name "a\\\\..\\\\b" cannot/],
    [{ asset: "be\u0000auty" }, /the asset name "be\\u0000auty" cannot/],
    [{ component: ".." }, /the component name "\.\." cannot/],
    [{ ext: "/../x" }, /the extension name/],
  ];
  for (const [change, message] of unsafe) {
    throws(() => structurePath(TEMPLATE, { ...values, ...change }), (error: Error) => {
      ok(error instanceof UnsafePathError, String(error));
      ok(message.test(error.message), error.message);
      return true;
    });
  }
  throws(
    () => structurePath("../{project}/{asset}", values),
    /the structure path '..\/demo\/beauty' is not a relative path inside/,
  );
  throws(() => structurePath("/{project}/{asset}", values), /is not a relative path inside/);
  throws(() => structurePath("{project}/../../{asset}", values), /is not a relative path inside/);
});

Deno.test("pathInsideRoot() resolves paths inside the root and refuses those that climb out", () => {
  strictEqual(pathInsideRoot("/srv/publish", "demo/a.exr"), "/srv/publish/demo/a.exr");
  strictEqual(pathInsideRoot("/srv/publish/", "demo/../x.exr"), "/srv/publish/x.exr");
  for (const path of ["../x", "demo/../../x", "/etc/passwd", "", "."]) {
    throws(() => pathInsideRoot("/srv/publish", path), UnsafePathError, path);
  }
  throws(
    () => pathInsideRoot("/srv/publish", "../etc/x"),
    /resolves to '\/srv\/etc\/x', outside the root '\/srv\/publish'/,
  );
});

/** A collector that renames the resolved context as a site with such names would return it. */
const renameContext = (name: string) =>
  definePlugin({
    kind: "context",
    name: "RenameContext",
    order: CollectorOrder - 0.1,
    process(context) {
      const tracker = context.data.tracker as ResolvedContext;
      tracker.project.name = name;
      for (const entity of tracker.chain) entity.name = name;
    },
  });

/** Publishes with ferry's plugins (without those named in `leave`) plus `extra`, to a disk root. */
async function publishToDisk(
  session: Parameters<typeof runPublish>[0]["session"],
  files: string[],
  root: string,
  options: { extra?: ResolvedPlugin[]; leave?: string[]; settings?: unknown; asset?: string } = {},
) {
  const { plugins } = await discover({ paths: [PLUGINS], hosts: ["shell"] });
  const chosen = [...plugins.filter((plugin) => !options.leave?.includes(plugin.name)), ...(options.extra ?? [])]
    .sort((a, b) => a.order - b.order);
  return await runPublish({
    request: parsePublishRequest({
      context: { path: "demo/sq010/sh010", task: "lighting" },
      instances: [{ family: "render", name: options.asset ?? "beauty", files }],
      location: { disk: root },
    }),
    session,
    plugins: chosen,
    settings: parsePublishSettings({ tools: NO_REVIEW_TOOLS, ...(options.settings as object) }),
  });
}

/** Every path below `folder`, sorted. */
async function tree(folder: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    found.push(join(entry.parentPath, entry.name).slice(folder.length));
  }
  return found.sort();
}

Deno.test({
  ...options,
  name: "ValidateDiskStructure refuses '..' names before anything is created or written, naming the name and the root",
  fn: async () => {
    await using fixture = await publishFixture();
    const { session, folder } = fixture;
    await using outside = await tempFolder("ferry-outside-");
    const root = join(outside.path, "a", "b", "c", "root");
    await mkdir(root, { recursive: true });
    await writeFrames(folder.path, [1001, 1002]);
    const files = [join(folder.path, "beauty.####.exr")];
    const cases: Array<[string, Parameters<typeof publishToDisk>[3], RegExp]> = [
      ["context names '..'", { extra: [renameContext("..")] }, /the project name "\.\." cannot be a folder/],
      [
        "an asset named '..'",
        { asset: "..", settings: { assetNamePattern: ".*" } },
        /Cannot publish '\.\.' to the disk location .*the asset name "\.\." cannot/,
      ],
      [
        "a template that climbs",
        { settings: { structure: "{project}/../../../../{asset}/{component}{frame}{ext}" } },
        /is not a relative path inside the location's root/,
      ],
    ];
    for (const [what, change, message] of cases) {
      const { report } = await publishToDisk(session, files, root, change);
      strictEqual(report.ok, false, what);
      const failure = report.results.find((result) => !result.success);
      strictEqual(failure?.plugin, "ValidateDiskStructure", what);
      ok(message.test(failure!.error!.message), failure!.error!.message);
      ok(failure!.error!.message.includes(root), failure!.error!.message);
    }
    deepStrictEqual(await tree(outside.path), ["/a", "/a/b", "/a/b/c", "/a/b/c/root"], "nothing written anywhere");
    strictEqual((await session.query("select id from AssetVersion")).data.length, 0, "nothing created");
  },
});

Deno.test({
  ...options,
  name: "IntegrateVersion on its own never writes outside a disk root when names are '..'",
  fn: async () => {
    await using fixture = await publishFixture();
    const { session, folder } = fixture;
    await using outside = await tempFolder("ferry-outside-");
    const root = join(outside.path, "a", "b", "c", "root");
    await mkdir(root, { recursive: true });
    await writeFrames(folder.path, [1001, 1002]);
    const { report } = await publishToDisk(session, [join(folder.path, "beauty.####.exr")], root, {
      extra: [renameContext("..")],
      leave: ["ValidateDiskStructure"],
    });
    strictEqual(report.ok, false);
    const failure = report.results.find((result) => !result.success);
    strictEqual(failure?.plugin, "IntegrateVersion");
    ok(
      /the project name "\.\." cannot be a folder or file name/.test(failure!.error!.message),
      failure!.error!.message,
    );
    deepStrictEqual(await tree(outside.path), ["/a", "/a/b", "/a/b/c", "/a/b/c/root"], "nothing written anywhere");
    strictEqual((await session.query("select id from AssetVersion where is_published is true")).data.length, 0);
  },
});
