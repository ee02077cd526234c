import type { IncomingWebhookSendArguments } from "@slack/webhook";
import type { NotificationDetails, NotifiedMetric, PendingNotification } from "../api/rollout.ts";

/**
 * The Slack message for one notification, in Block Kit: a header with the event, the
 * reason, the facts a person needs at a glance (rollout, namespace, cluster, old -> new
 * version, step and weight), a rollback's evidence (canary vs stable, the bound crossed),
 * and for a pause the exact command that continues the release. `text` is the fallback
 * Slack shows in notifications and to screen readers.
 */
export interface SlackMessage {
  text: string;
  channel?: string;
  username: string;
  blocks: NonNullable<IncomingWebhookSendArguments["blocks"]>;
}

type Block = SlackMessage["blocks"][number];

export interface MessageContext {
  namespace: string;
  name: string;
  channel?: string | undefined;
  /** A name for the cluster, shown when several clusters post to one channel. */
  clusterName?: string | undefined;
}

const ICON: Record<PendingNotification["kind"], string> = {
  started: ":rocket:",
  stepCompleted: ":arrow_forward:",
  paused: ":double_vertical_bar:",
  promoted: ":white_check_mark:",
  rolledBack: ":rotating_light:",
  aborted: ":no_entry:",
  progressDeadlineExceeded: ":hourglass:",
};

// Slack's limits: header text 150 characters, section text 3000, a field 2000, 10 fields.
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;

export function slackMessage(entry: PendingNotification, context: MessageContext): SlackMessage {
  const details = entry.details ?? {};
  const target = `${context.namespace}/${context.name}`;
  const where = context.clusterName === undefined ? target : `${target} on ${context.clusterName}`;
  const fields = [
    field("Rollout", `\`${target}\``),
    ...(context.clusterName === undefined ? [] : [field("Cluster", escape(context.clusterName))]),
    ...versionField(details),
    ...(details.step === undefined
      ? []
      : [
          field(
            "Step",
            `${details.step.index}/${details.step.count} (${escape(details.step.description)})`,
          ),
        ]),
    ...(details.canaryWeight === undefined
      ? []
      : [field("Canary weight", `${details.canaryWeight}%`)]),
  ];
  const blocks: Block[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: cut(`${ICON[entry.kind]} ${entry.title}`, HEADER_MAX),
        emoji: true,
      },
    },
    { type: "section", text: { type: "mrkdwn", text: cut(escape(entry.message), SECTION_MAX) } },
    { type: "section", fields },
  ];
  const evidence = details.evidence ?? [];
  if (evidence.length > 0)
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: cut(`*Evidence*\n${evidenceLines(evidence)}`, SECTION_MAX) },
    });
  if (details.promoteCommand !== undefined)
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*To promote:*\n\`\`\`${escape(details.promoteCommand)}\`\`\``,
      },
    });
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: `Aviary · ${entry.kind} · ${entry.at}` }],
  });
  return {
    text: `${entry.title} (${where})`,
    ...(context.channel === undefined ? {} : { channel: context.channel }),
    username: "Aviary",
    blocks,
  };
}

function versionField(details: NotificationDetails): ReturnType<typeof field>[] {
  const show = (v: NotificationDetails["stable"]) =>
    v === undefined ? undefined : `\`${escape(v.images?.join(", ") ?? v.hash)}\``;
  const from = show(details.stable);
  const to = show(details.canary);
  if (from === undefined && to === undefined) return [];
  if (from === undefined || to === undefined) return [field("Version", from ?? to ?? "")];
  return [field("Version", `${from} → ${to}`)];
}

/** Failing metrics first: they are why the release was rolled back. */
function evidenceLines(metrics: readonly NotifiedMetric[]): string {
  const order = (m: NotifiedMetric) => (m.verdict === "Failed" ? 0 : 1);
  return [...metrics]
    .sort((a, b) => order(a) - order(b))
    .map((m) => {
      const values = [
        m.canary === undefined ? undefined : `canary ${number(m.canary)}`,
        m.stable === undefined ? undefined : `stable ${number(m.stable)}`,
        m.evidence === undefined || m.bound === undefined
          ? undefined
          : `evidence ${number(m.evidence)} ${m.evidence >= m.bound ? "≥" : "<"} bound ${number(m.bound)}`,
      ].filter((v) => v !== undefined);
      const verdict = m.verdict === undefined ? "" : ` (${m.verdict})`;
      return `• *${escape(m.name)}*${verdict}: ${values.join(" vs ").replace(" vs evidence", "; evidence")}${m.message === undefined ? "" : `\n    ${escape(m.message)}`}`;
    })
    .join("\n");
}

function field(title: string, value: string): { type: "mrkdwn"; text: string } {
  return { type: "mrkdwn", text: cut(`*${title}*\n${value}`, FIELD_MAX) };
}

function number(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1e6) return value.toExponential(1);
  return String(Math.round(value * 100) / 100);
}

/** Slack's mrkdwn gives &, < and > a meaning; escaped, a reason can never inject a link. */
function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
