import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Rollout } from "../api/rollout.ts";

export interface SecretKeyRef {
  name: string;
  key: string;
}

/**
 * A notification target whose settings are wrong (a Secret missing, a key absent, a
 * value that is not a URL). Its message names the Secret, the key and the spec field,
 * and says what to fix; it never contains the Secret's value.
 */
export class NotificationConfigError extends Error {
  override readonly name = "NotificationConfigError";
}

/** How a Secret reference is named in messages: `Secret prod/slack-webhook key "url"`. */
export function secretSource(namespace: string, ref: SecretKeyRef): string {
  return `Secret ${namespace}/${ref.name} key "${ref.key}"`;
}

/**
 * Reads one key of a Secret in the Rollout's namespace. Credentials live in Secrets,
 * never in the spec; each read goes to the API server, so a fixed or rotated Secret is
 * used at the next attempt. Throws NotificationConfigError for anything a person must fix.
 */
export async function readSecretKey(
  kubeConfig: KubeConfig,
  rollout: Rollout,
  ref: SecretKeyRef,
  field: string,
  what: string,
): Promise<string> {
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
      throw new NotificationConfigError(
        `${where} (${field}) does not exist: create it with the ${what} under key "${ref.key}"`,
        { cause: error },
      );
    if (code === 403)
      throw new NotificationConfigError(
        `the controller may not read ${where} (${field}): grant it "get" on secrets in ${namespace}`,
        { cause: error },
      );
    throw new Error(
      `cannot read ${where}: ${typeof code === "number" ? `the API server answered ${code}` : error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const encoded = data?.[ref.key];
  if (encoded === undefined) {
    const keys = Object.keys(data ?? {});
    throw new NotificationConfigError(
      `${where} has no key "${ref.key}" (keys: ${keys.join(", ") || "none"}): put the ${what} under "${ref.key}" or fix ${field}.key`,
    );
  }
  return Buffer.from(encoded, "base64").toString("utf8").trim();
}

/** Checks that a value read from a Secret is an http(s) URL, without ever quoting it. */
export function requireUrl(value: string, source: string, example: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    /\s/.test(value)
  )
    throw new NotificationConfigError(`${source} does not hold a URL: it should be ${example}`);
  return value;
}

const SLACK_EXAMPLE = "a Slack webhook such as https://hooks.slack.com/services/...";

/**
 * Reads the Slack webhook URL from the Secret named in spec.notifications.slack.webhookSecretRef.
 * Throws a NotificationConfigError whose message names the Secret and key and says what to fix.
 */
export async function resolveSlackWebhook(
  kubeConfig: KubeConfig,
  rollout: Rollout,
): Promise<string> {
  const ref = rollout.spec.notifications?.slack?.webhookSecretRef;
  if (ref === undefined)
    throw new NotificationConfigError("spec.notifications.slack.webhookSecretRef is not set");
  const value = await readSecretKey(
    kubeConfig,
    rollout,
    ref,
    "spec.notifications.slack.webhookSecretRef",
    "webhook URL",
  );
  return requireUrl(
    value,
    secretSource(rollout.metadata.namespace ?? "default", ref),
    SLACK_EXAMPLE,
  );
}

export { SLACK_EXAMPLE };
