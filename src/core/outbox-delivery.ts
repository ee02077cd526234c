import type {
  Delivery,
  NotificationTarget,
  PendingNotification,
  RolloutStatus,
} from "../api/rollout.ts";
import { iso, ms } from "./clock.ts";
import { setCondition } from "./conditions.ts";
import { boundedFailed, boundedSent } from "./outbox.ts";
import type { KubeEvent } from "./plan.ts";

/**
 * The outbox's delivery side, pure: which deliveries are due, and what one attempt's
 * outcome does to status (sent, retried later, or given up with the NotificationFailed
 * condition and an Event). The notify adapter does the I/O and writes the result.
 */

export interface RetryPolicy {
  /** Backoff before the second try; doubled each failure, with jitter. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Retries stop this long after the first failure. */
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  initialBackoffMs: 1_000,
  maxBackoffMs: 5 * 60_000,
  giveUpAfterMs: 60 * 60_000,
};

/** What one delivery attempt came to. `source` names where the URL came from, never the URL. */
export type Attempt =
  | { ok: true; skipped?: boolean }
  | {
      ok: false;
      error: string;
      /** false: the receiver refused (4xx); retrying cannot help. */
      retry: boolean;
      /** The receiver's Retry-After, when it asked for one. */
      retryAfterMs?: number | undefined;
      /** A configuration problem (Secret missing, not a URL): reported at once, still retried. */
      misconfigured?: boolean;
      source: string;
    };

export const CONDITION = "NotificationFailed";

const LABEL: Record<NotificationTarget, string> = { slack: "Slack", webhook: "Webhook" };

export interface DueDelivery {
  id: string;
  target: NotificationTarget;
}

/** Deliveries whose time has come, oldest notification first. */
export function dueDeliveries(status: RolloutStatus | undefined, now: number): DueDelivery[] {
  return (status?.notifications?.pending ?? []).flatMap((entry) =>
    entry.deliveries
      .filter((d) => (ms(d.nextAttemptAt) ?? 0) <= now)
      .map((d) => ({ id: entry.id, target: d.target })),
  );
}

/** When the next delivery is due (ms), if any is pending. */
export function nextAttemptAt(status: RolloutStatus | undefined): number | undefined {
  const times = (status?.notifications?.pending ?? []).flatMap((entry) =>
    entry.deliveries.map((d) => ms(d.nextAttemptAt) ?? 0),
  );
  return times.length === 0 ? undefined : Math.min(...times);
}

/** Equal jitter: at least half the doubled delay, so a retry storm spreads but never rushes. */
export function backoffMs(policy: RetryPolicy, attempts: number, random: number): number {
  const base = Math.min(
    policy.maxBackoffMs,
    policy.initialBackoffMs * 2 ** Math.max(0, attempts - 1),
  );
  return Math.round(base / 2 + (random * base) / 2);
}

/**
 * Applies one attempt's outcome for (id, target) to a copy of `status`. A delivery that
 * is no longer pending (another writer got there first) leaves status as it was.
 */
export function recordAttempt(
  stored: RolloutStatus,
  id: string,
  target: NotificationTarget,
  attempt: Attempt,
  now: number,
  policy: RetryPolicy,
  random: number,
): { status: RolloutStatus; events: KubeEvent[] } {
  const status = structuredClone(stored);
  const outbox = status.notifications ?? {};
  const entry = (outbox.pending ?? []).find((p) => p.id === id);
  const delivery = entry?.deliveries.find((d) => d.target === target);
  if (entry === undefined || delivery === undefined) return { status: stored, events: [] };
  const nowIso = iso(now);
  const events: KubeEvent[] = [];

  if (attempt.ok) {
    finish(status, entry, target);
    const failing = status.conditions?.find((c) => c.type === CONDITION);
    if (!attempt.skipped && failing?.status === "True" && failing.reason.startsWith(LABEL[target]))
      status.conditions = setCondition(
        status.conditions,
        CONDITION,
        "False",
        "Delivered",
        `${LABEL[target]} notifications are delivered again`,
        nowIso,
      );
    return { status, events };
  }

  const attempts = delivery.attempts + 1;
  const failingSince = ms(delivery.failingSince) ?? now;
  const deadline = failingSince + policy.giveUpAfterMs;
  // Retry-After is a floor: a receiver answering "Retry-After: 0" still gets the backoff.
  const wait = Math.max(attempt.retryAfterMs ?? 0, backoffMs(policy, attempts, random));
  const what = `${LABEL[target]} notification "${entry.title}"`;
  let giveUp: { reason: string; message: string } | undefined;
  if (!attempt.retry) {
    giveUp = {
      reason: `${LABEL[target]}Rejected`,
      message: `${what} was refused by the URL in ${attempt.source}: ${attempt.error}. Not retried: fix the URL in ${attempt.source}.`,
    };
  } else if (now >= deadline || (attempt.retryAfterMs !== undefined && now + wait > deadline)) {
    giveUp = {
      reason: `${LABEL[target]}GaveUp`,
      message: `${what} was not delivered to the URL in ${attempt.source} after ${attempts} attempts over ${minutes(now - failingSince)}; last error: ${attempt.error}`,
    };
  }

  if (giveUp !== undefined) {
    finish(status, entry, target, {
      id,
      kind: entry.kind,
      target,
      at: nowIso,
      error: attempt.error,
    });
    events.push(...fail(status, giveUp.reason, giveUp.message, nowIso));
    return { status, events };
  }

  const next: Delivery = {
    target,
    attempts,
    nextAttemptAt: iso(Math.min(now + wait, Math.max(deadline, now))),
    failingSince: iso(failingSince),
    lastError: attempt.error,
  };
  replaceDelivery(status, id, next);
  if (attempt.misconfigured === true)
    events.push(
      ...fail(
        status,
        `${LABEL[target]}Misconfigured`,
        `${what} cannot be sent: ${attempt.error}. Retrying until ${iso(deadline)}.`,
        nowIso,
      ),
    );
  return { status, events };
}

/** Sets the condition; an Event only when its message changes, so retries do not flood Events. */
function fail(status: RolloutStatus, reason: string, message: string, nowIso: string): KubeEvent[] {
  const before = status.conditions?.find((c) => c.type === CONDITION);
  status.conditions = setCondition(status.conditions, CONDITION, "True", reason, message, nowIso);
  if (before?.status === "True" && before.message === message) return [];
  return [{ type: "Warning", reason: CONDITION, message }];
}

/** Removes one target's delivery; a notification with none left leaves the pending list. */
function finish(
  status: RolloutStatus,
  entry: PendingNotification,
  target: NotificationTarget,
  failure?: NonNullable<NonNullable<RolloutStatus["notifications"]>["failed"]>[number],
): void {
  const outbox = status.notifications ?? {};
  const deliveries = entry.deliveries.filter((d) => d.target !== target);
  const pending = (outbox.pending ?? []).flatMap((p) =>
    p.id !== entry.id ? [p] : deliveries.length > 0 ? [{ ...p, deliveries }] : [],
  );
  const failed =
    failure === undefined ? outbox.failed : boundedFailed([...(outbox.failed ?? []), failure]);
  const gaveUpBefore =
    (outbox.failed ?? []).some((f) => f.id === entry.id) || failure !== undefined;
  const sent =
    deliveries.length === 0 && !gaveUpBefore
      ? boundedSent([...(outbox.sent ?? []), entry.id])
      : outbox.sent;
  status.notifications = {
    ...(pending.length > 0 ? { pending } : {}),
    ...(sent !== undefined && sent.length > 0 ? { sent } : {}),
    ...(failed !== undefined && failed.length > 0 ? { failed } : {}),
  };
}

function replaceDelivery(status: RolloutStatus, id: string, next: Delivery): void {
  const outbox = status.notifications ?? {};
  status.notifications = {
    ...outbox,
    pending: (outbox.pending ?? []).map((p) =>
      p.id !== id
        ? p
        : { ...p, deliveries: p.deliveries.map((d) => (d.target === next.target ? next : d)) },
    ),
  };
}

function minutes(elapsedMs: number): string {
  const s = Math.round(elapsedMs / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m}m` : `${Math.floor(m / 60)}h${m % 60}m`;
}
