/**
 * A hash worker that crashes (an uncaught error on its thread) when asked for a path ending in
 * `.crash`, and otherwise is the real one: for HashPool's crash-recovery test.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";

parentPort!.on("message", (request: { path: string }) => {
  if (request.path.endsWith(".crash")) throw new Error("simulated crash");
});
await import("../src/fingerprint/_hash_worker.ts");
