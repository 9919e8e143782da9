/**
 * The buffers uploads read whole files into, shared by `uploadFile` and `uploadFiles` so that a
 * buffer freed by one serves the next.
 *
 * @module
 */
import { BufferPool } from "../buffers/buffer_pool.ts";

/** Files up to this size are read into memory in one piece and sent as one body. */
export const WHOLE_FILE_LIMIT = 32 * 1024 * 1024;

/** Files below this size get a buffer of their own size (a pooled one is at least this large). */
const POOLED_FROM = 1024 * 1024;

/**
 * Read buffers of finished uploads, reused by the next ones: fetch copies a request body when the
 * request is made, so a buffer is free again once `fetch` has been called.
 */
const pool = new BufferPool({ minimumBytes: POOLED_FROM });

/** A buffer for a whole file of `size` bytes (pooled from 1 MiB; its length may exceed `size`). */
export function takeReadBuffer(size: number): Uint8Array<ArrayBuffer> {
  return size < POOLED_FROM ? new Uint8Array(size) : pool.take(size);
}

/** Gives back a buffer of {@linkcode takeReadBuffer} once nothing reads it any more. */
export function giveReadBuffer(buffer: Uint8Array<ArrayBuffer>): void {
  if (buffer.length >= POOLED_FROM) pool.give(buffer);
}
