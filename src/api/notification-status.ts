import { z } from "zod";
import { NotificationKind, NotificationTarget } from "./notifications.ts";

/**
 * status.notifications: the outbox. A transition records its notifications here as
 * pending, in the same status write as the transition; delivery beside reconciling
 * removes each one once every target has it (its id then joins `sent`), or records it
 * under `failed` when a target gave up. All three lists are bounded.
 */

/** One version of the workload, as a message shows it. */
export const NotifiedVersion = z.object({
  hash: z.string(),
  images: z.array(z.string()).max(20).optional(),
});

/** A metric's reading when the notification was made: the evidence of a rollback. */
export const NotifiedMetric = z.object({
  name: z.string(),
  verdict: z.string().optional(),
  canary: z.number().optional(),
  stable: z.number().optional(),
  evidence: z.number().optional(),
  bound: z.number().optional(),
  message: z.string().optional(),
});

/** What the release looked like at the transition, so a late delivery tells the same story. */
export const NotificationDetails = z.object({
  stable: NotifiedVersion.optional(),
  canary: NotifiedVersion.optional(),
  /** The step being run, counted from 1. */
  step: z.object({ index: z.int(), count: z.int(), description: z.string() }).optional(),
  canaryWeight: z.int().optional(),
  evidence: z.array(NotifiedMetric).max(20).optional(),
  /** For a pause: the exact command that continues the release. */
  promoteCommand: z.string().optional(),
});

/** Where one target's delivery of a notification stands. */
export const Delivery = z.object({
  target: NotificationTarget,
  attempts: z.int().default(0),
  /** Not before this time (RFC 3339): backoff or the receiver's Retry-After. */
  nextAttemptAt: z.string().optional(),
  /** When the first failed attempt was made: retries stop a bounded time after it. */
  failingSince: z.string().optional(),
  /** The last failure, with any URL scrubbed out. */
  lastError: z.string().optional(),
});

export const PendingNotification = z.object({
  id: z.string(),
  kind: NotificationKind,
  severity: z.enum(["info", "warn", "error"]),
  title: z.string(),
  message: z.string(),
  /** When the transition happened (RFC 3339). */
  at: z.string(),
  details: NotificationDetails.optional(),
  /** Targets still to deliver to. */
  deliveries: z.array(Delivery).max(2),
});

export const FailedNotification = z.object({
  id: z.string(),
  kind: NotificationKind,
  target: NotificationTarget,
  at: z.string(),
  error: z.string(),
});

export const NotificationOutbox = z.object({
  pending: z.array(PendingNotification).optional(),
  /** Ids delivered to every target during this release (the newest few). */
  sent: z.array(z.string()).optional(),
  /** Notifications a target gave up on (the newest few); the NotificationFailed condition says why. */
  failed: z.array(FailedNotification).optional(),
});

export type NotificationDetails = z.output<typeof NotificationDetails>;
export type NotifiedMetric = z.output<typeof NotifiedMetric>;
export type Delivery = z.output<typeof Delivery>;
export type PendingNotification = z.output<typeof PendingNotification>;
export type FailedNotification = z.output<typeof FailedNotification>;
export type NotificationOutbox = z.output<typeof NotificationOutbox>;
