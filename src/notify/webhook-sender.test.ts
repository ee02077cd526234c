import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { WebhookSender } from "./webhook-sender.ts";
import { WebhookPayload } from "./webhook-payload.ts";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verify } from "./webhook-signature.ts";
import { exampleRollout, rollbackEntry } from "../../test/fixtures/notifications.ts";
import { startReceiver } from "../../test/harness/receiver.ts";

const KEY = "whsec-test-key-0f3a";

function sender(url: string, signingKey: string | undefined): WebhookSender {
  return new WebhookSender({
    destinationFor: () => ({
      source: 'Secret production/release-hook key "url"',
      url: () => Promise.resolve(url),
      signingKey: () => Promise.resolve(signingKey),
    }),
    clusterName: "eu-west-prod",
  });
}

describe("the generic webhook", () => {
  test("posts the documented payload, and a receiver holding the key verifies the HMAC-SHA256 signature", async (t) => {
    const hook = await startReceiver("/hooks/release");
    t.after(hook.close);
    assert.deepEqual(await sender(hook.url, KEY).send(exampleRollout(), rollbackEntry()), {
      ok: true,
    });

    const post = hook.posts[0];
    const timestamp = String(post?.headers[TIMESTAMP_HEADER]);
    const signature = String(post?.headers[SIGNATURE_HEADER]);
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.equal(
      verify(KEY, timestamp, post?.body ?? "", signature),
      true,
      "the receiver accepts it",
    );
    assert.equal(
      verify("another-key", timestamp, post?.body ?? "", signature),
      false,
      "a wrong key does not verify",
    );
    assert.equal(
      verify(KEY, timestamp, (post?.body ?? "").replace("rolledBack", "promoted"), signature),
      false,
      "a changed body does not verify",
    );

    const payload = WebhookPayload.parse(JSON.parse(post?.body ?? "{}"));
    assert.equal(post?.headers["x-aviary-delivery"], payload.id);
    assert.equal(payload.kind, "rolledBack");
    assert.deepEqual(payload.rollout, {
      namespace: "production",
      name: "api-service",
      uid: "uid-1",
    });
    assert.equal(payload.cluster, "eu-west-prod");
    assert.equal(payload.canaryWeight, 10);
    assert.equal(payload.evidence?.find((m) => m.verdict === "Failed")?.name, "success-rate");
    assert.deepEqual(payload.canary?.images, ["registry.example.com/api-service:1.5.0"]);
  });

  test("without a key the payload is sent unsigned", async (t) => {
    const hook = await startReceiver("/hooks/release");
    t.after(hook.close);
    await sender(hook.url, undefined).send(exampleRollout(), rollbackEntry());
    assert.equal(hook.posts[0]?.headers[SIGNATURE_HEADER], undefined);
  });

  test("answers are judged like Slack's: 503 retried, 410 refused", async (t) => {
    const hook = await startReceiver("/hooks/release");
    t.after(hook.close);
    hook.respond(() => ({ status: 503 }));
    const retried = await sender(hook.url, KEY).send(exampleRollout(), rollbackEntry());
    assert.equal(retried.ok ? undefined : retried.retry, true);
    hook.respond(() => ({ status: 410, body: "gone" }));
    const refused = await sender(hook.url, KEY).send(exampleRollout(), rollbackEntry());
    assert.equal(refused.ok ? undefined : refused.retry, false);
    assert.match(refused.ok ? "" : refused.error, /the webhook answered 410: gone/);
  });
});
