/**
 * Resumed publishes on the embedded tracker: every step (version, components, transfers, note,
 * task status, publication, event) happens once however often a publish is stopped and run again;
 * a live publisher of the same files is told from a dead one; a publish that failed because a file
 * changed is completed by the next run without orphans.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Session } from "@ftrack/api";
import type { HubEvent } from "../src/events/event.ts";
import type { RunningTracker } from "../services/tracker/server.ts";
import { holdingProxy, NO_REVIEW_TOOLS, publishFixture, publishWith, until, writeFrames } from "./_publish.ts";
import { openSession } from "./_tracker.ts";

// deno-lint-ignore no-explicit-any
type E = any;
const sha1 = (data: Uint8Array) => createHash("sha1").update(data).digest("hex");
const request = (files: string[]) => ({
  context: { path: "demo/sq010/sh010", task: "lighting" },
  instances: [{ family: "render", name: "beauty", files }],
  comment: "resumed comment",
});
const options = { sanitizeOps: false, sanitizeResources: false };
const tools = NO_REVIEW_TOOLS;

/** Counts what the tracker announces: publish events, task status changes, version publications. */
function watch(running: RunningTracker) {
  const seen = { finished: [] as HubEvent[], statusChanges: 0, publications: 0 };
  running.tracker.hub.listeners.add((event) => {
    if (event.topic === "ferry.publish.finished") seen.finished.push(event);
    if (event.topic !== "ftrack.update") return;
    for (const entity of (event.data as E).entities as E[]) {
      if (entity.entityType === "task" && entity.keys.includes("statusid")) seen.statusChanges++;
      if (entity.entityType === "assetversion" && entity.changes.is_published?.new === true) seen.publications++;
    }
  });
  return seen;
}

/** The one version's notes, components and locations, checked complete and downloadable. */
async function checkComplete(running: RunningTracker, session: Session, frames: number, bytes: number) {
  const versions = (await session.query("select id, version, is_published, notes.content from AssetVersion"))
    .data as E[];
  strictEqual(versions.length, 1, "one version, no orphan");
  const [version] = versions;
  strictEqual(version.is_published, true);
  strictEqual(version.version, 1);
  deepStrictEqual(version.notes.map((note: E) => note.content), ["resumed comment"], "exactly one note");
  strictEqual((await session.query("select id from Note")).data.length, 1, "no stray note");
  const components = (await session.query(
    `select id, name, container_id, component_locations.id from Component where version_id is ${version.id} or container.version_id is ${version.id}`,
  )).data as E[];
  strictEqual(components.filter((component) => !component.container_id).length, 1, "one sequence component");
  strictEqual(components.length, frames + 1, "the sequence and its members, none duplicated");
  strictEqual((await session.query("select id from Component")).data.length, frames + 1, "no orphan component");
  ok(components.every((component) => component.component_locations.length === 1), "every component stored once");
  for (const member of components.filter((component) => component.container_id)) {
    const download = await fetch(
      `${running.url}/component/get?id=${member.id}&username=${running.apiUser}&apiKey=${running.apiKey}`,
    );
    strictEqual(download.status, 200);
    strictEqual((await download.arrayBuffer()).byteLength, bytes);
  }
  return version;
}

Deno.test({
  ...options,
  name:
    "IntegrateVersion resumed straight after a publish stopped mid-transfer makes one version, one note, one status change, one event",
  fn: async () => {
    await using fixture = await publishFixture();
    const { running, session, folder } = fixture;
    const seen = watch(running);
    await writeFrames(folder.path, Array.from({ length: 40 }, (_, i) => 1001 + i), { bytes: 64 * 1024 });
    const files = [join(folder.path, "beauty.####.exr")];
    const controller = new AbortController();
    let sent = 0;
    const interrupted = await publishWith(session, request(files), {
      signal: controller.signal,
      settings: { uploadConcurrency: 2, tools },
      progress: {
        expect() {},
        done(bytes) {
          sent += bytes;
          if (sent > 10 * 64 * 1024) controller.abort(new Error("killed"));
        },
      },
    });
    strictEqual(interrupted.report.ok, false, "the interrupted publish must not succeed");
    strictEqual((await session.query("select id from AssetVersion where is_published is true")).data.length, 0);
    const stored = (await session.query("select id from ComponentLocation")).data.length;
    ok(stored > 0 && stored < 40, `some files were stored before the stop (${stored})`);

    // Straight away: this process's stopped publish is known to be gone, so it is resumed.
    const resumed = await publishWith(session, request(files), { settings: { tools } });
    ok(resumed.report.ok, JSON.stringify(resumed.report.results.filter((r) => !r.success)));
    strictEqual((resumed.report.created[0] as E).resumed, true);
    const version = await checkComplete(running, session, 40, 64 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 100));
    strictEqual(seen.statusChanges, 1, "one task status change");
    strictEqual(seen.publications, 1, "published once");
    strictEqual(seen.finished.length, 1, "one ferry.publish.finished");
    strictEqual((seen.finished[0]!.data as E).versionId, version.id);
  },
});

Deno.test({
  ...options,
  name:
    "IntegrateVersion stopped after publication but before its event sends only the event when run again, with the same version",
  fn: async () => {
    await using fixture = await publishFixture();
    const { running, session, folder } = fixture;
    const seen = watch(running);
    await writeFrames(folder.path, [1001, 1002, 1003], { bytes: 4096 });
    const files = [join(folder.path, "beauty.####.exr")];
    const controller = new AbortController();
    // Stopped the moment the tracker publishes the version: as a kill between publication and event.
    running.tracker.hub.listeners.add((event) => {
      if (event.topic !== "ftrack.update") return;
      const published = ((event.data as E).entities as E[]).some((entity) => entity.changes?.is_published?.new);
      if (published) controller.abort(new Error("killed after publication"));
    });
    const first = await publishWith(session, request(files), { signal: controller.signal, settings: { tools } });
    strictEqual(first.report.ok, false);
    strictEqual(seen.publications, 1);
    strictEqual(seen.finished.length, 0, "no event yet");

    const again = await publishWith(session, request(files), { settings: { tools } });
    ok(again.report.ok, JSON.stringify(again.report.results.filter((r) => !r.success)));
    const version = await checkComplete(running, session, 3, 4096);
    strictEqual((again.report.created[0] as E).versionId, version.id);
    await new Promise((resolve) => setTimeout(resolve, 100));
    strictEqual(seen.finished.length, 1, "the event, once");
    strictEqual(seen.statusChanges, 1, "one task status change");
    strictEqual(seen.publications, 1, "published once");

    // Finished now: the same files again are a new version.
    const third = await publishWith(session, request(files), { settings: { tools } });
    ok(third.report.ok);
    strictEqual((third.report.created[0] as E).version, 2);
  },
});

Deno.test({
  ...options,
  name:
    "ValidateNotInFlight refuses the same files while this process still publishes them, naming the version and the publisher",
  fn: async () => {
    await using fixture = await publishFixture();
    const { running, session, folder } = fixture;
    await writeFrames(folder.path, [1001, 1002, 1003], { bytes: 4096 });
    const files = [join(folder.path, "beauty.####.exr")];
    // The first publish goes through a proxy that holds its second upload: it is mid-transfer.
    const proxy = holdingProxy(running, 1);
    const viaProxy = await openSession({ ...running, url: proxy.url });
    const first = publishWith(viaProxy, request(files), { settings: { uploadConcurrency: 1, tools } });
    await until(() => proxy.held() > 0, "an upload to be held");
    const refused = await publishWith(session, request(files), { settings: { tools } });
    strictEqual(refused.report.ok, false);
    const message = refused.report.results.find((result) => !result.success)?.error?.message ?? "";
    ok(/being published as version 1 right now by this process/.test(message), message);
    strictEqual((await session.query("select id from AssetVersion")).data.length, 1);
    // The held upload fails (the storage answers 503): the first publish fails, the next one resumes it.
    await proxy[Symbol.asyncDispose]();
    strictEqual((await first).report.ok, false);
    const resumed = await publishWith(session, request(files), { settings: { tools } });
    ok(resumed.report.ok, JSON.stringify(resumed.report.results.filter((r) => !r.success)));
    await checkComplete(running, session, 3, 4096);
  },
});

Deno.test({
  ...options,
  name:
    "IntegrateVersion run again after a file changed mid-upload completes the same version, with no orphan version or component",
  fn: async () => {
    await using fixture = await publishFixture();
    const { running, session, folder } = fixture;
    const seen = watch(running);
    const paths = await writeFrames(folder.path, [1001, 1002, 1003, 1004], { bytes: 8192 });
    const files = [join(folder.path, "beauty.####.exr")];
    let changed = false;
    const failed = await publishWith(session, request(files), {
      settings: { uploadConcurrency: 1, tools },
      progress: {
        expect() {},
        done() {
          // The first frame changes while it is uploaded (its bytes were read, the answer not yet in).
          if (!changed) {
            Deno.utimeSync(paths[0]!, new Date(), new Date(Date.now() + 5_000));
            changed = true;
          }
        },
      },
    });
    strictEqual(failed.report.ok, false);
    const why = failed.report.results.find((result) => !result.success)?.error?.message ?? "";
    ok(/changed during the upload/.test(why), why);

    const again = await publishWith(session, request(files), { settings: { tools } });
    ok(again.report.ok, JSON.stringify(again.report.results.filter((r) => !r.success)));
    const version = await checkComplete(running, session, 4, 8192);
    strictEqual((again.report.created[0] as E).versionId, version.id);
    const member = (await session.query(
      `select id, metadata from FileComponent where name is "1001" and container.version_id is ${version.id}`,
    )).data[0] as E;
    const recorded = member.metadata.find((item: E) => item.key === "ferry_fingerprint").value;
    strictEqual(recorded, `sha1:${sha1(await readFile(paths[0]!))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    strictEqual(seen.finished.length, 1);
  },
});

Deno.test({
  ...options,
  name:
    "ValidateNotInFlight tells a live publisher from a dead one: by its process on this machine, by its heartbeat elsewhere, saying how long to wait",
  fn: async () => {
    await using fixture = await publishFixture();
    const { session, folder } = fixture;
    await writeFrames(folder.path, [1001, 1002, 1003], { bytes: 4096 });
    const files = [join(folder.path, "beauty.####.exr")];
    const controller = new AbortController();
    const stopped = await publishWith(session, request(files), {
      signal: controller.signal,
      settings: { tools },
      progress: { expect() {}, done: () => controller.abort(new Error("killed")) },
    });
    strictEqual(stopped.report.ok, false);
    const [unfinished] = (await session.query("select id from AssetVersion")).data as E[];
    const setMeta = (key: string, value: string) => session.update("Metadata", [unfinished.id, key], { value });
    const refusal = async () => {
      const { report } = await publishWith(session, request(files), { settings: { tools } });
      strictEqual(report.ok, false);
      return report.results.find((result) => !result.success)?.error?.message ?? "";
    };

    // A publisher on another machine, heard from just now: wait until its heartbeat is 20 s old.
    await setMeta("ferry_publisher", JSON.stringify({ host: "render-07.invalid", pid: 4242, token: "t" }));
    await setMeta("ferry_heartbeat", new Date().toISOString());
    const foreign = await refusal();
    ok(
      /being published as version 1 right now by process 4242 on 'render-07.invalid' \(last heard \d+ s ago\); if that publish was stopped, run this again in (19|20) s and it will be resumed/
        .test(foreign),
      foreign,
    );

    // A live process on this machine: refused whatever its heartbeat says, naming the process.
    const sleeper = new Deno.Command("sleep", { args: ["60"] }).spawn();
    try {
      await setMeta("ferry_publisher", JSON.stringify({ host: hostname(), pid: sleeper.pid, token: "t" }));
      await setMeta("ferry_heartbeat", new Date(Date.now() - 3_600_000).toISOString());
      const local = await refusal();
      ok(new RegExp(`right now by process ${sleeper.pid} on this machine .*kill ${sleeper.pid}`).test(local), local);
    } finally {
      sleeper.kill("SIGKILL");
      await sleeper.status;
    }
    // Once that process is gone, the same publish resumes at once, though its heartbeat is fresh.
    await setMeta("ferry_heartbeat", new Date().toISOString());
    const resumed = await publishWith(session, request(files), { settings: { tools } });
    ok(resumed.report.ok, JSON.stringify(resumed.report.results.filter((r) => !r.success)));
    strictEqual((resumed.report.created[0] as E).versionId, unfinished.id);
  },
});

Deno.test({
  ...options,
  name: "IntegrateVersion stops when another publisher takes its version over, naming that publisher",
  fn: async () => {
    await using fixture = await publishFixture();
    const { running, session, folder } = fixture;
    await writeFrames(folder.path, [1001, 1002, 1003, 1004], { bytes: 4096 });
    const files = [join(folder.path, "beauty.####.exr")];
    // Through a proxy that holds the second upload: the publish is mid-transfer until it stops.
    await using proxy = holdingProxy(running, 1);
    const viaProxy = await openSession({ ...running, url: proxy.url });
    const publishing = publishWith(viaProxy, request(files), {
      settings: { uploadConcurrency: 1, inFlightSeconds: 1, tools },
    });
    await until(() => proxy.held() > 0, "an upload to be held");
    const [version] = (await session.query("select id from AssetVersion")).data as E[];
    await session.update("Metadata", [version.id, "ferry_publisher"], {
      value: JSON.stringify({ host: "render-07.invalid", pid: 4242, token: "other" }),
    });
    const { report } = await publishing;
    strictEqual(report.ok, false);
    const message = report.results.find((result) => !result.success)?.error?.message ?? "";
    ok(/version 1 was taken over by process 4242 on 'render-07.invalid', which resumes it/.test(message), message);
    strictEqual((await session.query("select id from AssetVersion where is_published is true")).data.length, 0);
  },
});

Deno.test({
  ...options,
  name:
    "IntegrateVersion run again after the frames changed takes up the same version and removes the members that went",
  fn: async () => {
    await using fixture = await publishFixture();
    const { running, session, folder } = fixture;
    const paths = await writeFrames(folder.path, [1001, 1002, 1003, 1004, 1005, 1006], { bytes: 4096 });
    const files = [join(folder.path, "beauty.####.exr")];
    const controller = new AbortController();
    let sent = 0;
    const stopped = await publishWith(session, request(files), {
      signal: controller.signal,
      settings: { uploadConcurrency: 1, tools },
      progress: {
        expect() {},
        done(bytes) {
          sent += bytes;
          if (sent >= 3 * 4096) controller.abort(new Error("killed"));
        },
      },
    });
    strictEqual(stopped.report.ok, false);
    // The last frame was a mistake: it is gone when the same command runs again.
    await Deno.remove(paths[5]!);
    const again = await publishWith(session, request(files), { settings: { tools } });
    ok(again.report.ok, JSON.stringify(again.report.results.filter((r) => !r.success)));
    strictEqual((again.report.created[0] as E).resumed, true);
    await checkComplete(running, session, 5, 4096);
    const [sequence] = (await session.query("select size, metadata from SequenceComponent")).data as E[];
    strictEqual(sequence.size, 5 * 4096);
    strictEqual(sequence.metadata.find((item: E) => item.key === "ferry_frames").value, "1001-1005");
  },
});
