import { pino } from "pino";
import type { Rollout } from "../api/rollout.ts";
import type { Notification } from "../core/plan.ts";
import type { Notifier, NotifyResult } from "./notifier.ts";
import { slackMessage } from "./slack-message.ts";

/** The part of a pino logger the notifier needs. */
export interface WarnLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface SlackNotifierOptions {
  /** The webhook URL for a Rollout: usually `(r) => resolveSlackWebhook(kubeConfig, r)`. */
  webhookFor: (rollout: Rollout) => Promise<string>;
  clusterName?: string | undefined;
  log?: WarnLogger | undefined;
  /** A post that takes longer is given up, so a slow Slack never holds a reconcile. */
  timeoutMs?: number | undefined;
}

/**
 * Posts release events to a Slack incoming webhook.
 * Posting uses fetch rather than the slack-notify package: that package sends only over
 * https.request (no http, so no local test server), ignores the HTTP status and has no
 * timeout, and a notifier must report each of those as a failure.
 */
export class SlackNotifier implements Notifier {
  private readonly log: WarnLogger;
  private readonly timeoutMs: number;

  constructor(private readonly options: SlackNotifierOptions) {
    this.log = options.log ?? pino({ name: "aviary-slack" });
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async notify(rollout: Rollout, notification: Notification): Promise<NotifyResult> {
    const slack = rollout.spec.notifications?.slack;
    if (slack === undefined) return { ok: true, sent: false };
    const message = slackMessage(rollout, notification, {
      channel: slack.channel,
      clusterName: this.options.clusterName,
    });
    const rolloutName = `${rollout.metadata.namespace ?? "default"}/${rollout.metadata.name}`;
    try {
      const url = await this.options.webhookFor(rollout);
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const body = (await response.text()).slice(0, 200);
      if (!response.ok)
        return this.failed(rolloutName, notification, `Slack answered ${response.status}: ${body}`);
      return { ok: true, sent: true };
    } catch (error) {
      return this.failed(rolloutName, notification, describe(error));
    }
  }

  private failed(rollout: string, notification: Notification, error: string): NotifyResult {
    this.log.warn(
      { rollout, notification: notification.id, error },
      "Slack notification not delivered",
    );
    return { ok: false, error };
  }
}

/** fetch says only "fetch failed"; the cause says what happened (refused, DNS, timeout). */
function describe(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError")
    return `Slack did not answer in time (${error.message})`;
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? `: ${cause.message}` : "";
  return `${error instanceof Error ? error.message : String(error)}${detail}`;
}
