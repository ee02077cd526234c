import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { controllerLogger } from "../../src/main.ts";
import type { NotificationKind } from "../../src/api/rollout.ts";
import type { SlackMessage } from "../../src/notify/slack-message.ts";
import { kubeConfig } from "../harness/env.ts";
import type { Post, Receiver } from "../harness/receiver.ts";

/** Helpers for the notification e2e tests: Secrets, what Slack received, and leak checks. */

export async function createSecret(
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<void> {
  await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace },
    stringData: data,
  });
}

/** Creates the Secret anew with this data (deleting the old one first, if any). */
export async function putSecret(
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<void> {
  await kubeConfig()
    .makeApiClient(CoreV1Api)
    .deleteNamespacedSecret({ name, namespace })
    .catch(() => undefined);
  await createSecret(namespace, name, data);
}

export const slackSettings = (on?: NotificationKind[]) => ({
  slack: {
    webhookSecretRef: { name: "slack-webhook", key: "url" },
    channel: "#deploys",
    ...(on === undefined ? {} : { on }),
  },
});

/** The controller's own logger (with its redaction), writing JSON lines into memory. */
export function capturedLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _encoding, done) => done(void lines.push(chunk.toString())),
  });
  return { log: controllerLogger("debug", sink), lines };
}

export function slackBody(post: Post): SlackMessage {
  return JSON.parse(post.body) as SlackMessage;
}

/** The header of each message Slack accepted, in order: what people saw in the channel. */
export function headers(slack: Receiver): string[] {
  return slack.accepted().map((post) => {
    const header = slackBody(post).blocks[0] as { text?: { text?: string } } | undefined;
    return header?.text?.text ?? "";
  });
}

export async function namespaceEvents(namespace: string): Promise<string[]> {
  const list = await kubeConfig().makeApiClient(CoreV1Api).listNamespacedEvent({ namespace });
  return list.items.map((e) => `${e.type ?? ""} ${e.reason ?? ""}: ${e.message ?? ""}`);
}

export async function rolloutJson(namespace: string, name = "api"): Promise<string> {
  const object: unknown = await kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({
      group: "aviary.dev",
      version: "v1alpha1",
      plural: "rollouts",
      namespace,
      name,
    });
  return JSON.stringify(object);
}

/**
 * The URL of a webhook Secret (and any signing key) appears nowhere a person or another
 * program could read it: not in the controller's logs, the Rollout (status included),
 * nor the namespace's Events. Checks the whole URL and its secret path alone.
 */
export async function assertNoLeak(
  namespace: string,
  logLines: readonly string[],
  secrets: readonly string[],
): Promise<void> {
  assert.ok(
    logLines.some((line) => line.includes('"component":"notify"')),
    "the controller logged its deliveries",
  );
  const places: [string, string][] = [
    ["the controller's logs", logLines.join("\n")],
    ["the Rollout", await rolloutJson(namespace)],
    ["the Events", (await namespaceEvents(namespace)).join("\n")],
  ];
  const needles = secrets.flatMap((s) => {
    try {
      return [s, new URL(s).pathname];
    } catch {
      return [s];
    }
  });
  for (const [where, text] of places)
    for (const needle of needles)
      assert.ok(!text.includes(needle), `${where} contain a secret (${needle.slice(0, 12)}…)`);
}
