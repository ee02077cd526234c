import { z } from "zod";
import { SecretKeyRef } from "./schema-parts.ts";

/**
 * spec.notifications: where a Rollout's release events go (Slack, a generic webhook) and
 * which kinds of event each receives. A target without its own URL Secret uses the
 * controller-wide default (AVIARY_SLACK_WEBHOOK_URL, AVIARY_WEBHOOK_URL).
 */
export const NotificationKind = z.enum([
  "started",
  "stepCompleted",
  "paused",
  "promoted",
  "rolledBack",
  "aborted",
  "progressDeadlineExceeded",
]);
export type NotificationKind = z.output<typeof NotificationKind>;

/** What a target receives when its `on` is not set: every kind but stepCompleted. */
export const DEFAULT_NOTIFY_ON: readonly NotificationKind[] = [
  "started",
  "paused",
  "promoted",
  "rolledBack",
  "aborted",
  "progressDeadlineExceeded",
];

const On = z
  .array(NotificationKind)
  .max(NotificationKind.options.length)
  .optional()
  .describe(
    "Kinds of event to send; default: started, paused, promoted, rolledBack, aborted, progressDeadlineExceeded. [] sends none.",
  );

export const SlackNotifications = z.object({
  /** The incoming-webhook URL, kept in a Secret; default: the controller's AVIARY_SLACK_WEBHOOK_URL. */
  webhookSecretRef: SecretKeyRef.optional(),
  /** Default: the controller's AVIARY_SLACK_CHANNEL, else the webhook's own channel. */
  channel: z.string().max(80).optional(),
  on: On,
});

export const WebhookNotifications = z.object({
  /** Where the JSON payload is POSTed, kept in a Secret; default: the controller's AVIARY_WEBHOOK_URL. */
  urlSecretRef: SecretKeyRef.optional(),
  /** Key for the X-Aviary-Signature HMAC-SHA256 header; default: AVIARY_WEBHOOK_SIGNING_KEY, else unsigned. */
  signingSecretRef: SecretKeyRef.optional(),
  on: On,
});

export const Notifications = z.object({
  slack: SlackNotifications.optional(),
  webhook: WebhookNotifications.optional(),
});

export type SlackNotifications = z.output<typeof SlackNotifications>;
export type WebhookNotifications = z.output<typeof WebhookNotifications>;
export type Notifications = z.output<typeof Notifications>;

/** The receivers a notification can go to. */
export const NotificationTarget = z.enum(["slack", "webhook"]);
export type NotificationTarget = z.output<typeof NotificationTarget>;
