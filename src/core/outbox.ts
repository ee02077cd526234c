import {
  DEFAULT_NOTIFY_ON,
  type NotificationKind,
  type NotificationOutbox,
  type NotificationTarget,
  type PendingNotification,
  type RolloutSpec,
  type RolloutStatus,
} from "../api/rollout.ts";
import type { NotifyDefaults } from "./plan.ts";

/**
 * The outbox's recording side, pure. A transition's notification is stored as pending in
 * status.notifications, in the same status write as the transition (so a crash can never
 * lose it), with one delivery per target that wants its kind. The lists stay bounded:
 * a release keeps the ids of its newest sent notifications, a few failures, and a
 * bounded number of pending ones.
 */

export const MAX_PENDING = 20;
export const MAX_SENT = 20;
export const MAX_FAILED = 5;
/** Longer texts are cut: a message is for reading at a glance, and status must stay small. */
export const MAX_TEXT = 1000;

/** The targets that want a notification of `kind`: each configured one whose `on` lists it. */
export function targetsFor(
  spec: Pick<RolloutSpec, "notifications">,
  defaults: NotifyDefaults | undefined,
  kind: NotificationKind,
): NotificationTarget[] {
  const n = spec.notifications;
  const targets: NotificationTarget[] = [];
  const slack = n?.slack;
  if ((slack !== undefined || defaults?.slack === true) && wants(slack?.on, kind))
    targets.push("slack");
  const webhook = n?.webhook;
  if ((webhook !== undefined || defaults?.webhook === true) && wants(webhook?.on, kind))
    targets.push("webhook");
  return targets;
}

function wants(on: readonly NotificationKind[] | undefined, kind: NotificationKind): boolean {
  return (on ?? DEFAULT_NOTIFY_ON).includes(kind);
}

/** Whether a notification with this id is pending, sent or failed already. */
export function isKnown(outbox: NotificationOutbox | undefined, id: string): boolean {
  return (
    (outbox?.pending ?? []).some((p) => p.id === id) ||
    (outbox?.sent ?? []).includes(id) ||
    (outbox?.failed ?? []).some((f) => f.id === id)
  );
}

/**
 * Adds a notification to the outbox unless its id is known. When the outbox is full, the
 * oldest pending notification is given up (recorded as failed), so status stays bounded.
 */
export function recordPending(status: RolloutStatus, entry: PendingNotification): void {
  const outbox = status.notifications ?? {};
  if (isKnown(outbox, entry.id) || entry.deliveries.length === 0) return;
  const clipped = { ...entry, title: clip(entry.title), message: clip(entry.message) };
  let pending = [...(outbox.pending ?? []), clipped];
  let failed = outbox.failed ?? [];
  while (pending.length > MAX_PENDING) {
    const [oldest, ...rest] = pending;
    pending = rest;
    if (oldest === undefined) break;
    failed = boundedFailed([
      ...failed,
      ...oldest.deliveries.map((d) => ({
        id: oldest.id,
        kind: oldest.kind,
        target: d.target,
        at: entry.at,
        error: `not delivered: more than ${MAX_PENDING} notifications were waiting`,
      })),
    ]);
  }
  status.notifications = { ...outbox, pending, ...(failed.length > 0 ? { failed } : {}) };
}

/**
 * A new release starts its own list of sent ids: ids of older releases can never come
 * again (they carry the old version's hash), and pending ones are kept until delivered.
 */
export function startReleaseOutbox(status: RolloutStatus): void {
  const outbox = status.notifications;
  if (outbox === undefined) return;
  const { sent: _sent, ...rest } = outbox;
  status.notifications = rest;
}

export function boundedSent(sent: readonly string[]): string[] {
  return sent.slice(-MAX_SENT);
}

export function boundedFailed<T>(failed: readonly T[]): T[] {
  return failed.slice(-MAX_FAILED);
}

function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}
