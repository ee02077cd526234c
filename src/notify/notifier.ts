import type { Rollout } from "../api/rollout.ts";
import type { Notification } from "../core/plan.ts";

/** What happened to one notification. A failure is reported, never thrown. */
export type NotifyResult = { ok: true; sent: boolean } | { ok: false; error: string };

/**
 * Tells people about a release event (Slack, webhooks...). The controller calls it for
 * each `notify` action of a Plan (the core has already recorded the id in status, so a
 * restart does not send it twice). Implementations must not throw: a failed post must
 * not stop a release, so every failure comes back as `{ ok: false }` for the caller to log
 * or count.
 */
export interface Notifier {
  notify(rollout: Rollout, notification: Notification): Promise<NotifyResult>;
}
