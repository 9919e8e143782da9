/**
 * `GET /v1/hosts/blender/addon.zip` through `app.request()`: the token rule, the zip's content, the 404 when the
 * add-on sources are missing, and the OpenAPI document.
 */
import { Buffer } from "node:buffer";
import { ok, strictEqual } from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { createBridgeApp } from "../services/bridge/app.ts";
import { JobRunner } from "../services/bridge/job_runner.ts";
import { JobStore } from "../services/bridge/job_store.ts";
import { FERRY_VERSION } from "../services/bridge/version.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const TOKEN = "t".repeat(32);

/** A bridge app without a tracker (the add-on route needs none), in a temporary folder. */
async function addonApp(hostsRoot?: string) {
  const folder = await mkdtemp(join(tmpdir(), "ferry-addon-app-"));
  const store = await JobStore.open({ folder });
  const plugins = () => Promise.resolve({ plugins: [], skipped: [] });
  const runner = new JobRunner({ store, plugins, session: () => Promise.reject(new Error("no tracker")) });
  const app = createBridgeApp({
    token: TOKEN,
    version: FERRY_VERSION,
    store,
    runner,
    plugins,
    contexts: () => Promise.resolve([]),
    ...(hostsRoot ? { hostsRoot } : {}),
  });
  const request = (path: string, auth = true) =>
    app.request(path, auth ? { headers: { authorization: `Bearer ${TOKEN}` } } : {});
  return {
    request,
    async [Symbol.asyncDispose]() {
      await rm(folder, { recursive: true, force: true });
    },
  };
}

Deno.test("GET /v1/hosts/blender/addon.zip needs the token: 401 unauthorized without it", async () => {
  await using bridge = await addonApp();
  const response = await bridge.request("/v1/hosts/blender/addon.zip", false);
  strictEqual(response.status, 401);
  strictEqual((await response.json()).error.code, "unauthorized");
});

Deno.test("GET /v1/hosts/blender/addon.zip answers the add-on zip with bl_info and the vendored ferry_host", async () => {
  await using bridge = await addonApp();
  const response = await bridge.request("/v1/hosts/blender/addon.zip");
  strictEqual(response.status, 200);
  strictEqual(response.headers.get("content-type"), "application/zip");
  strictEqual(
    response.headers.get("content-disposition"),
    `attachment; filename="ferry_blender-${FERRY_VERSION}.zip"`,
  );
  const files = unzipSync(new Uint8Array(await response.arrayBuffer()));
  const init = new TextDecoder().decode(files["ferry_blender/__init__.py"]);
  ok(/^bl_info\s*=/m.test(init), "ferry_blender/__init__.py has bl_info");
  for (const name of ["__init__.py", "client.py", "bridge.py"]) {
    const vendored = files[`ferry_blender/ferry_host/${name}`];
    ok(vendored, `ferry_blender/ferry_host/${name} is vendored`);
    ok(
      Buffer.from(vendored).equals(await readFile(join(ROOT, "hosts/python/ferry_host", name))),
      `${name} is byte for byte`,
    );
  }
  ok(!Object.keys(files).some((name) => name.includes("__pycache__") || name.includes("/tests/")));
  // Built once per process: a second request answers the same bytes.
  const again = new Uint8Array(await (await bridge.request("/v1/hosts/blender/addon.zip")).arrayBuffer());
  strictEqual(Object.keys(unzipSync(again)).length, Object.keys(files).length);
});

Deno.test("GET /v1/hosts/blender/addon.zip answers 404 naming the folder when the add-on sources are missing", async () => {
  const empty = await mkdtemp(join(tmpdir(), "ferry-no-hosts-"));
  try {
    await using bridge = await addonApp(empty);
    const response = await bridge.request("/v1/hosts/blender/addon.zip");
    strictEqual(response.status, 404);
    const body = await response.json();
    strictEqual(body.error.code, "addon_not_found");
    ok(body.error.message.includes(join(empty, "hosts", "blender", "ferry_blender")), body.error.message);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

Deno.test("createBridgeApp() lists GET /v1/hosts/blender/addon.zip in the OpenAPI document as application/zip", async () => {
  await using bridge = await addonApp();
  const doc = await (await bridge.request("/openapi.json")).json();
  const operation = doc.paths["/v1/hosts/blender/addon.zip"]?.get;
  ok(operation, Object.keys(doc.paths).join(", "));
  ok(operation.responses["200"].content["application/zip"], JSON.stringify(operation.responses["200"]));
  ok(operation.responses["401"] && operation.responses["404"]);
});
