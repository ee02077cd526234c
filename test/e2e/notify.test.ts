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
import { SlackNotifier } from "../../src/notify/slack.ts";
import type { SlackMessage } from "../../src/notify/slack-message.ts";
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

const silent = { warn: () => undefined };

describe("Slack webhook from a Secret", () => {
  test("the notifier posts to the URL kept in the Rollout's Secret", async (t) => {
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
    const kc = kubeConfig();
    const notifier = new SlackNotifier({
      webhookFor: (r) => resolveSlackWebhook(kc, r),
      log: silent,
    });

    const result = await notifier.notify(rolloutIn(namespace), {
      id: "promoted-1",
      kind: "promoted",
      severity: "info",
      title: "api-service promoted",
      message: "the new version serves all traffic",
    });

    assert.deepEqual(result, { ok: true, sent: true });
    assert.equal(posts[0]?.channel, "#deploys");
    assert.equal(posts[0]?.attachments[0]?.title, "api-service promoted");
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

  test("a Secret value that is not a URL is an error", async (t) => {
    const namespace = await testNamespace(t, "notify");
    await createSecret(namespace, { url: "xoxb-not-a-webhook" });
    await assert.rejects(
      resolveSlackWebhook(kubeConfig(), rolloutIn(namespace)),
      /key "url" does not hold a URL/,
    );
  });
});
