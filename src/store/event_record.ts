import { z } from "zod";

/** Where an event stands: stored jobs move `pending` → `in_progress` → `finished` or `failed`. */
export const EventStatusSchema = z.enum(["pending", "in_progress", "finished", "failed"]);

/** Where an event stands. */
export type EventStatus = z.infer<typeof EventStatusSchema>;

/** What a failed job keeps of its error. */
export interface EventError {
  message: string;
  stack?: string;
}

/** An event of the pipeline store's event log. Times are milliseconds since the epoch. */
export interface StoredEvent {
  /** Unique id (a uuid). */
  id: string;
  /** Arrival order in the log; enroll hands sources out in this order. */
  seq: number;
  topic: string;
  /** Unique: a second event with the same hash is not stored. Defaults to the id. */
  hash: string;
  /** The service or tool that wrote it (`processor@render01`). */
  sender: string | null;
  /** The kind of writer (`tracker`, `pipeline`, `user`); enroll may ignore sources by it. */
  senderType: string | null;
  /** The project's name, when the event belongs to one. */
  project: string | null;
  /** For a job, the id of the source event it processes. */
  dependsOn: string | null;
  status: EventStatus;
  /** How many times a job was handed out again after a failure or an expired lease. */
  retries: number;
  payload: unknown;
  description: string;
  /** Why a job failed last. */
  error: EventError | null;
  /** Who holds an `in_progress` job, and until when its lease runs. */
  holder: string | null;
  leaseUntil: number | null;
  /** A failed job is not retried before this time. */
  availableAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** What {@linkcode PipelineStore.dispatch} takes. */
export const DispatchSchema = z.object({
  topic: z.string().min(1, "is empty").max(255),
  hash: z.string().min(1, "is empty").max(512).optional(),
  sender: z.string().min(1).nullable().default(null),
  senderType: z.string().min(1).nullable().default(null),
  project: z.string().min(1).nullable().default(null),
  dependsOn: z.string().min(1).nullable().default(null),
  status: EventStatusSchema.default("finished"),
  payload: z.unknown().default({}),
  description: z.string().default(""),
});

/** What {@linkcode PipelineStore.dispatch} takes. */
export type DispatchInput = z.input<typeof DispatchSchema>;

/** A job handed out by enroll: the target event and the source event it processes. */
export interface Job {
  event: StoredEvent;
  source: StoredEvent;
}
