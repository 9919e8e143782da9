/**
 * The integrator: asset, version, components and their data in a location, review media, thumbnail,
 * note and task status, then the version is marked published and announced.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { basename, join } from "node:path";
import { Event, type Session } from "@ftrack/api";
import { definePlugin } from "../publish/plugin.ts";
import { extensionOf } from "./_extension.ts";
import { IntegratorOrder } from "../publish/orders.ts";
import type { FoundFile, FoundSequence } from "../src/files/scan_files.ts";
import { combineMemberDigests } from "../src/fingerprint/fingerprint_sequence.ts";
import { mapLimit } from "../src/async/map_limit.ts";
import type { Entity } from "../src/tracker/resolve_context.ts";
import { itemsOf, progressOf, requestOf, type ReviewMedia, sessionOf, settingsOf, trackerOf } from "./_contract.ts";
import { structurePath } from "./_structure.ts";
import { fileLocator, transferFile, type TransferTarget } from "./_transfer.ts";
import { uploadTargets } from "../src/tracker/upload_file.ts";

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
  /** Already in the target location (a resumed publish): not transferred again. */
  verified: boolean;
  hex?: string;
}

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
    const found = (await rows(session, `select id, name, short from AssetType where short is ${quoted(short)}`))[0];
    if (found) return found;
  }
  throw new Error(
    `Cannot publish family '${family}': the tracker has no asset type '${mapping[family] ?? family}' nor 'upload'`,
  );
}

async function diskLocation(session: Session, name: string, root: string): Promise<string> {
  const found = (await rows(session, `select id from Location where name is ${quoted(name)}`))[0];
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

/**
 * Publishes one instance to the tracker: its asset (found or created), a new version (or the
 * abandoned one being resumed), one component per file and one SequenceComponent per image
 * sequence, their data transferred to the location with fingerprint, size, frames and origin as
 * component metadata, review media, thumbnail, note and task status. The version is marked
 * published only once every transfer was verified; then `ferry.publish.finished` is announced.
 */
export const IntegrateVersion = definePlugin({
  kind: "instance",
  name: "IntegrateVersion",
  label: "Publish to the tracker",
  order: IntegratorOrder,
  async process(instance, { log, signal }) {
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

    // The version: new and unpublished, or the abandoned one being resumed.
    let version: Entity & { version?: number };
    const resumeId = instance.data.resumeVersionId as string | undefined;
    if (resumeId) {
      version = (await rows(session, `select id, version from AssetVersion where id is "${resumeId}"`))[0]!;
    } else {
      const versionId = randomUUID();
      const statusId = settings.versionStatus
        ? (await rows(session, `select id from Status where name is ${quoted(settings.versionStatus)}`))[0]?.id
        : undefined;
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
        ...metadataOps(versionId, "AssetVersion", {
          ferry_publish_key: String(instance.data.publishKey ?? randomUUID()),
          ferry_heartbeat: new Date().toISOString(),
          ferry_host: request.host,
        }),
      ]);
      version = created!.data as Entity & { version?: number };
    }
    const versionNumber = Number(version.version);
    log.info(`${assetName} v${String(versionNumber).padStart(3, "0")} (${version.id})${resumeId ? ", resumed" : ""}`);
    const heartbeat = setInterval(() => {
      session.call([update("Metadata", [version.id, "ferry_heartbeat"], { value: new Date().toISOString() }) as never])
        .catch(() => {});
    }, 5_000);
    try {
      // Where the data goes.
      const location = request.location;
      const target: TransferTarget = location === "server"
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
      // which of them are verified in the location.
      const existing = await rows(
        session,
        `select id, name, container_id, size, component_locations.location_id, metadata from Component where version_id is "${version.id}" or container.version_id is "${version.id}"`,
      );
      const verified = (component: Entity) =>
        (component.component_locations as Array<{ location_id: string }>).some((item) =>
          item.location_id === locationId
        );
      const fingerprintOf = (component: Entity) =>
        (component.metadata as Array<{ key: string; value: string }>).find((item) => item.key === "ferry_fingerprint")
          ?.value.replace(/^sha1:/, "");

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
      const taken = new Set<string>();
      const operations: Operation[] = [];
      const files: PlannedFile[] = [];
      const sequences: Array<
        { id: string; name: string; item: FoundSequence; members: PlannedFile[]; verified: boolean }
      > = [];
      const singles: PlannedFile[] = [];
      for (const item of itemsOf(instance) as Array<FoundSequence | FoundFile>) {
        if (item.kind === "sequence") {
          const { collection } = item;
          const ext = extensionOf(collection.tail);
          const name = representationName(ext, taken, collection.head.replace(/[._-]+$/, "") || "sequence");
          const found = existing.find((component) => component.name === name && !component.container_id);
          const id = found?.id ?? randomUUID();
          if (!found) {
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
            const member = existing.find((component) =>
              component.container_id === id && component.name === String(frame)
            );
            const memberId = member?.id ?? randomUUID();
            if (!member) {
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
              path: join(item.directory, memberName),
              fileName: memberName,
              relativePath: structure(name, framePart, ext),
              size: item.sizes[index]!,
              frame,
              verified: member ? verified(member) : false,
              hex: member ? fingerprintOf(member) : undefined,
            };
          });
          sequences.push({ id, name, item, members, verified: found ? verified(found) : false });
          files.push(...members);
        } else {
          const ext = extensionOf(item.path);
          const name = representationName(ext, taken, basename(item.path, ext));
          const found = existing.find((component) => component.name === name && !component.container_id);
          const id = found?.id ?? randomUUID();
          if (!found) {
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
            verified: found ? verified(found) : false,
            hex: found ? fingerprintOf(found) : undefined,
          };
          singles.push(planned);
          files.push(planned);
        }
      }
      await call(session, operations);

      // Transfer what is not there yet, a bounded number at once; each file is read once.
      const pending = files.filter((file) => !file.verified);
      progress.expect(pending.reduce((sum, file) => sum + file.size, 0));
      if (files.length > pending.length) {
        log.info(`${files.length - pending.length} file(s) already uploaded and verified`);
      }
      // Signed URLs for every pending file in a few calls; verified files are recorded in batches
      // (a file counts as verified for a resumed publish once its ComponentLocation exists).
      const uploads = target.kind === "server" ? await uploadTargets(session, pending) : new Map();
      let verifiedOps: Operation[] = [];
      let verifiedFiles: PlannedFile[] = [];
      const flush = async () => {
        const [ops, done] = [verifiedOps, verifiedFiles];
        verifiedOps = [];
        verifiedFiles = [];
        await call(session, ops);
        for (const file of done) file.verified = true;
      };
      try {
        await mapLimit(pending, settings.uploadConcurrency, async (file) => {
          signal.throwIfAborted();
          const done = await transferFile(
            session,
            target,
            { ...file, upload: uploads.get(file.componentId) },
            progress,
            signal,
          );
          file.hex = done.hex;
          verifiedOps.push(
            ...metadataOps(file.componentId, "FileComponent", {
              ferry_fingerprint: `sha1:${done.hex}`,
              ferry_size: String(done.size),
              ferry_origin: fileLocator(file.path),
              ...(file.frame !== undefined ? { ferry_frame: String(file.frame) } : {}),
            }),
            create("ComponentLocation", {
              component_id: file.componentId,
              location_id: locationId,
              resource_identifier: done.resourceIdentifier,
            }),
          );
          verifiedFiles.push(file);
          if (verifiedFiles.length >= 100) await flush();
        });
      } finally {
        // What was verified before a failure is recorded, so that a resumed publish does not send it again.
        await flush();
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
            resource_identifier: target.kind === "server"
              ? sequence.id
              : target.kind === "disk"
              ? structure(sequence.name, `.%0${Math.max(collection.padding, 1)}d`, extensionOf(collection.tail))
              : fileLocator(join(sequence.item.directory, collection.format("{head}{padding}{tail}"))),
          }),
        );
      }
      await call(session, sequenceOps);

      // Review media and the thumbnail, always on the server where ftrack's player reads them.
      const review = instance.data.review as ReviewMedia | undefined;
      const reviewComponents: string[] = [];
      let thumbnailId: string | undefined;
      if (review && !existing.some((component) => component.name === "ftrackreview-mp4")) {
        const uploads: Array<{ name: string; path: string; meta: Record<string, unknown>; thumbnail?: boolean }> = [];
        if (review.movie) uploads.push({ name: "ftrackreview-mp4", path: review.movie.path, meta: review.movie.meta });
        if (review.image) {
          uploads.push({ name: "ftrackreview-image", path: review.image.path, meta: { format: "image" } });
          uploads.push({ name: "thumbnail", path: review.image.path, meta: { format: "image" }, thumbnail: true });
        }
        for (const media of uploads) {
          const id = randomUUID();
          const ext = extensionOf(media.path);
          const stats = await Deno.stat(media.path);
          progress.expect(stats.size);
          await call(session, [
            create("FileComponent", { id, name: media.name, file_type: ext, size: stats.size, version_id: version.id }),
          ]);
          const done = await transferFile(
            session,
            { kind: "server" },
            { componentId: id, path: media.path, fileName: `${media.name}${ext}`, relativePath: "" },
            progress,
            signal,
          );
          await call(session, [
            ...metadataOps(id, "FileComponent", {
              ftr_meta: JSON.stringify(media.meta),
              ferry_fingerprint: `sha1:${done.hex}`,
            }),
            create("ComponentLocation", { component_id: id, location_id: SERVER_LOCATION, resource_identifier: id }),
          ]);
          reviewComponents.push(id);
          if (media.thumbnail) thumbnailId = id;
        }
      }

      // Note, thumbnail, task status; then the version becomes visible as published.
      const finishing: Operation[] = [];
      let noteId: string | undefined;
      if (request.comment && !resumeId) {
        noteId = randomUUID();
        finishing.push(
          create("Note", { id: noteId, content: request.comment, ...(userId ? { user_id: userId } : {}) }),
        );
        finishing.push(update("AssetVersion", [version.id], { notes: [{ __entity_type__: "Note", id: noteId }] }));
      }
      if (thumbnailId) finishing.push(update("AssetVersion", [version.id], { thumbnail_id: thumbnailId }));
      if (settings.taskStatusAfterPublish && tracker.task) {
        const status =
          (await rows(session, `select id from Status where name is ${quoted(settings.taskStatusAfterPublish)}`))[0];
        if (status) finishing.push(update("Task", [tracker.task.id], { status_id: status.id }));
        else log.warning(`no status '${settings.taskStatusAfterPublish}' on the tracker: the task status is unchanged`);
      }
      if (files.some((file) => !file.verified)) {
        throw new Error(`Cannot publish '${assetName}': some files were not transferred`);
      }
      finishing.push(update("AssetVersion", [version.id], { is_published: true }));
      await call(session, finishing);

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
      };
      instance.data.created = created;
      instance.data.fileReport = files.map((file) => ({
        path: file.path,
        size: file.size,
        sha1: file.hex,
        componentId: file.componentId,
      }));
      await announce(session, {
        versionId: version.id,
        version: versionNumber,
        assetId: asset.id,
        asset: assetName,
        family,
        context: request.context.path,
        task: request.context.task,
        components: created.components,
        user: context.data.user,
      }).catch((error) =>
        log.warning(`the version is published, but the event could not be sent: ${(error as Error).message}`)
      );
      log.info(`published ${assetName} v${String(versionNumber).padStart(3, "0")}: ${files.length} file(s)`);
    } finally {
      clearInterval(heartbeat);
    }
  },
});

/** Sends `ferry.publish.finished` on the tracker's event hub (waits at most 15 s for the hub). */
async function announce(session: Session, data: Record<string, unknown>): Promise<void> {
  const hub = session.eventHub;
  if (!hub.isConnected()) hub.connect();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      hub.publish(new Event("ferry.publish.finished", data), { timeout: 0 }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("the event hub did not answer within 15 s")), 15_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    hub.disconnect();
  }
}
