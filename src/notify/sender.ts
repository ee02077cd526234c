import type { PendingNotification, Rollout } from "../api/rollout.ts";
import type { Attempt } from "../core/outbox-delivery.ts";

/**
 * Delivers one notification to one kind of receiver (Slack, a generic webhook) and says
 * how it went. Never throws: every failure is an Attempt the outbox records. It does not
 * retry by itself: retries are scheduled through status, so they survive restarts.
 */
export interface Sender {
  send(rollout: Rollout, entry: PendingNotification): Promise<Attempt>;
}

/** Where a receiver's URL comes from, named without the URL, and how to read it. */
export interface Destination {
  /** e.g. `Secret prod/slack-webhook key "url"`, or the controller's env var. */
  source: string;
  url(): Promise<string>;
}

/** The controller-wide defaults, for Rollouts that do not name their own Secret. */
export interface NotifyDefaultsConfig {
  slack?: { webhookUrl?: string | undefined; channel?: string | undefined } | undefined;
  webhook?: { url?: string | undefined; signingKey?: string | undefined } | undefined;
}

export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

export function rolloutKey(rollout: Rollout): { namespace: string; name: string } {
  return { namespace: rollout.metadata.namespace ?? "default", name: rollout.metadata.name };
}
