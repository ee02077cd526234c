import type { KubeConfig } from "@kubernetes/client-node";
import {
  IncomingWebhook,
  IncomingWebhookHTTPError,
  IncomingWebhookRequestError,
  type FetchFunction,
} from "@slack/webhook";
import type { PendingNotification, Rollout } from "../api/rollout.ts";
import type { Attempt } from "../core/outbox-delivery.ts";
import { errorAttempt, httpAttempt } from "./http-outcome.ts";
import {
  NotificationConfigError,
  requireUrl,
  resolveSlackWebhook,
  secretSource,
  SLACK_EXAMPLE,
} from "./secret.ts";
import {
  DEFAULT_SEND_TIMEOUT_MS,
  rolloutKey,
  type Destination,
  type NotifyDefaultsConfig,
  type Sender,
} from "./sender.ts";
import { slackMessage } from "./slack-message.ts";

export interface SlackSenderOptions {
  /** Where a Rollout's webhook URL comes from; see slackDestination(). */
  destinationFor: (rollout: Rollout) => Destination;
  /** The channel when the Rollout names none (AVIARY_SLACK_CHANNEL). */
  defaultChannel?: string | undefined;
  clusterName?: string | undefined;
  /** A post that takes longer is abandoned and retried later. */
  timeoutMs?: number | undefined;
}

/**
 * Posts to a Slack incoming webhook with the official @slack/webhook client. It serves:
 * it posts through fetch (so plain http reaches a local test server), reports the HTTP
 * status and body of a failure, and aborts after `timeout`. Two things it does not give,
 * which the outbox needs: the Retry-After header of a 429 (read here through the client's
 * `fetch` option), and retries that survive a restart (its own retries are turned off;
 * the outbox schedules them through status).
 */
export class SlackSender implements Sender {
  private readonly timeoutMs: number;

  constructor(private readonly options: SlackSenderOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  }

  async send(rollout: Rollout, entry: PendingNotification): Promise<Attempt> {
    const destination = this.options.destinationFor(rollout);
    let url: string | undefined;
    try {
      url = await destination.url();
      let retryAfter: string | null = null;
      const capture: FetchFunction = async (input, init) => {
        const response = await fetch(input, init);
        retryAfter = response.headers.get("retry-after");
        return response;
      };
      const webhook = new IncomingWebhook(url, {
        timeout: this.timeoutMs,
        fetch: capture,
        retryConfig: { retries: 0 },
      });
      const channel = rollout.spec.notifications?.slack?.channel ?? this.options.defaultChannel;
      const message = slackMessage(entry, {
        ...rolloutKey(rollout),
        channel,
        clusterName: this.options.clusterName,
      });
      try {
        await webhook.send(message);
        return { ok: true };
      } catch (error) {
        if (error instanceof IncomingWebhookHTTPError)
          return httpAttempt(
            "Slack",
            error.statusCode,
            error.body,
            retryAfter,
            destination.source,
            Date.now(),
          );
        throw error instanceof IncomingWebhookRequestError ? error.original : error;
      }
    } catch (error) {
      return errorAttempt("Slack", error, destination.source, [url], this.timeoutMs);
    }
  }
}

/**
 * The Slack webhook of a Rollout: its own Secret (spec.notifications.slack.webhookSecretRef),
 * else the controller's default (AVIARY_SLACK_WEBHOOK_URL).
 */
export function slackDestination(
  kubeConfig: KubeConfig,
  defaults: NotifyDefaultsConfig["slack"],
): (rollout: Rollout) => Destination {
  return (rollout) => {
    const ref = rollout.spec.notifications?.slack?.webhookSecretRef;
    if (ref !== undefined)
      return {
        source: secretSource(rolloutKey(rollout).namespace, ref),
        url: () => resolveSlackWebhook(kubeConfig, rollout),
      };
    const fallback = defaults?.webhookUrl;
    const source = "the controller's AVIARY_SLACK_WEBHOOK_URL";
    return {
      source,
      url: () =>
        fallback === undefined
          ? Promise.reject(
              new NotificationConfigError(
                "no Slack webhook: set spec.notifications.slack.webhookSecretRef, or give the controller AVIARY_SLACK_WEBHOOK_URL",
              ),
            )
          : Promise.resolve(requireUrl(fallback, source, SLACK_EXAMPLE)),
    };
  };
}
