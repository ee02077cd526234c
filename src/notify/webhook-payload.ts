import { z } from "zod";
import { NotificationDetails, NotificationKind } from "../api/rollout.ts";
import type { PendingNotification } from "../api/rollout.ts";

/**
 * The generic webhook's JSON body, one per notification (documented in
 * docs/notifications.md). Receivers should deduplicate on `id` (also sent as the
 * X-Aviary-Delivery header): delivery is at least once.
 */
export const WEBHOOK_SCHEMA = "aviary.dev/notification/v1";

export const WebhookPayload = z.object({
  schema: z.literal(WEBHOOK_SCHEMA),
  id: z.string(),
  kind: NotificationKind,
  severity: z.enum(["info", "warn", "error"]),
  title: z.string(),
  message: z.string(),
  /** When the transition happened (RFC 3339), not when this delivery was made. */
  occurredAt: z.string(),
  rollout: z.object({ namespace: z.string(), name: z.string(), uid: z.string().optional() }),
  cluster: z.string().optional(),
  ...NotificationDetails.shape,
});

export type WebhookPayload = z.output<typeof WebhookPayload>;

export function webhookPayload(
  entry: PendingNotification,
  rollout: { namespace: string; name: string; uid?: string | undefined },
  clusterName: string | undefined,
): WebhookPayload {
  return {
    schema: WEBHOOK_SCHEMA,
    id: entry.id,
    kind: entry.kind,
    severity: entry.severity,
    title: entry.title,
    message: entry.message,
    occurredAt: entry.at,
    rollout: {
      namespace: rollout.namespace,
      name: rollout.name,
      ...(rollout.uid === undefined ? {} : { uid: rollout.uid }),
    },
    ...(clusterName === undefined ? {} : { cluster: clusterName }),
    ...entry.details,
  };
}
