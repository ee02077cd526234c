import type { Rollout } from "../api/rollout.ts";
import type { Notification } from "../core/plan.ts";

/** The JSON body of a Slack incoming-webhook post (legacy attachments give the colored bar). */
export interface SlackMessage {
  text: string;
  channel?: string;
  username: string;
  attachments: SlackAttachment[];
}

export interface SlackAttachment {
  color: string;
  title: string;
  text: string;
  fallback: string;
  fields: { title: string; value: string; short: boolean }[];
}

/** Slack's own attachment colors: green for good news, orange for attention, red for trouble. */
export const SLACK_COLORS = { good: "#2eb886", warning: "#daa038", danger: "#a30200" } as const;

export interface MessageContext {
  channel?: string | undefined;
  /** A name for the cluster, shown when several clusters post to one channel. */
  clusterName?: string | undefined;
}

export function slackMessage(
  rollout: Rollout,
  notification: Notification,
  context: MessageContext,
): SlackMessage {
  const namespace = rollout.metadata.namespace ?? "default";
  const target = `${namespace}/${rollout.metadata.name}`;
  const status = rollout.status;
  const fields = [
    ...(context.clusterName === undefined
      ? []
      : [{ title: "Cluster", value: context.clusterName, short: true }]),
    { title: "Rollout", value: target, short: true },
    ...(status?.stableHash === undefined
      ? []
      : [{ title: "Stable version", value: status.stableHash, short: true }]),
    ...(status?.canaryHash === undefined
      ? []
      : [{ title: "New version", value: status.canaryHash, short: true }]),
  ];
  return {
    text: `${notification.title} (${target})`,
    ...(context.channel === undefined ? {} : { channel: context.channel }),
    username: "Aviary",
    attachments: [
      {
        color: colorOf(notification),
        title: notification.title,
        text: notification.message,
        fallback: `${notification.title}: ${notification.message}`,
        fields,
      },
    ],
  };
}

/** The kind wins over the severity: a rollback is red even if reported as a warning. */
function colorOf(notification: Notification): string {
  if (notification.kind === "rolledBack" || notification.kind === "aborted")
    return SLACK_COLORS.danger;
  if (notification.kind === "promoted") return SLACK_COLORS.good;
  return { info: SLACK_COLORS.good, warn: SLACK_COLORS.warning, error: SLACK_COLORS.danger }[
    notification.severity
  ];
}
