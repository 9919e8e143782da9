/**
 * `deno task bench tracker`: seeds the embedded tracker with a production-sized project through its
 * HTTP API and prints create throughput, the time of 6,000 creates in 12 calls (what a 1,000-frame
 * publish writes after its uploads; cold, then again), query latencies (p50 / p99) for the queries
 * event handlers run all day, then the publish lookups (context path, asset type, location) through
 * ferry's tracker cache, cold and warm. Targets: p50 ≤ 2 ms for indexed lookups, ≥ 2,000 created
 * entities/s, warm lookups ≤ 1 % of cold.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { operation } from "@ftrack/api";
import { type RunningTracker, startTracker } from "../services/tracker/server.ts";
import { openSession } from "../src/tracker/open_session.ts";
import { resolveContext } from "../src/tracker/resolve_context.ts";
import { cachedQuery, useTrackerCache } from "../src/tracker/cached_query.ts";
import { TrackerCache } from "../src/tracker/tracker_cache.ts";

interface Sizes {
  sequences: number;
  shotsPerSequence: number;
  tasksPerShot: number;
  assetsPerShot: number;
  versionsPerAsset: number;
  componentsPerVersion: number;
}

const FULL: Sizes = {
  sequences: 20,
  shotsPerSequence: 100,
  tasksPerShot: 4,
  assetsPerShot: 3,
  versionsPerAsset: 5,
  componentsPerVersion: 2,
};
const QUICK: Sizes = {
  sequences: 4,
  shotsPerSequence: 25,
  tasksPerShot: 4,
  assetsPerShot: 3,
  versionsPerAsset: 5,
  componentsPerVersion: 2,
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs the tracker benchmark and prints its figures. */
export async function benchTracker(quick: boolean): Promise<void> {
  const sizes = quick ? QUICK : FULL;
  const data = await mkdtemp(join(tmpdir(), "ferry-bench-tracker-"));
  await using running = await startTracker({ port: 0, data });
  const headers = {
    "content-type": "application/json",
    "ftrack-user": running.apiUser,
    "ftrack-api-key": running.apiKey,
  };
  const call = async (operations: unknown[]) => {
    const response = await fetch(`${running.url}/api`, { method: "POST", headers, body: JSON.stringify(operations) });
    const json = await response.json();
    if (!Array.isArray(json)) throw new Error(`bench call failed: ${JSON.stringify(json)}`);
    return json as Array<{ data: Array<Record<string, unknown>> | Record<string, unknown>; metadata?: unknown }>;
  };
  try {
    const [schemas, types] = await call([
      { action: "query", expression: "select id from ProjectSchema" },
      { action: "query", expression: 'select id from AssetType where short is "render"' },
    ]);
    const schemaId = (schemas!.data as Array<{ id: string }>)[0]!.id;
    const assetTypeId = (types!.data as Array<{ id: string }>)[0]!.id;
    const creates: Array<Record<string, unknown>> = [];
    const create = (type: string, data: Record<string, unknown>) => {
      const id = randomUUID();
      creates.push({ action: "create", entity_type: type, entity_data: { __entity_type__: type, id, ...data } });
      return id;
    };
    const projectId = create("Project", { name: "bench", full_name: "Bench", project_schema_id: schemaId });
    const shots: string[] = [];
    const assets: string[] = [];
    const shotNames: string[] = [];
    for (let s = 0; s < sizes.sequences; s++) {
      const sequenceId = create("Sequence", { name: `sq${String(s + 1).padStart(3, "0")}`, parent_id: projectId });
      for (let h = 0; h < sizes.shotsPerSequence; h++) {
        const name = `sq${String(s + 1).padStart(3, "0")}_sh${String(h + 1).padStart(4, "0")}`;
        const shotId = create("Shot", { name, parent_id: sequenceId });
        shots.push(shotId);
        shotNames.push(name);
        const taskIds = Array.from(
          { length: sizes.tasksPerShot },
          (_, t) => create("Task", { name: `task${t}`, parent_id: shotId }),
        );
        for (let a = 0; a < sizes.assetsPerShot; a++) {
          const assetId = create("Asset", { name: `asset${a}`, context_id: shotId, type_id: assetTypeId });
          assets.push(assetId);
          for (let v = 0; v < sizes.versionsPerAsset; v++) {
            const versionId = create("AssetVersion", {
              asset_id: assetId,
              task_id: taskIds[a % taskIds.length],
              comment: `v${v + 1}`,
            });
            for (let c = 0; c < sizes.componentsPerVersion; c++) {
              create("FileComponent", {
                name: c === 0 ? "main" : "ftrackreview-mp4",
                version_id: versionId,
                size: 1024,
                file_type: ".exr",
              });
            }
          }
        }
      }
    }
    const batch = 1000;
    console.log(
      `seeding ${creates.length.toLocaleString("en")} entities in batches of ${batch} over HTTP (data in ${data}) …`,
    );
    const start = performance.now();
    for (let i = 0; i < creates.length; i += batch) {
      await call(creates.slice(i, i + batch));
      if ((i / batch) % 20 === 19) {
        const rate = (i + batch) / ((performance.now() - start) / 1000);
        console.log(`  ${(i + batch).toLocaleString("en")} created, ${Math.round(rate).toLocaleString("en")}/s`);
      }
    }
    const seconds = (performance.now() - start) / 1000;
    console.log(
      `create throughput: ${Math.round(creates.length / seconds).toLocaleString("en")} entities/s (target ≥ 2,000)`,
    );

    await benchBatchedCreates(running, assets[0]!);

    let seed = 7;
    const pick = <T>(values: T[]): T => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return values[seed % values.length]!;
    };
    const queries: Array<[string, boolean, () => string]> = [
      ["by id", true, () => `select name, parent_id from Shot where id is ${pick(shots)}`],
      ["by parent (parent_id)", true, () => `select name from Task where parent_id is ${pick(shots)}`],
      ["by parent (parent.id)", true, () => `select name from Task where parent.id is ${pick(shots)}`],
      ["by name", true, () => `select id from Shot where name is "${pick(shotNames)}"`],
      [
        "latest version of an asset",
        true,
        () => `select version from AssetVersion where asset_id is ${pick(assets)} order by version desc limit 1`,
      ],
      [
        "versions of a shot (asset.parent.id)",
        true,
        () => `select version, asset.name from AssetVersion where asset.parent.id is ${pick(shots)}`,
      ],
      ["components of a version", true, () => `select name from Component where version.asset_id is ${pick(assets)}`],
      [
        "Task where ancestors any (...)",
        false,
        () => `select id from Task where ancestors any (id is ${pick(shots)}) limit 10`,
      ],
      [
        "Shot like, ordered, paged",
        false,
        () => `select name from Shot where name like "sq001%" order by name desc offset 10 limit 25`,
      ],
    ];
    console.log(`query latency over HTTP, ${quick ? 50 : 300} runs each (p50 / p99, ms):`);
    for (const [label, indexed, make] of queries) {
      const times: number[] = [];
      for (let i = 0; i < (quick ? 50 : 300); i++) {
        const expression = make();
        const t = performance.now();
        const [result] = await call([{ action: "query", expression }]);
        times.push(performance.now() - t);
        if (!Array.isArray(result!.data)) throw new Error(`query '${expression}' failed`);
      }
      times.sort((a, b) => a - b);
      const target = indexed ? "  (indexed: target p50 ≤ 2 ms)" : "";
      console.log(
        `  ${label.padEnd(38)} ${percentile(times, 50).toFixed(2).padStart(7)} / ${
          percentile(times, 99).toFixed(2).padStart(7)
        }${target}`,
      );
    }

    await benchCachedLookups(
      { server: running.url, apiUser: running.apiUser, apiKey: running.apiKey },
      shotNames.map((name) => `bench/${name.slice(0, 5)}/${name}`),
      quick ? 50 : 300,
    );
  } finally {
    await running.close();
    await rm(data, { recursive: true, force: true });
  }
}

/**
 * What a (re)publish of 1,000 frames writes once its files are placed: per frame a FileComponent,
 * four Metadata entries and a ComponentLocation, 6,000 creates sent as ferry sends them (12
 * calls of 500 operations through the official client). Timed the first time in the process
 * (cold: nothing compiled for these operations yet) and once more for a second version.
 */
async function benchBatchedCreates(running: RunningTracker, assetId: string): Promise<void> {
  const session = await openSession({ server: running.url, apiUser: running.apiUser, apiKey: running.apiKey });
  // The tracker runs in this process: its share (the batches applied, stored and answered) is
  // timed apart from the client's (HTTP, encoding and decoding in @ftrack/api).
  let trackerMs = 0;
  const call = running.tracker.call.bind(running.tracker);
  running.tracker.call = (body, context) => {
    const start = performance.now();
    try {
      return call(body, context);
    } finally {
      trackerMs += performance.now() - start;
    }
  };
  const locationId = String(
    (await session.query('select id from Location where name is "ftrack.server"')).data[0]!.id,
  );
  console.log("6,000 creates in 12 calls (a 1,000-frame publish's components, metadata and locations):");
  for (const label of ["cold", "again"]) {
    const version = (await session.create("AssetVersion", { asset_id: assetId })).data;
    const operations: Array<ReturnType<typeof operation.create>> = [];
    for (let frame = 1; operations.length < 6000; frame++) {
      const componentId = randomUUID();
      operations.push(
        operation.create("FileComponent", {
          id: componentId,
          name: `beauty.${String(frame).padStart(4, "0")}`,
          version_id: version.id,
          size: 1048576,
          file_type: ".exr",
        }),
      );
      for (const key of ["ferry_fingerprint", "ferry_size", "ferry_origin", "ferry_source"]) {
        operations.push(
          operation.create("Metadata", {
            parent_id: componentId,
            parent_type: "FileComponent",
            key,
            value: `${key}:${componentId}`,
          }),
        );
      }
      operations.push(
        operation.create("ComponentLocation", {
          component_id: componentId,
          location_id: locationId,
          resource_identifier: `beauty.${frame}.exr`,
        }),
      );
    }
    trackerMs = 0;
    const start = performance.now();
    for (let i = 0; i < operations.length; i += 500) await session.call(operations.slice(i, i + 500));
    const ms = performance.now() - start;
    const perCreate = (value: number) => (value * 1000 / operations.length).toFixed(1);
    console.log(
      `  ${label.padEnd(38)} ${ms.toFixed(0).padStart(5)} ms, ${perCreate(ms)} µs per create ` +
        `(the tracker's share: ${trackerMs.toFixed(0)} ms, ${perCreate(trackerMs)} µs)`,
    );
  }
  running.tracker.call = call;
}

/**
 * What a publish asks before it writes (the context path with its task, the asset type, the
 * location), through the official client and ferry's cache: cold (an empty cache, as the first
 * publish of a process) and warm (the same lookups again, as the next publish of a bridge).
 */
async function benchCachedLookups(
  credentials: { server: string; apiUser: string; apiKey: string },
  paths: string[],
  runs: number,
): Promise<void> {
  const session = await openSession(credentials);
  let seed = 11;
  const pick = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return paths[seed % paths.length]!;
  };
  const lookups: Array<[string, (path: string) => Promise<unknown>]> = [
    ["context path + task", (path) => resolveContext(session, path, "task1")],
    ["asset type", () => cachedQuery(session, 'select id, name, short from AssetType where short is "render"')],
    ["location", () => cachedQuery(session, 'select id from Location where name is "ftrack.server"')],
  ];
  // A warm lookup takes about a microsecond: one timed alone mostly measures the timer and the
  // await around it, so each run times REPEAT warm lookups together (the single-call p50 is shown too).
  const REPEAT = 200;
  console.log(
    `publish lookups through the tracker cache, ${runs} runs each (p50 cold / p50 warm per lookup over ${REPEAT} repeats, ms):`,
  );
  const totals = { cold: 0, warm: 0 };
  for (const [label, lookup] of lookups) {
    const cold: number[] = [];
    const warm: number[] = [];
    const single: number[] = [];
    for (let i = 0; i < runs; i++) {
      const path = pick();
      useTrackerCache(session, new TrackerCache());
      let t = performance.now();
      await lookup(path);
      cold.push(performance.now() - t);
      t = performance.now();
      await lookup(path);
      single.push(performance.now() - t);
      t = performance.now();
      for (let r = 0; r < REPEAT; r++) await lookup(path);
      warm.push((performance.now() - t) / REPEAT);
    }
    for (const list of [cold, warm, single]) list.sort((a, b) => a - b);
    const [c, w, one] = [percentile(cold, 50), percentile(warm, 50), percentile(single, 50)];
    totals.cold += c;
    totals.warm += w;
    console.log(
      `  ${label.padEnd(38)} ${c.toFixed(3).padStart(7)} / ${w.toFixed(4).padStart(7)}  (warm ${
        (100 * w / c).toFixed(2)
      } % of cold; one warm call timed alone: ${one.toFixed(4)} ms)`,
    );
  }
  console.log(
    `  ${"all three".padEnd(38)} ${totals.cold.toFixed(3).padStart(7)} / ${totals.warm.toFixed(4).padStart(7)}  (warm ${
      (100 * totals.warm / totals.cold).toFixed(2)
    } % of cold; target ≤ 1 %)`,
  );
}
