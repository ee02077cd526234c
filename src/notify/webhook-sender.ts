import type { KubeConfig } from "@kubernetes/client-node";
import type { PendingNotification, Rollout } from "../api/rollout.ts";
import type { Attempt } from "../core/outbox-delivery.ts";
import { errorAttempt, httpAttempt } from "./http-outcome.ts";
import { NotificationConfigError, readSecretKey, requireUrl, secretSource } from "./secret.ts";
import {
  DEFAULT_SEND_TIMEOUT_MS,
  rolloutKey,
  type Destination,
  type NotifyDefaultsConfig,
  type Sender,
} from "./sender.ts";
import { webhookPayload } from "./webhook-payload.ts";
import { DELIVERY_HEADER, sign, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./webhook-signature.ts";

export interface WebhookDestination extends Destination {
  /** The HMAC key, or undefined to send unsigned. */
  signingKey(): Promise<string | undefined>;
}

export interface WebhookSenderOptions {
  destinationFor: (rollout: Rollout) => WebhookDestination;
  clusterName?: string | undefined;
  timeoutMs?: number | undefined;
}

const WEBHOOK_EXAMPLE = "the receiver's http(s) URL";

/**
 * POSTs the documented JSON payload to any URL (other chat tools, incident systems, CI),
 * signed when a key is set. Built on fetch: a generic receiver needs nothing beyond an
 * HTTP POST, and fetch reports status, headers (Retry-After) and timeouts as they are.
 */
export class WebhookSender implements Sender {
  private readonly timeoutMs: number;

  constructor(private readonly options: WebhookSenderOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  }

  async send(rollout: Rollout, entry: PendingNotification): Promise<Attempt> {
    const destination = this.options.destinationFor(rollout);
    let url: string | undefined;
    let key: string | undefined;
    try {
      url = await destination.url();
      key = await destination.signingKey();
      const body = JSON.stringify(
        webhookPayload(
          entry,
          { ...rolloutKey(rollout), uid: rollout.metadata.uid },
          this.options.clusterName,
        ),
      );
      const timestamp = String(Math.floor(Date.now() / 1000));
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "aviary",
          [DELIVERY_HEADER]: entry.id,
          [TIMESTAMP_HEADER]: timestamp,
          ...(key === undefined ? {} : { [SIGNATURE_HEADER]: sign(key, timestamp, body) }),
        },
        body,
        redirect: "error",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      return httpAttempt(
        "the webhook",
        response.status,
        text,
        response.headers.get("retry-after"),
        destination.source,
        Date.now(),
      );
    } catch (error) {
      return errorAttempt("the webhook", error, destination.source, [url, key], this.timeoutMs);
    }
  }
}

/**
 * The generic webhook of a Rollout: its own Secrets (spec.notifications.webhook.urlSecretRef,
 * signingSecretRef), else the controller's defaults (AVIARY_WEBHOOK_URL, AVIARY_WEBHOOK_SIGNING_KEY).
 */
export function webhookDestination(
  kubeConfig: KubeConfig,
  defaults: NotifyDefaultsConfig["webhook"],
): (rollout: Rollout) => WebhookDestination {
  return (rollout) => {
    const spec = rollout.spec.notifications?.webhook;
    const namespace = rolloutKey(rollout).namespace;
    const urlRef = spec?.urlSecretRef;
    const signingRef = spec?.signingSecretRef;
    const signingKey = async (): Promise<string | undefined> => {
      if (signingRef === undefined) return defaults?.signingKey;
      const key = await readSecretKey(
        kubeConfig,
        rollout,
        signingRef,
        "spec.notifications.webhook.signingSecretRef",
        "HMAC signing key",
      );
      if (key === "")
        throw new NotificationConfigError(
          `${secretSource(namespace, signingRef)} is empty: put the signing key there`,
        );
      return key;
    };
    if (urlRef !== undefined) {
      const source = secretSource(namespace, urlRef);
      return {
        source,
        signingKey,
        url: async () =>
          requireUrl(
            await readSecretKey(
              kubeConfig,
              rollout,
              urlRef,
              "spec.notifications.webhook.urlSecretRef",
              "webhook URL",
            ),
            source,
            WEBHOOK_EXAMPLE,
          ),
      };
    }
    const fallback = defaults?.url;
    const source = "the controller's AVIARY_WEBHOOK_URL";
    return {
      source,
      signingKey,
      url: () =>
        fallback === undefined
          ? Promise.reject(
              new NotificationConfigError(
                "no webhook URL: set spec.notifications.webhook.urlSecretRef, or give the controller AVIARY_WEBHOOK_URL",
              ),
            )
          : Promise.resolve(requireUrl(fallback, source, WEBHOOK_EXAMPLE)),
    };
  };
}
