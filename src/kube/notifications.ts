import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { DEFAULT_RETRY_POLICY } from "../core/outbox-delivery.ts";
import type { NotifyDefaults } from "../core/plan.ts";
import { NotificationDelivery, type OutboxStore } from "../notify/delivery.ts";
import { REDACT_PATHS } from "../notify/redaction.ts";
import type { NotifyDefaultsConfig } from "../notify/sender.ts";
import { slackDestination, SlackSender } from "../notify/slack-sender.ts";
import { webhookDestination, WebhookSender } from "../notify/webhook-sender.ts";

/** The controller's notification settings: defaults for Rollouts without their own, and retries. */
export interface ControllerNotifyOptions extends NotifyDefaultsConfig {
  /** Retries stop this long after a delivery first failed (default 1 h). */
  giveUpAfterMs?: number | undefined;
  initialBackoffMs?: number | undefined;
  maxBackoffMs?: number | undefined;
  /** One post that takes longer is abandoned and retried (default 10 s). */
  timeoutMs?: number | undefined;
}

/** Which targets have a controller-wide default URL (decide() records notifications for them). */
export function notifyDefaultsOf(options: ControllerNotifyOptions): NotifyDefaults {
  return {
    slack: options.slack?.webhookUrl !== undefined,
    webhook: options.webhook?.url !== undefined,
  };
}

/** Slack and webhook senders reading Secrets of the Rollout's namespace, driven by the outbox. */
export function notificationDelivery(input: {
  kubeConfig: KubeConfig;
  store: OutboxStore;
  options: ControllerNotifyOptions;
  clusterName: string | undefined;
  log: Logger;
}): NotificationDelivery {
  const { kubeConfig, options, clusterName } = input;
  return new NotificationDelivery({
    store: input.store,
    senders: {
      slack: new SlackSender({
        destinationFor: slackDestination(kubeConfig, options.slack),
        defaultChannel: options.slack?.channel,
        clusterName,
        timeoutMs: options.timeoutMs,
      }),
      webhook: new WebhookSender({
        destinationFor: webhookDestination(kubeConfig, options.webhook),
        clusterName,
        timeoutMs: options.timeoutMs,
      }),
    },
    defaults: notifyDefaultsOf(options),
    policy: {
      initialBackoffMs: options.initialBackoffMs ?? DEFAULT_RETRY_POLICY.initialBackoffMs,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULT_RETRY_POLICY.maxBackoffMs,
      giveUpAfterMs: options.giveUpAfterMs ?? DEFAULT_RETRY_POLICY.giveUpAfterMs,
    },
    log: input.log.child({ component: "notify" }, { redact: REDACT_PATHS }),
  });
}
