/**
 * The integrator: asset, version, components and their data in a location, review media, thumbnail,
 * note and task status, then the version is marked published and announced.
 *
 * @module
 */
import { createHash, randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { Event, type Session } from "@ftrack/api";
import { definePlugin } from "../publish/plugin.ts";
import { extensionOf } from "./_extension.ts";
import { IntegratorOrder } from "../publish/orders.ts";
import type { FoundFile, FoundSequence } from "../src/files/scan_files.ts";
import { combineMemberDigests } from "../src/fingerprint/fingerprint_sequence.ts";
import { fingerprintFile } from "../src/fingerprint/fingerprint_file.ts";
import { mapLimit } from "../src/async/map_limit.ts";
import type { Entity } from "../src/tracker/resolve_context.ts";
import { itemsOf, progressOf, requestOf, type ReviewMedia, sessionOf, settingsOf, trackerOf } from "./_contract.ts";
import { structurePath } from "./_structure.ts";
import { fileLocator, placeInDisk, reuseInDisk, transferFile, type TransferTarget } from "./_transfer.ts";
import { uploadFiles } from "../src/tracker/upload_files.ts";
import { sessionTimeout } from "../src/tracker/open_session.ts";
import { cachedQuery, trackerCacheOf } from "../src/tracker/cached_query.ts";
import { trackerNow } from "../src/tracker/tracker_clock.ts";
import { parsePublisher, publishingHere, THIS_PUBLISHER } from "./_publisher.ts";
import type { Resume } from "./validate_tracker.ts";

/** The built-in Location ids every ftrack site has. */
const SERVER_LOCATION = "3a372bde-05bc-11e4-8908-20c9d081909b";
const UNMANAGED_LOCATION = "cb268ecc-8809-11e3-a7e2-20c9d081909b";

type Operation = Record<string, unknown>;
const create = (type: string, data: Record<string, unknown>): Operation => ({
  action: "create",
  entity_type: type,
  entity_data: { __entity_type__: type, ...data },
});
const update = (type: string, key: string[], data: Record<string, unknown>): Operation => ({
  action: "update",
  entity_type: type,
  entity_key: key,
  entity_data: { __entity_type__: type, ...data },
});
const quoted = (value: string) => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

async function call(session: Session, operations: Operation[]): Promise<Array<{ data: Record<string, unknown> }>> {
  const results: Array<{ data: Record<string, unknown> }> = [];
  for (let i = 0; i < operations.length; i += 500) {
    results.push(
      ...(await session.call(operations.slice(i, i + 500) as never[]) as Array<{ data: Record<string, unknown> }>),
    );
  }
  trackerCacheOf(session).written(operations);
  return results;
}

async function rows(session: Session, expression: string): Promise<Entity[]> {
  return (await session.query(expression)).data as Entity[];
}

/** One file to publish: its component, where it comes from, where it goes. */
interface PlannedFile {
  componentId: string;
  name: string;
  path: string;
  fileName: string;
  relativePath: string;
  size: number;
  frame?: number;
  /** The file's size and modification time when planned (`size:mtimeMs`), recorded once transferred. */
  stamp: string;
  /** Already in the target location (a resumed publish): not transferred again. */
  verified: boolean;
  hex?: string;
}

/** Names of the review media components, made by the review step rather than from the files. */
const REVIEW_NAMES = new Set(["ftrackreview-mp4", "ftrackreview-image", "thumbnail"]);

/** The asset, found or created; two publishes creating it at once both end up with the same one. */
async function ensureAsset(session: Session, contextId: string, name: string, typeId: string): Promise<Entity> {
  const find = async () =>
    (await rows(
      session,
      `select id, name from Asset where context_id is "${contextId}" and name is ${
        quoted(name)
      } and type_id is "${typeId}"`,
    ))[0];
  const existing = await find();
  if (existing) return existing;
  try {
    const [created] = await call(session, [create("Asset", { name, context_id: contextId, type_id: typeId })]);
    return created!.data as Entity;
  } catch (error) {
    const found = await find();
    if (found && /DuplicateEntryError|duplicate/i.test((error as Error).message)) return found;
    throw error;
  }
}

async function assetTypeFor(session: Session, family: string, mapping: Record<string, string>): Promise<Entity> {
  for (const short of [mapping[family], family, "upload"]) {
    if (!short) continue;
    const found =
      (await cachedQuery<Entity>(session, `select id, name, short from AssetType where short is ${quoted(short)}`))[0];
    if (found) return found;
  }
  throw new Error(
    `Cannot publish family '${family}': the tracker has no asset type '${mapping[family] ?? family}' nor 'upload'`,
  );
}

async function diskLocation(session: Session, name: string, root: string): Promise<string> {
  const found = (await cachedQuery<Entity>(session, `select id from Location where name is ${quoted(name)}`))[0];
  if (found) return found.id;
  const [created] = await call(session, [
    create("Location", { name, label: name, description: `ferry disk location (published here under ${root})` }),
  ]);
  return String(created!.data.id);
}

/** Representation names as ftrack shows them: the file type (`exr`), made unique within the version. */
function representationName(ext: string, taken: Set<string>, fallback: string): string {
  let name = ext.replace(/^\./, "").toLowerCase() || "main";
  if (taken.has(name)) name = fallback;
  while (taken.has(name)) name = `${name}_`;
  taken.add(name);
  return name;
}

/** Adds the tracker's Metadata entries (key → value) of an entity. */
function metadataOps(parentId: string, parentType: string, values: Record<string, string>): Operation[] {
  return Object.entries(values).map(([key, value]) =>
    create("Metadata", { parent_id: parentId, parent_type: parentType, key, value })
  );
}

const remove = (type: string, key: string[]): Operation => ({ action: "delete", entity_type: type, entity_key: key });

/**
 * Sets a version's Metadata values: updates the keys it has (`known`), creates the others, and
 * records the new values in `known`.
 */
async function setMetadata(
  session: Session,
  versionId: string,
  known: Record<string, string>,
  values: Record<string, string>,
): Promise<void> {
  const operations = Object.entries(values).map(([key, value]) =>
    key in known
      ? update("Metadata", [versionId, key], { value })
      : create("Metadata", { parent_id: versionId, parent_type: "AssetVersion", key, value })
  );
  await call(session, operations);
  Object.assign(known, values);
}

/** A stable event id per version, so that a listener can tell a repeated announcement. */
function eventId(versionId: string): string {
  const hex = createHash("sha1").update(`ferry.publish.finished:${versionId}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A file modified this close (ms) before its size and modification time were read may change again
 * without either changing (file systems keep times in ticks of a few ms, some in seconds, and a
 * file server's clock may differ a little): its stamp is not trusted later.
 */
const RACY_MS = 1000;

/**
 * The stamp a transferred component records of its source (`ferry_source`): `size:mtimeMs`, which
 * a later publish compares to tell an unchanged file without reading it. A "racy" stamp (the file
 * was modified within {@linkcode RACY_MS} before it was read, as git calls it) ends in `:racy` and
 * so never matches: the file is read again next time.
 */
function stampFrom(size: number, mtimeMs: number, statedAt: number): string {
  return `${size}:${mtimeMs}${mtimeMs > statedAt - RACY_MS ? ":racy" : ""}`;
}

/** Whether a stamp is racy (see {@linkcode stampFrom}). */
const isRacy = (stamp: string): boolean => stamp.endsWith(":racy");

/** A stamp without its racy mark. */
const unracy = (stamp: string): string => stamp.replace(/:racy$/, "");

/** {@linkcode stampFrom} of a file, read now. */
async function stampOf(path: string): Promise<string> {
  const statedAt = Date.now();
  const info = await stat(path);
  return stampFrom(info.size, info.mtimeMs, statedAt);
}

/**
 * Publishes one instance to the tracker: its asset (found or created), a new version (or the
 * abandoned one being resumed), one component per file and one SequenceComponent per image
 * sequence, their data transferred to the location with fingerprint, size, frames and origin as
 * component metadata, review media, thumbnail, note and task status. The version is marked
 * published only once every transfer was verified; then `ferry.publish.finished` is announced.
 *
 * Every step happens once across resumes: the version's metadata records its publisher
 * (`ferry_publisher`: host, pid), heartbeat, publish keys, the note (`ferry_note`) and task status
 * (`ferry_task_status`) made and its state (`ferry_state`: `publishing` → `published` when the
 * version, note and status are written in one batch → `done` once the event is sent). A resumed
 * publish keeps the components whose data is verified in the location and whose source file is
 * unchanged (`ferry_source` = size and modification time), replaces the others with new
 * components, and removes those that are no longer part of it, so no orphan is left.
 */
export const IntegrateVersion = definePlugin({
  kind: "instance",
  name: "IntegrateVersion",
  label: "Publish to the tracker",
  order: IntegratorOrder,
  async process(instance, tools) {
    const { log } = tools;
    const context = instance.context;
    const session = sessionOf(context);
    const settings = settingsOf(context);
    const request = requestOf(context);
    const tracker = trackerOf(context);
    const progress = progressOf(context);
    const family = String(instance.data.family);
    const assetName = String(instance.data.asset ?? instance.name);
    const assetType = await assetTypeFor(session, family, settings.assetTypes);
    const asset = await ensureAsset(session, tracker.entity.id, assetName, assetType.id);
    const userId = (await rows(
      session,
      `select id from User where username is ${quoted(String(context.data.user ?? session.apiUser))}`,
    ))[0]?.id;
    const key = String(instance.data.publishKey ?? randomUUID());
    const target = String(instance.data.publishTarget ?? key);

    // The version: new and unpublished, or the abandoned one being resumed (claimed by this process).
    let version: Entity & { version?: number };
    const resume = instance.data.resume as Resume | undefined;
    const meta: Record<string, string> = { ...resume?.metadata };
    const previousKey = resume?.metadata.ferry_publish_key;
    const claim = {
      ferry_publish_key: key,
      ferry_publish_target: target,
      // On the tracker's clock, so that a reader on another machine judges its age right.
      ferry_heartbeat: new Date(await trackerNow(session, { debug: log.debug })).toISOString(),
      ferry_publisher: JSON.stringify(THIS_PUBLISHER),
    };
    if (resume) {
      version = (await rows(session, `select id, version from AssetVersion where id is "${resume.versionId}"`))[0]!;
      if (!version) throw new Error(`Cannot resume version ${resume.version} of '${assetName}': it was deleted`);
      await setMetadata(session, version.id, meta, {
        ...claim,
        ...(meta.ferry_state ? {} : { ferry_state: resume.published ? "published" : "publishing" }),
      });
    } else {
      const versionId = randomUUID();
      const statusId = settings.versionStatus
        ? (await cachedQuery<Entity>(session, `select id from Status where name is ${quoted(settings.versionStatus)}`))[
          0
        ]?.id
        : undefined;
      const values = { ...claim, ferry_host: request.host, ferry_state: "publishing" };
      const [created] = await call(session, [
        create("AssetVersion", {
          id: versionId,
          asset_id: asset.id,
          task_id: tracker.task?.id ?? null,
          comment: request.comment,
          is_published: false,
          ...(userId ? { user_id: userId } : {}),
          ...(statusId ? { status_id: statusId } : {}),
        }),
        ...metadataOps(versionId, "AssetVersion", values),
      ]);
      version = created!.data as Entity & { version?: number };
      Object.assign(meta, values);
    }
    const versionNumber = Number(version.version);
    // Another publisher may take the version over (it found this one silent for too long): this one
    // then stops, at the claim or at the next heartbeat, rather than both writing the same version.
    const takenOver = new AbortController();
    const signal = AbortSignal.any([tools.signal, takenOver.signal]);
    const checkOwner = async () => {
      const [record] = await rows(
        session,
        `select value from Metadata where parent_id is "${version.id}" and key is "ferry_publisher"`,
      );
      const owner = parsePublisher(record?.value as string | undefined);
      if (owner?.token === THIS_PUBLISHER.token) return;
      const who = owner ? `process ${owner.pid} on '${owner.host}'` : "another publisher";
      takenOver.abort(
        new Error(`Cannot publish '${assetName}': version ${versionNumber} was taken over by ${who}, which resumes it`),
      );
    };
    if (resume) await checkOwner();
    signal.throwIfAborted();
    log.info(`${assetName} v${String(versionNumber).padStart(3, "0")} (${version.id})${resume ? ", resumed" : ""}`);
    publishingHere.add(version.id);
    const beat = Math.min(5_000, Math.max(250, settings.inFlightSeconds * 250));
    let beating = false;
    const heartbeat = setInterval(() => {
      if (beating) return; // the last beat is still on its way (a slow tracker): no pile-up
      beating = true;
      trackerNow(session, { debug: log.debug })
        .then((at) =>
          session.call([
            update("Metadata", [version.id, "ferry_heartbeat"], { value: new Date(at).toISOString() }) as never,
          ])
        )
        .then(checkOwner).catch(() => {}).finally(() => beating = false);
    }, beat);
    try {
      // Where the data goes.
      const location = request.location;
      const transferTarget: TransferTarget = location === "server"
        ? { kind: "server" }
        : location === "unmanaged"
        ? { kind: "unmanaged", fingerprints: (instance.data.fingerprints as Record<string, string>) ?? {} }
        : { kind: "disk", root: location.disk };
      const locationId = location === "server"
        ? SERVER_LOCATION
        : location === "unmanaged"
        ? UNMANAGED_LOCATION
        : await diskLocation(session, settings.diskLocationName, location.disk);

      // What is already there (a resumed publish): components by name, members by frame, and
      // which of them are verified in the location from the same, unchanged source file.
      const existing = await rows(
        session,
        `select id, name, container_id, size, component_locations.id, component_locations.location_id, metadata from Component where version_id is "${version.id}" or container.version_id is "${version.id}"`,
      );
      const locationsHere = (component: Entity) =>
        (component.component_locations as Array<{ id: string; location_id: string }>).filter((item) =>
          item.location_id === locationId
        );
      const metaOf = (component: Entity) =>
        Object.fromEntries(
          (component.metadata as Array<{ key: string; value: string }>).map((item) => [item.key, item.value]),
        ) as Record<string, string>;
      const fingerprintOf = (component: Entity) => metaOf(component).ferry_fingerprint?.replace(/^sha1:/, "");
      /** Components of an earlier attempt whose racy stamp matched and whose file hashed the same now. */
      const confirmed = new Set<string>();
      const stillValid = (component: Entity, stamp: string) => {
        if (locationsHere(component).length === 0) return false;
        const recorded = metaOf(component).ferry_source;
        if (recorded === undefined) return previousKey === key;
        return (recorded === stamp && !isRacy(recorded)) || confirmed.has(component.id);
      };

      const structure = (component: string, frame: string, ext: string) =>
        structurePath(settings.structure, {
          project: tracker.project.name,
          context: tracker.chain.map((entity) => entity.name),
          asset: assetName,
          version: versionNumber,
          component,
          frame,
          ext,
        });
      const items = itemsOf(instance) as Array<FoundSequence | FoundFile>;
      // Stamps as the scan read them with the sizes (stat again only what it did not give).
      const stamps = new Map<string, string>();
      const unstamped: string[] = [];
      for (const item of items) {
        if (item.kind === "file") {
          if (item.mtimeMs === undefined || item.statedAt === undefined) unstamped.push(item.path);
          else stamps.set(item.path, stampFrom(item.bytes, item.mtimeMs, item.statedAt));
          continue;
        }
        const { mtimes, statedAt } = item;
        const complete = mtimes !== undefined && statedAt !== undefined && mtimes.length === item.sizes.length;
        [...item.collection].forEach((name, index) => {
          const path = join(item.directory, name);
          if (!complete) unstamped.push(path);
          else stamps.set(path, stampFrom(item.sizes[index]!, mtimes[index]!, statedAt));
        });
      }
      await mapLimit(unstamped, 32, async (path) => void stamps.set(path, await stampOf(path)));
      // A racy stamp (see stampFrom) proves nothing: files an earlier attempt recorded with one, of
      // the same size and modification time now, are kept only if they hash the same.
      const racyOrigins = new Map<string, Entity>();
      for (const component of existing) {
        const recorded = metaOf(component);
        if (recorded.ferry_origin && recorded.ferry_source && isRacy(recorded.ferry_source)) {
          racyOrigins.set(recorded.ferry_origin, component);
        }
      }
      if (racyOrigins.size > 0) {
        await mapLimit([...stamps], 4, async ([path, stamp]) => {
          const component = racyOrigins.get(fileLocator(path));
          if (!component || unracy(metaOf(component).ferry_source!) !== unracy(stamp)) return;
          const now = await fingerprintFile(path, { signal: tools.signal }).catch(() => undefined);
          if (now !== undefined && now.hex === fingerprintOf(component)) confirmed.add(component.id);
        });
      }

      const byContainer = new Map<string, Entity>();
      for (const component of existing) {
        if (component.container_id) byContainer.set(`${component.container_id}/${component.name}`, component);
      }
      const taken = new Set<string>();
      const removals: Operation[] = [];
      const operations: Operation[] = [];
      const files: PlannedFile[] = [];
      const sequences: Array<
        { id: string; name: string; item: FoundSequence; members: PlannedFile[]; verified: boolean }
      > = [];
      const singles: PlannedFile[] = [];
      const kept = new Set<string>();
      const dropComponent = (component: Entity) => {
        for (const member of existing.filter((other) => other.container_id === component.id)) {
          removals.push(remove("Component", [member.id]));
        }
        removals.push(remove("Component", [component.id]));
      };
      for (const item of items) {
        if (item.kind === "sequence") {
          const { collection } = item;
          const ext = extensionOf(collection.tail);
          const name = representationName(ext, taken, collection.head.replace(/[._-]+$/, "") || "sequence");
          const found = existing.find((component) => component.name === name && !component.container_id);
          const id = found?.id ?? randomUUID();
          if (found) {
            kept.add(found.id);
            // The frames may differ from an earlier attempt's: its size and padding follow them.
            operations.push(update("SequenceComponent", [id], { size: item.bytes, padding: collection.padding }));
          } else {
            operations.push(create("SequenceComponent", {
              id,
              name,
              version_id: version.id,
              file_type: ext,
              padding: collection.padding,
              size: item.bytes,
            }));
          }
          const members: PlannedFile[] = [...collection].map((memberName, index) => {
            const frame = collection.indexes[index]!;
            const path = join(item.directory, memberName);
            const stamp = stamps.get(path)!;
            const member = byContainer.get(`${id}/${frame}`);
            const valid = member !== undefined && stillValid(member, stamp);
            if (member) kept.add(member.id);
            if (member && !valid) removals.push(remove("Component", [member.id]));
            const memberId = valid ? member.id : randomUUID();
            if (!valid) {
              operations.push(
                create("FileComponent", {
                  id: memberId,
                  name: String(frame),
                  file_type: ext,
                  size: item.sizes[index],
                  container_id: id,
                }),
              );
            }
            const framePart = `.${
              collection.padding > 0 ? String(frame).padStart(collection.padding, "0") : String(frame)
            }`;
            return {
              componentId: memberId,
              name: String(frame),
              path,
              fileName: memberName,
              relativePath: structure(name, framePart, ext),
              size: item.sizes[index]!,
              frame,
              stamp,
              verified: valid,
              hex: valid ? fingerprintOf(member) : undefined,
            };
          });
          // Members of the kept sequence that are no longer part of it go.
          for (const member of existing.filter((component) => component.container_id === id)) {
            if (!kept.has(member.id)) removals.push(remove("Component", [member.id]));
          }
          let verified = found !== undefined && locationsHere(found).length > 0;
          if (verified && members.some((member) => !member.verified)) {
            // Recorded for members that changed: recorded again once they are transferred.
            for (const record of locationsHere(found!)) removals.push(remove("ComponentLocation", [record.id]));
            for (const metaKey of ["ferry_fingerprint", "ferry_size", "ferry_frames", "ferry_origin"]) {
              if (metaKey in metaOf(found!)) removals.push(remove("Metadata", [id, metaKey]));
            }
            verified = false;
          }
          sequences.push({ id, name, item, members, verified });
          files.push(...members);
        } else {
          const ext = extensionOf(item.path);
          const name = representationName(ext, taken, basename(item.path, ext));
          const stamp = stamps.get(item.path)!;
          const found = existing.find((component) => component.name === name && !component.container_id);
          const valid = found !== undefined && stillValid(found, stamp);
          if (found) kept.add(found.id);
          if (found && !valid) dropComponent(found);
          const id = valid ? found.id : randomUUID();
          if (!valid) {
            operations.push(
              create("FileComponent", { id, name, file_type: ext, size: item.bytes, version_id: version.id }),
            );
          }
          const planned: PlannedFile = {
            componentId: id,
            name,
            path: item.path,
            fileName: basename(item.path),
            relativePath: structure(name, "", ext),
            size: item.bytes,
            stamp,
            verified: valid,
            hex: valid ? fingerprintOf(found) : undefined,
          };
          singles.push(planned);
          files.push(planned);
        }
      }
      // Components of an earlier attempt that are no longer part of the publish go.
      for (const component of existing) {
        if (!component.container_id && !kept.has(component.id) && !REVIEW_NAMES.has(component.name)) {
          dropComponent(component);
        }
      }

      const review = instance.data.review as ReviewMedia | undefined;
      const reviewComponents: string[] = [];
      let thumbnailId: string | undefined;
      let noteId: string | undefined = meta.ferry_note;
      if (resume?.published) {
        // Published already (the event was not sent): nothing else to write.
        if (files.some((file) => !file.verified) || removals.length > 0) {
          throw new Error(
            `Cannot finish version ${versionNumber} of '${assetName}': it is published, but its files differ from these`,
          );
        }
      } else {
        if (removals.length > 0) {
          log.info(`${removals.length} component record(s) of the earlier attempt replaced or removed`);
        }
        await call(session, [...removals, ...operations]);

        // Transfer what is not there yet, a bounded number at once; each file is read once.
        let pending = files.filter((file) => !file.verified);
        if (files.length > pending.length) {
          log.info(`${files.length - pending.length} file(s) already uploaded and verified`);
        }
        let verifiedOps: Operation[] = [];
        let verifiedFiles: PlannedFile[] = [];
        // The component's `size` and `name` (a member's frame) say the rest: no metadata repeats them.
        const record = (
          file: PlannedFile,
          hex: string,
          size: number,
          resourceIdentifier: string,
          probe?: string,
        ) => {
          file.hex = hex;
          if (size !== file.size) {
            // The file changed since it was planned (and was sent whole as it is now).
            verifiedOps.push(update("FileComponent", [file.componentId], { size }));
            file.size = size;
          }
          verifiedOps.push(
            ...metadataOps(file.componentId, "FileComponent", {
              ferry_fingerprint: `sha1:${hex}`,
              ferry_origin: fileLocator(file.path),
              ferry_source: file.stamp,
              // A large file's probe in a disk location: how a later publish finds this content (see placeInDisk).
              ...(probe !== undefined ? { ferry_probe: probe } : {}),
            }),
            create("ComponentLocation", {
              component_id: file.componentId,
              location_id: locationId,
              resource_identifier: resourceIdentifier,
            }),
          );
          verifiedFiles.push(file);
        };
        const reused = { files: 0, bytes: 0 };
        const flush = async () => {
          const [ops, done] = [verifiedOps, verifiedFiles];
          verifiedOps = [];
          verifiedFiles = [];
          await call(session, ops);
          for (const file of done) file.verified = true;
        };
        try {
          // In a disk location, files unchanged since the asset's last published version (same origin,
          // size and modification time): hard links of that version's files (copies where the file
          // system has none), nothing read.
          if (transferTarget.kind === "disk" && pending.length > 0) {
            const known = await previousFingerprints(session, asset.id, version.id, locationId);
            const linked = new Set<string>();
            for (const file of pending) {
              const before = known.get(fileLocator(file.path));
              if (!before?.resource || before.stamp !== file.stamp || isRacy(file.stamp)) continue;
              signal.throwIfAborted();
              const placed = await reuseInDisk(transferTarget.root, before.resource, file.relativePath).catch(() =>
                undefined
              );
              if (placed === undefined) continue; // the earlier file is gone: copied as usual
              record(file, before.hex, file.size, file.relativePath);
              linked.add(file.componentId);
              reused.files++;
              reused.bytes += file.size;
            }
            if (linked.size > 0) {
              pending = pending.filter((file) => !linked.has(file.componentId));
              log.info(
                `${reused.files} file(s), ${
                  reused.bytes.toLocaleString("en")
                } bytes reused from the last version in the disk location (hard links): not copied`,
              );
            }
          }
          if (transferTarget.kind === "server") {
            // The tracker is asked for the content it holds before anything is sent (ferry's
            // embedded tracker; an ftrack site is sent everything): files unchanged since the last
            // version (same origin, size and modification time) by the SHA-1 recorded then, without
            // reading them; other files small enough to hold in memory by the SHA-1 of their bytes,
            // read once and sent from the same buffer when the tracker does not hold them; larger
            // files by their probe (size and sampled blocks), hashed whole only when it matches.
            const known = pending.length > 0
              ? await previousFingerprints(session, asset.id, version.id, locationId)
              : new Map();
            // SHA-1s taken earlier in this publish (ExtractFingerprints, a scan that fingerprinted).
            const fingerprints = new Map(
              Object.entries((instance.data.fingerprints as Record<string, string> | undefined) ?? {}),
            );
            for (const item of items) {
              if (item.kind === "file") {
                if (item.fingerprint?.algorithm === "sha1") fingerprints.set(item.path, item.fingerprint.hex);
                continue;
              }
              if (item.fingerprint?.algorithm !== "sha1") continue;
              const members = item.fingerprint.members;
              [...item.collection].forEach((name, index) => {
                const hex = members[index]?.hex;
                if (hex) fingerprints.set(join(item.directory, name), hex);
              });
            }
            const byId = new Map(pending.map((file) => [file.componentId, file]));
            const byContent = { files: 0, bytes: 0 };
            const probed = { reused: 0, falseCandidates: 0 };
            await uploadFiles(
              session,
              pending.map((file) => {
                const before = known.get(fileLocator(file.path));
                const unchanged = before !== undefined && before.stamp === file.stamp && !isRacy(file.stamp);
                const sha1 = unchanged ? before.hex : fingerprints.get(file.path);
                return {
                  componentId: file.componentId,
                  path: file.path,
                  fileName: file.fileName,
                  size: file.size,
                  sha1,
                };
              }),
              {
                concurrency: settings.uploadConcurrency,
                signal,
                idleTimeout: sessionTimeout(session),
                onExpect: (bytes) => progress.expect(bytes),
                onProgress: (bytes) => progress.done(bytes),
                onFile: async (item, outcome) => {
                  const file = byId.get(item.componentId)!;
                  record(file, outcome.hex, outcome.size, file.componentId);
                  if (outcome.kind === "reused") {
                    reused.files++;
                    reused.bytes += outcome.size;
                    if (outcome.hashed) {
                      byContent.files++;
                      byContent.bytes += outcome.size;
                    }
                    if (outcome.probed) probed.reused++;
                  } else if (outcome.probed) {
                    probed.falseCandidates++;
                  }
                  if (verifiedFiles.length >= 100) await flush();
                },
              },
            );
            if (reused.files > 0) {
              const unchanged = reused.files - byContent.files;
              log.info(
                `${reused.files} file(s), ${reused.bytes.toLocaleString("en")} bytes the tracker holds already: ` +
                  `linked, not sent (${unchanged} unchanged since the last version, ${byContent.files} found by content` +
                  `${probed.reused > 0 ? `, ${probed.reused} of them large files found by their probe` : ""})`,
              );
            }
            if (probed.falseCandidates > 0) {
              log.info(
                `${probed.falseCandidates} large file(s) matched stored content by size and sampled blocks but not ` +
                  "by SHA-1: hashed, then sent (read twice)",
              );
            }
          } else if (transferTarget.kind === "disk") {
            // Files whose content the location holds already (any version, or another file of
            // this publish) become hard links of it; the others are written (each file read once).
            progress.expect(pending.reduce((sum, file) => sum + file.size, 0));
            const byContent = { files: 0, bytes: 0 };
            let falseCandidates = 0;
            await placeInDisk(session, { root: transferTarget.root, locationId }, pending, {
              concurrency: settings.uploadConcurrency,
              progress,
              signal,
              onFile: async (file, placed) => {
                record(file, placed.hex, placed.size, placed.resourceIdentifier, placed.probe);
                if (placed.reused) {
                  reused.files++;
                  reused.bytes += placed.size;
                  byContent.files++;
                  byContent.bytes += placed.size;
                }
                if (placed.falseCandidate) falseCandidates++;
                if (verifiedFiles.length >= 100) await flush();
              },
            });
            if (byContent.files > 0) {
              log.info(
                `${byContent.files} file(s), ${
                  byContent.bytes.toLocaleString("en")
                } bytes the disk location holds already (found by content): hard links, not copied`,
              );
            }
            if (falseCandidates > 0) {
              log.info(
                `${falseCandidates} large file(s) matched a file of the disk location by size and sampled blocks but ` +
                  "not by SHA-1: hashed, then copied (read twice)",
              );
            }
          } else {
            progress.expect(pending.reduce((sum, file) => sum + file.size, 0));
            await mapLimit(pending, settings.uploadConcurrency, async (file) => {
              signal.throwIfAborted();
              const done = await transferFile(session, transferTarget, file, progress, signal);
              record(file, done.hex, done.size, done.resourceIdentifier);
              if (verifiedFiles.length >= 100) await flush();
            });
          }
        } finally {
          // What was verified before a failure is recorded, so that a resumed publish does not send it again.
          await flush();
          instance.data.reused = reused;
        }
        const sequenceOps: Operation[] = [];
        for (const sequence of sequences) {
          if (sequence.verified) continue;
          const { collection } = sequence.item;
          sequenceOps.push(
            ...metadataOps(sequence.id, "SequenceComponent", {
              ferry_fingerprint: `sha1:${
                combineMemberDigests(
                  "sha1",
                  sequence.members.map((member) => member.fileName),
                  sequence.members.map((member) => member.hex!),
                )
              }`,
              ferry_size: String(sequence.item.bytes),
              ferry_frames: collection.format("{ranges}"),
              ferry_origin: fileLocator(join(sequence.item.directory, collection.format("{head}{padding}{tail}"))),
            }),
            create("ComponentLocation", {
              component_id: sequence.id,
              location_id: locationId,
              resource_identifier: transferTarget.kind === "server"
                ? sequence.id
                : transferTarget.kind === "disk"
                ? structure(sequence.name, `.%0${Math.max(collection.padding, 1)}d`, extensionOf(collection.tail))
                : fileLocator(join(sequence.item.directory, collection.format("{head}{padding}{tail}"))),
            }),
          );
        }
        await call(session, sequenceOps);

        // Review media and the thumbnail, always on the server where ftrack's player reads them; those
        // an earlier attempt verified are kept, unfinished ones replaced.
        if (review) {
          const media: Array<{ name: string; path: string; meta: Record<string, unknown>; thumbnail?: boolean }> = [];
          if (review.movie) media.push({ name: "ftrackreview-mp4", path: review.movie.path, meta: review.movie.meta });
          if (review.image) {
            media.push({ name: "ftrackreview-image", path: review.image.path, meta: { format: "image" } });
            media.push({ name: "thumbnail", path: review.image.path, meta: { format: "image" }, thumbnail: true });
          }
          for (const item of media) {
            const found = existing.find((component) => component.name === item.name && !component.container_id);
            const onServer = found !== undefined &&
              (found.component_locations as Array<{ location_id: string }>).some((record) =>
                record.location_id === SERVER_LOCATION
              );
            let id: string;
            if (onServer) {
              id = found.id;
            } else {
              id = randomUUID();
              const ext = extensionOf(item.path);
              const stats = await Deno.stat(item.path);
              progress.expect(stats.size);
              await call(session, [
                ...(found ? [remove("Component", [found.id])] : []),
                create("FileComponent", {
                  id,
                  name: item.name,
                  file_type: ext,
                  size: stats.size,
                  version_id: version.id,
                }),
              ]);
              const done = await transferFile(
                session,
                { kind: "server" },
                { componentId: id, path: item.path, fileName: `${item.name}${ext}`, relativePath: "" },
                progress,
                signal,
              );
              await call(session, [
                ...metadataOps(id, "FileComponent", {
                  ftr_meta: JSON.stringify(item.meta),
                  ferry_fingerprint: `sha1:${done.hex}`,
                }),
                create("ComponentLocation", {
                  component_id: id,
                  location_id: SERVER_LOCATION,
                  resource_identifier: id,
                }),
              ]);
            }
            reviewComponents.push(id);
            if (item.thumbnail) thumbnailId = id;
          }
        }

        // Note, thumbnail, task status and publication in one batch, each recorded in the version's
        // metadata so that a resumed publish never makes them twice.
        const finishing: Operation[] = [];
        const markers: Record<string, string> = {};
        if (request.comment && !meta.ferry_note) {
          noteId = randomUUID();
          finishing.push(
            create("Note", { id: noteId, content: request.comment, ...(userId ? { user_id: userId } : {}) }),
          );
          finishing.push(update("AssetVersion", [version.id], { notes: [{ __entity_type__: "Note", id: noteId }] }));
          markers.ferry_note = noteId;
        }
        if (thumbnailId) finishing.push(update("AssetVersion", [version.id], { thumbnail_id: thumbnailId }));
        if (settings.taskStatusAfterPublish && tracker.task && !meta.ferry_task_status) {
          const status = (await cachedQuery<Entity>(
            session,
            `select id from Status where name is ${quoted(settings.taskStatusAfterPublish)}`,
          ))[0];
          if (status) {
            finishing.push(update("Task", [tracker.task.id], { status_id: status.id }));
            markers.ferry_task_status = settings.taskStatusAfterPublish;
          } else {
            log.warning(`no status '${settings.taskStatusAfterPublish}' on the tracker: the task status is unchanged`);
          }
        }
        if (files.some((file) => !file.verified)) {
          throw new Error(`Cannot publish '${assetName}': some files were not transferred`);
        }
        signal.throwIfAborted();
        finishing.push(
          ...metadataOps(version.id, "AssetVersion", markers),
          update("AssetVersion", [version.id], { is_published: true }),
          update("Metadata", [version.id, "ferry_state"], { value: "published" }),
        );
        await call(session, finishing);
        Object.assign(meta, markers, { ferry_state: "published" });
      }

      const created = {
        assetId: asset.id,
        versionId: version.id,
        version: versionNumber,
        components: [
          ...singles.map((file) => ({ id: file.componentId, name: file.name })),
          ...sequences.map((sequence) => ({ id: sequence.id, name: sequence.name, members: sequence.members.length })),
        ],
        reviewComponents,
        thumbnailId,
        noteId,
        locationId,
        resumed: resume !== undefined,
        /** Files (and their bytes) the tracker held already: linked, not sent. */
        reused: (instance.data.reused as { files: number; bytes: number } | undefined) ?? { files: 0, bytes: 0 },
      };
      instance.data.created = created;
      instance.data.fileReport = files.map((file) => ({
        path: file.path,
        size: file.size,
        sha1: file.hex,
        componentId: file.componentId,
      }));

      // The announcement, once: a publish stopped before its state is `done` sends it when resumed.
      signal.throwIfAborted();
      await announce(session, version.id, {
        versionId: version.id,
        version: versionNumber,
        assetId: asset.id,
        asset: assetName,
        family,
        context: request.context.path,
        task: request.context.task,
        components: created.components,
        user: context.data.user,
      }, context.data.eventHub).catch((error) =>
        log.warning(`the version is published, but the event could not be sent: ${(error as Error).message}`)
      );
      await call(session, [update("Metadata", [version.id, "ferry_state"], { value: "done" })]);
      log.info(`published ${assetName} v${String(versionNumber).padStart(3, "0")}: ${files.length} file(s)`);
    } finally {
      clearInterval(heartbeat);
      publishingHere.delete(version.id);
    }
  },
});

/**
 * origin (`ferry_origin`) → source stamp, SHA-1 and resource identifier in `locationId` of the
 * files of the asset's latest published version other than `versionId`: what a republish may
 * reuse without reading the files again.
 */
async function previousFingerprints(
  session: Session,
  assetId: string,
  versionId: string,
  locationId: string,
): Promise<Map<string, { stamp: string; hex: string; resource?: string }>> {
  const known = new Map<string, { stamp: string; hex: string; resource?: string }>();
  const [previous] = await rows(
    session,
    `select id from AssetVersion where asset_id is "${assetId}" and is_published is true and id is_not "${versionId}" order by version desc limit 1`,
  );
  if (!previous) return known;
  const components = await rows(
    session,
    `select id, metadata, component_locations.location_id, component_locations.resource_identifier from Component where version_id is "${previous.id}" or container.version_id is "${previous.id}"`,
  );
  for (const component of components) {
    const meta = Object.fromEntries(
      ((component.metadata ?? []) as Array<{ key: string; value: string }>).map((item) => [item.key, item.value]),
    );
    const hex = meta.ferry_fingerprint?.replace(/^sha1:/, "");
    const here = ((component.component_locations ?? []) as Array<{ location_id: string; resource_identifier: string }>)
      .find((record) => record.location_id === locationId);
    if (meta.ferry_origin && meta.ferry_source && hex && /^[0-9a-f]{40}$/.test(hex)) {
      known.set(meta.ferry_origin, {
        stamp: meta.ferry_source,
        hex,
        ...(here?.resource_identifier ? { resource: here.resource_identifier } : {}),
      });
    }
  }
  return known;
}

/**
 * What the announcement does with the session's event hub afterwards (`context.data.eventHub`):
 * `"as-found"` (default) leaves it as it was (connected stays connected; connected only for the
 * announcement is disconnected once no other announcement on that hub is in flight), `"keep"`
 * leaves it connected, `"disconnect"` disconnects it once no announcement on it is in flight.
 */
type EventHubPolicy = "as-found" | "keep" | "disconnect";

function hubPolicyOf(value: unknown): EventHubPolicy {
  if (value === undefined || value === null) return "as-found";
  if (value === "as-found" || value === "keep" || value === "disconnect") return value;
  throw new Error(
    `context.data.eventHub must be "as-found", "keep" or "disconnect", not ${JSON.stringify(value)}`,
  );
}

/**
 * Announcements in flight per event hub, and whether one of them connected it. Publishes that share
 * a session (the bridge runs several at once) share its hub: the hub is disconnected by the last
 * announcement to finish, never under another one still waiting for the server.
 */
const inFlight = new WeakMap<object, { count: number; connectedHere: boolean; socketShared: boolean }>();

/** The hub was asked to connect (it may still be connecting) and was not disconnected since. */
function hubUp(hub: Session["eventHub"]): boolean {
  return hub.isConnected() || Boolean((hub as unknown as { _socketIo?: object | null })._socketIo);
}

/**
 * Sends `ferry.publish.finished` on the tracker's event hub (waits at most 15 s for the hub), with
 * an id derived from the version's, the same if it is ever sent again. Connects the hub if needed;
 * afterwards the hub is as `hubPolicy` (`context.data.eventHub`) says: by default as it was
 * found, so a one-shot command whose hub the announcement connected can exit, and a long-lived
 * process keeps its hub and the `ftrack.update` listeners on it.
 */
async function announce(
  session: Session,
  versionId: string,
  data: Record<string, unknown>,
  hubPolicy: unknown,
): Promise<void> {
  const policy = hubPolicyOf(hubPolicy);
  const hub = session.eventHub;
  let state = inFlight.get(hub);
  if (!state) {
    const wasUp = hubUp(hub);
    if (!wasUp) hub.connect();
    // The client keeps one socket per server and user for the whole process: connected at once,
    // it is another session's, which must keep it; this hub only lets go of it afterwards.
    state = { count: 0, connectedHere: !wasUp, socketShared: !wasUp && hub.isConnected() };
    inFlight.set(hub, state);
  }
  state.count++;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const event = new Event("ferry.publish.finished", data);
  event.getData().id = eventId(versionId);
  try {
    await Promise.race([
      hub.publish(event, { timeout: 0 }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("the event hub did not answer within 15 s")), 15_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    state.count--;
    if (state.count === 0) {
      inFlight.delete(hub);
      const disconnect = policy === "disconnect" || (policy === "as-found" && state.connectedHere);
      if (disconnect && state.socketShared) detachHub(hub);
      else if (disconnect && hubUp(hub)) {
        const socket = (hub as unknown as { _socketIo?: object | null })._socketIo;
        hub.disconnect();
        forgetSocket(socket);
      }
    }
  }
}

/** Lets `hub` go of a socket another session uses, without closing it. */
function detachHub(hub: Session["eventHub"]): void {
  const inner = hub as unknown as {
    _socketIo?: { off?(name: string, callback: unknown): void } | null;
    _onSocketConnected?: unknown;
    _handle?: unknown;
  };
  inner._socketIo?.off?.("connect", inner._onSocketConnected);
  inner._socketIo?.off?.("ftrack.event", inner._handle);
  inner._socketIo = null;
}

/**
 * The official client keeps one socket per server and user for the whole process, and a socket
 * once disconnected only comes back after a reconnection delay (1–1.5 s): a later announcement
 * from the same session would wait for it. Forgetting it makes the next `connect()` open a new
 * one at once. Does nothing if the client's internals differ.
 */
function forgetSocket(socket: object | null | undefined): void {
  const instances = (socket?.constructor as { instances?: unknown } | undefined)?.instances;
  if (!(instances instanceof Map)) return;
  for (const [key, value] of instances) if (value === socket) instances.delete(key);
}
