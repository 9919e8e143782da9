/**
 * Worker-thread entry of `fingerprintFiles`: hashes the files it is sent, one at a time, with
 * blocking reads (this thread has nothing else to do), and answers with the digest or the error.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { hashFileSync } from "./_hash_file_sync.ts";
import type { HashRequest, HashResponse } from "./_hash_messages.ts";

const PROGRESS_STEP = 16 * 1024 * 1024;
const port = parentPort;
if (port === null) throw new Error("Cannot start the hash worker: it must run in a worker thread");

port.on("message", (request: HashRequest) => {
  let unreported = 0;
  const onProgress = (bytes: number) => {
    unreported += bytes;
    if (unreported >= PROGRESS_STEP) {
      port.postMessage({ id: request.id, kind: "progress", bytes: unreported } satisfies HashResponse);
      unreported = 0;
    }
  };
  let response: HashResponse;
  try {
    const result = hashFileSync(request.path, request.algorithm, request.chunkSize, onProgress);
    response = { id: request.id, kind: "done", hex: result.hex, size: result.size, unreported };
  } catch (error) {
    const { path, problem, message } = error as { path?: string; problem?: string; message?: string };
    response = {
      id: request.id,
      kind: "failed",
      path: path ?? request.path,
      problem: problem ?? "failed",
      message: message ?? String(error),
      unreported,
    };
  }
  port.postMessage(response);
});
