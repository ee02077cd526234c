import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { KubernetesObjectApi } from "@kubernetes/client-node";
import { parseRolloutText } from "../../src/api/load.ts";
import type { Rollout } from "../../src/api/rollout.ts";
import { resolveSlackWebhook } from "../../src/notify/secret.ts";
import { slackDestination, SlackSender } from "../../src/notify/slack-sender.ts";
import type { SlackMessage } from "../../src/notify/slack-message.ts";
import { rollbackEntry } from "../fixtures/notifications.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { REPO_ROOT } from "../harness/testenv.ts";

function rolloutIn(namespace: string): Rollout {
  const parsed = parseRolloutText(
    readFileSync(join(REPO_ROOT, "examples/istio-canary.yaml"), "utf8"),
  );
  assert.ok(parsed.ok);
  return { ...parsed.rollout, metadata: { ...parsed.rollout.metadata, namespace } };
}

async function createSecret(namespace: string, data: Record<string, string>): Promise<void> {
  const secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "slack-webhook", namespace },
    stringData: data,
  };
  await KubernetesObjectApi.makeApiClient(kubeConfig()).create(secret);
}

describe("Slack webhook from a Secret", () => {
  test("the Slack sender posts to the URL kept in the Rollout's Secret", async (t) => {
    const namespace = await testNamespace(t, "notify");
    const posts: SlackMessage[] = [];
    const server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        posts.push(JSON.parse(body) as SlackMessage);
        response.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => server.close());
    const { port } = server.address() as AddressInfo;
    await createSecret(namespace, { url: `http://127.0.0.1:${port}/services/T/B/X` });
    const sender = new SlackSender({ destinationFor: slackDestination(kubeConfig(), undefined) });

    const result = await sender.send(rolloutIn(namespace), rollbackEntry());

    assert.deepEqual(result, { ok: true });
    assert.equal(posts[0]?.channel, "#deploys");
    assert.match(JSON.stringify(posts[0]?.blocks[0]), /api-service rolled back/);
  });

  test("a missing Secret or key is an error naming the Secret and the key", async (t) => {
    const namespace = await testNamespace(t, "notify");
    const kc = kubeConfig();
    const rollout = rolloutIn(namespace);

    await assert.rejects(resolveSlackWebhook(kc, rollout), {
      message: `Secret ${namespace}/slack-webhook (spec.notifications.slack.webhookSecretRef) does not exist: create it with the webhook URL under key "url"`,
    });

    await createSecret(namespace, { webhook: "https://hooks.slack.com/services/T/B/X" });
    await assert.rejects(resolveSlackWebhook(kc, rollout), {
      message: `Secret ${namespace}/slack-webhook has no key "url" (keys: webhook): put the webhook URL under "url" or fix spec.notifications.slack.webhookSecretRef.key`,
    });
  });

  test("a missing Secret reaches the sender's outcome as misconfiguration naming Secret and key", async (t) => {
    const namespace = await testNamespace(t, "notify");
    const sender = new SlackSender({ destinationFor: slackDestination(kubeConfig(), undefined) });
    const result = await sender.send(rolloutIn(namespace), rollbackEntry());
    assert.deepEqual(result, {
      ok: false,
      error: `Secret ${namespace}/slack-webhook (spec.notifications.slack.webhookSecretRef) does not exist: create it with the webhook URL under key "url"`,
      retry: true,
      misconfigured: true,
      source: `Secret ${namespace}/slack-webhook key "url"`,
    });
  });

  test("a Secret value that is not a URL is an error", async (t) => {
    const namespace = await testNamespace(t, "notify");
    await createSecret(namespace, { url: "xoxb-not-a-webhook" });
    await assert.rejects(
      resolveSlackWebhook(kubeConfig(), rolloutIn(namespace)),
      /key "url" does not hold a URL/,
    );
  });
});
