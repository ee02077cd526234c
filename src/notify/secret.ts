import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Rollout } from "../api/rollout.ts";

/**
 * Reads the Slack webhook URL from the Secret named in spec.notifications.slack.webhookSecretRef.
 * The URL is a credential, so it lives in a Secret in the Rollout's namespace, never in the spec.
 * Throws an Error whose message names the Secret and key and says what to fix.
 */
export async function resolveSlackWebhook(
  kubeConfig: KubeConfig,
  rollout: Rollout,
): Promise<string> {
  const ref = rollout.spec.notifications?.slack?.webhookSecretRef;
  if (ref === undefined) throw new Error("spec.notifications.slack.webhookSecretRef is not set");
  const namespace = rollout.metadata.namespace ?? "default";
  const where = `Secret ${namespace}/${ref.name}`;
  let data: Record<string, string> | undefined;
  try {
    data = (
      await kubeConfig.makeApiClient(CoreV1Api).readNamespacedSecret({ name: ref.name, namespace })
    ).data;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 404)
      throw new Error(
        `${where} (spec.notifications.slack.webhookSecretRef) does not exist: create it with the webhook URL under key "${ref.key}"`,
        { cause: error },
      );
    if (code === 403)
      throw new Error(
        `the controller may not read ${where}: grant it "get" on secrets in ${namespace}`,
        { cause: error },
      );
    throw new Error(
      `cannot read ${where}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const encoded = data?.[ref.key];
  if (encoded === undefined) {
    const keys = Object.keys(data ?? {});
    throw new Error(
      `${where} has no key "${ref.key}" (keys: ${keys.join(", ") || "none"}): put the webhook URL under "${ref.key}" or fix spec.notifications.slack.webhookSecretRef.key`,
    );
  }
  const url = Buffer.from(encoded, "base64").toString("utf8").trim();
  if (!/^https?:\/\/\S+$/.test(url)) {
    throw new Error(
      `${where} key "${ref.key}" does not hold a URL: it should be a Slack webhook such as https://hooks.slack.com/services/...`,
    );
  }
  return url;
}
