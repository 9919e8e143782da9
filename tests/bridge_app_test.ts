/**
 * The bridge's Hono app through `app.request()`: every route, each security rule, the error
 * shape and the OpenAPI document.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BridgePublishRequestSchema, JobSchema } from "../services/bridge/schemas.ts";
import { bridgeFixture } from "./_bridge.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const options = { sanitizeOps: false, sanitizeResources: false };
const valid = {
  host: "blender",
  context: { path: "demo/sq010/sh010", task: "lighting" },
  instances: [{ family: "render", name: "beauty", files: ["renders/beauty.####.exr"] }],
  cwd: "/shots/sh010",
  dryRun: true,
};

Deno.test({
  ...options,
  name: "createBridgeApp() enforces token, Host, Origin and JSON-body rules with one error shape",
  fn: async (t) => {
    await using fixture = await bridgeFixture({ allowedOrigins: ["http://localhost:3000"] });
    const app = fixture.bridge.app;

    await t.step("GET /health needs no token", async () => {
      const response = await app.request("/health");
      strictEqual(response.status, 200);
      const body = await response.json();
      deepStrictEqual(body, { ok: true, service: "bridge", version: body.version, pid: Deno.pid });
    });
    await t.step("no token: 401 unauthorized", async () => {
      const response = await app.request("/v1/jobs");
      strictEqual(response.status, 401);
      const body = await response.json();
      strictEqual(body.error.code, "unauthorized");
      ok(/bridge\.json/.test(body.error.message), body.error.message);
    });
    await t.step("wrong token: 401 unauthorized", async () => {
      for (const header of ["Bearer wrong", `Bearer ${fixture.bridge.token}x`, fixture.bridge.token, "Basic abc"]) {
        const response = await app.request("/v1/jobs", { headers: { authorization: header } });
        strictEqual(response.status, 401, header);
        strictEqual((await response.json()).error.code, "unauthorized");
      }
    });
    await t.step("the token opens the routes; /openapi.json too", async () => {
      strictEqual((await fixture.request("/v1/jobs")).status, 200);
      strictEqual((await app.request("/openapi.json")).status, 401);
      strictEqual((await fixture.request("/openapi.json")).status, 200);
    });
    await t.step("a foreign Host: 403 forbidden_host, even for /health", async () => {
      for (
        const url of [
          "http://evil.example/health",
          "http://evil.example:8071/v1/jobs",
          "http://127.0.0.1.nip.io/health",
        ]
      ) {
        const response = await app.request(url, { headers: { authorization: `Bearer ${fixture.bridge.token}` } });
        strictEqual(response.status, 403, url);
        const body = await response.json();
        strictEqual(body.error.code, "forbidden_host");
        ok(body.error.message.includes(new URL(url).host), body.error.message);
      }
      for (const url of ["http://127.0.0.1:8071/health", "http://[::1]:9/health", "http://localhost/health"]) {
        strictEqual((await app.request(url)).status, 200, url);
      }
    });
    await t.step("a browser Origin: 403 forbidden_origin unless configured", async () => {
      const refused = await fixture.request("/v1/jobs", { headers: { origin: "https://evil.example" } });
      strictEqual(refused.status, 403);
      const body = await refused.json();
      strictEqual(body.error.code, "forbidden_origin");
      ok(body.error.message.includes("https://evil.example"));
      const allowed = await fixture.request("/v1/jobs", { headers: { origin: "http://localhost:3000" } });
      strictEqual(allowed.status, 200);
      strictEqual(allowed.headers.get("access-control-allow-origin"), "http://localhost:3000");
      const preflight = await app.request("/v1/publish", {
        method: "OPTIONS",
        headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" },
      });
      strictEqual(preflight.status, 204);
      ok(preflight.headers.get("access-control-allow-headers")?.includes("Authorization"));
    });
    await t.step("a body over 1 MiB: 413 payload_too_large", async () => {
      const response = await fixture.request("/v1/publish", {
        body: JSON.stringify({ ...valid, comment: "x".repeat(1024 * 1024) }),
      });
      strictEqual(response.status, 413);
      strictEqual((await response.json()).error.code, "payload_too_large");
    });
    await t.step("a body that is not JSON: 415, and malformed JSON: 400", async () => {
      const form = await fixture.request("/v1/publish", { body: "a=1", headers: { "content-type": "text/plain" } });
      strictEqual(form.status, 415);
      const body = await form.json();
      strictEqual(body.error.code, "unsupported_media_type");
      ok(body.error.message.includes("text/plain"));
      const broken = await fixture.request("/v1/publish", { body: "{not json" });
      strictEqual(broken.status, 400);
      strictEqual((await broken.json()).error.code, "invalid_request");
    });
    await t.step("invalid fields: 400 with one issue per field, its path and value", async () => {
      const response = await fixture.request("/v1/publish", {
        body: {
          context: { path: "", task: "lighting" },
          instances: [{ family: "render", name: "beauty", files: [], frameStart: 1010, frameEnd: 1001 }],
          location: "ftp",
          dryRun: "yes",
        },
      });
      strictEqual(response.status, 400);
      const { error } = await response.json();
      strictEqual(error.code, "invalid_request");
      const byPath = Object.fromEntries(error.issues.map((issue: E) => [issue.path, issue]));
      deepStrictEqual(Object.keys(byPath).sort(), [
        "context.path",
        "dryRun",
        "instances.0.files",
        "instances.0.frameEnd",
        "location",
      ]);
      strictEqual(byPath["instances.0.frameEnd"].value, 1001);
      strictEqual(byPath["context.path"].value, "");
      deepStrictEqual(byPath["instances.0.files"].value, []);
      strictEqual(byPath["location"].value, "ftp");
      strictEqual(byPath["dryRun"].value, "yes");
      ok(byPath["instances.0.files"].message.includes("at least one file"));
      ok(error.message.startsWith("Invalid request body: "), error.message);
    });
    await t.step("relative file paths need an absolute 'cwd'", async () => {
      const relative = await fixture.request("/v1/publish", { body: { ...valid, cwd: undefined } });
      strictEqual(relative.status, 400);
      deepStrictEqual((await relative.json()).error.issues.map((issue: E) => [issue.path, issue.value]), [
        ["instances.0.files.0", "renders/beauty.####.exr"],
      ]);
      const withCwd = await fixture.request("/v1/publish", { body: valid });
      strictEqual(withCwd.status, 202);
    });
    await t.step("a missing field's value is null; a bad id is a 400 on 'id'", async () => {
      const response = await fixture.request("/v1/publish", { body: { instances: valid.instances } });
      const { error } = await response.json();
      deepStrictEqual(error.issues.map((issue: E) => [issue.path, issue.value]), [["context", null]]);
      const badId = await fixture.request("/v1/jobs/not-a-uuid");
      strictEqual(badId.status, 400);
      deepStrictEqual((await badId.json()).error.issues.map((issue: E) => [issue.path, issue.value]), [[
        "id",
        "not-a-uuid",
      ]]);
    });
    await t.step("unknown routes and jobs: 404", async () => {
      const route = await fixture.request("/v2/nothing");
      strictEqual(route.status, 404);
      strictEqual((await route.json()).error.code, "not_found");
      const id = crypto.randomUUID();
      for (const path of [`/v1/jobs/${id}`, `/v1/jobs/${id}/events`]) {
        const response = await fixture.request(path);
        strictEqual(response.status, 404, path);
        const body = await response.json();
        strictEqual(body.error.code, "job_not_found");
        ok(body.error.message.includes(id));
      }
      const cancel = await fixture.request(`/v1/jobs/${id}/cancel`, { method: "POST" });
      strictEqual(cancel.status, 404);
    });
  },
});

Deno.test({
  ...options,
  name: "GET /openapi.json is an OpenAPI 3.1 document of every route, generated from the zod schemas",
  fn: async () => {
    await using fixture = await bridgeFixture({ shot: false });
    const doc = await (await fixture.request("/openapi.json")).json();
    strictEqual(doc.openapi, "3.1.0");
    ok(doc.info.title && doc.info.version);
    const routes = Object.entries(doc.paths as Record<string, Record<string, E>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)
    ).sort();
    deepStrictEqual(routes, [
      "GET /health",
      "GET /v1/contexts",
      "GET /v1/hosts/blender/addon.zip",
      "GET /v1/jobs",
      "GET /v1/jobs/{id}",
      "GET /v1/jobs/{id}/events",
      "GET /v1/plugins",
      "POST /v1/jobs/{id}/cancel",
      "POST /v1/publish",
    ]);
    // Every operation answers something, and every reference resolves.
    for (const methods of Object.values(doc.paths as Record<string, Record<string, E>>)) {
      for (const operation of Object.values(methods)) ok(Object.keys(operation.responses).length > 0);
    }
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    ok(refs.length > 0);
    for (const ref of refs) {
      const name = ref.slice('"$ref":"#/components/schemas/'.length, -1);
      ok(doc.components.schemas[name], `${ref} resolves`);
    }
    // The request and job schemas are the zod schemas' fields, not a hand-written copy.
    const publish = doc.components.schemas.PublishRequest;
    deepStrictEqual(Object.keys(publish.properties).sort(), Object.keys(BridgePublishRequestSchema.shape).sort());
    deepStrictEqual(publish.required.sort(), ["context", "instances"]);
    strictEqual(publish.properties.instances.minItems, 1);
    deepStrictEqual(Object.keys(doc.components.schemas.Job.properties).sort(), Object.keys(JobSchema.shape).sort());
    deepStrictEqual(doc.components.schemas.JobState.enum, ["queued", "running", "succeeded", "failed", "cancelled"]);
    ok(doc.paths["/v1/jobs/{id}/events"].get.responses["200"].content["text/event-stream"]);
    ok(doc.paths["/v1/plugins"].get.parameters.some((parameter: E) => parameter.name === "host"));
    // The token rule is in the document: bearer everywhere but /health.
    deepStrictEqual(doc.security, [{ bearer: [] }]);
    deepStrictEqual(doc.components.securitySchemes.bearer, { type: "http", scheme: "bearer" });
    deepStrictEqual(doc.paths["/health"].get.security, []);
  },
});

Deno.test({
  ...options,
  name: "GET /v1/plugins lists the plugins of a host (pyblish hosts matching) with their actions",
  fn: async () => {
    const folder = await mkdtemp(join(tmpdir(), "ferry-bridge-plugins-"));
    try {
      await writeFile(
        join(folder, "maya_checks.ts"),
        `export const ValidateMayaUnits = {
  kind: "instance", name: "ValidateMayaUnits", label: "Scene units are cm", order: 1.1, families: ["model"],
  hosts: ["maya"], optional: true,
  actions: [{ name: "RepairUnits", label: "Set units to cm", on: "failed", process() {} }],
  process() {},
};`,
      );
      await using fixture = await bridgeFixture({ shot: false, pluginPaths: [folder] });
      const blender = (await (await fixture.request("/v1/plugins?host=blender")).json()).plugins as E[];
      const maya = (await (await fixture.request("/v1/plugins?host=maya")).json()).plugins as E[];
      ok(blender.some((plugin) => plugin.name === "IntegrateVersion"), "ferry's own plugins load for every host");
      ok(!blender.some((plugin) => plugin.name === "ValidateMayaUnits"), "a Maya plugin is not offered to Blender");
      const units = maya.find((plugin) => plugin.name === "ValidateMayaUnits");
      deepStrictEqual(units, {
        name: "ValidateMayaUnits",
        label: "Scene units are cm",
        order: 1.1,
        families: ["model"],
        hosts: ["maya"],
        optional: true,
        actions: [{ name: "RepairUnits", label: "Set units to cm" }],
      });
      const orders = maya.map((plugin) => plugin.order);
      deepStrictEqual(orders, [...orders].sort((a, b) => a - b), "in the order they run");
      const empty = await fixture.request("/v1/plugins?host=");
      strictEqual(empty.status, 400);
      deepStrictEqual((await empty.json()).error.issues.map((issue: E) => [issue.path, issue.value]), [["host", ""]]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  },
});

Deno.test({
  ...options,
  name: "GET /v1/contexts lists projects, then children and tasks by path or by id",
  fn: async () => {
    await using fixture = await bridgeFixture();
    const list = async (query: string) => {
      const response = await fixture.request(`/v1/contexts${query}`);
      strictEqual(response.status, 200, query);
      return (await response.json()).contexts as E[];
    };
    const made = fixture.made!;
    deepStrictEqual(await list(""), [{
      id: made.project.id,
      name: "demo",
      type: "Project",
      path: "demo",
      parentId: null,
      hasChildren: true,
    }]);
    deepStrictEqual(await list("?parent=demo"), [{
      id: made.sequence.id,
      name: "sq010",
      type: "Sequence",
      path: "demo/sq010",
      parentId: made.project.id,
      hasChildren: true,
    }]);
    const shotChildren = [{
      id: made.task.id,
      name: "lighting",
      type: "Task",
      path: "demo/sq010/sh010/lighting",
      parentId: made.shot.id,
      hasChildren: false,
    }];
    deepStrictEqual(await list("?parent=demo/sq010/sh010"), shotChildren);
    deepStrictEqual(await list(`?parent=${made.shot.id}`), shotChildren, "by id, with the same paths");
    deepStrictEqual((await list(`?parent=${made.project.id}`)).map((context) => context.path), ["demo/sq010"]);
    const missing = await fixture.request("/v1/contexts?parent=demo/sq01");
    strictEqual(missing.status, 404);
    const body = await missing.json();
    strictEqual(body.error.code, "context_not_found");
    ok(body.error.message.includes("'sq010'"), body.error.message);
    const unknownId = await fixture.request(`/v1/contexts?parent=${crypto.randomUUID()}`);
    strictEqual(unknownId.status, 404);
  },
});
