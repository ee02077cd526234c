import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { NotificationConfigError } from "./secret.ts";
import { SlackSender } from "./slack-sender.ts";
import type { SlackMessage } from "./slack-message.ts";
import { exampleRollout, rollbackEntry } from "../../test/fixtures/notifications.ts";
import { script, startReceiver } from "../../test/harness/receiver.ts";

const SOURCE = 'Secret production/slack-webhook key "url"';

function sender(url: string, timeoutMs = 2_000): SlackSender {
  return new SlackSender({
    destinationFor: () => ({ source: SOURCE, url: () => Promise.resolve(url) }),
    clusterName: "eu-west-prod",
    timeoutMs,
  });
}

describe("SlackSender (the official @slack/webhook client, against a local server)", () => {
  test("a 200 is delivered: one JSON post with the Block Kit message to the Rollout's channel", async (t) => {
    const slack = await startReceiver();
    t.after(slack.close);
    assert.deepEqual(await sender(slack.url).send(exampleRollout(), rollbackEntry()), { ok: true });
    assert.equal(slack.posts.length, 1);
    assert.equal(slack.posts[0]?.headers["content-type"], "application/json");
    const body = JSON.parse(slack.posts[0]?.body ?? "{}") as SlackMessage;
    assert.equal(body.channel, "#deploys");
    assert.equal(body.username, "Aviary");
    assert.equal(body.blocks[0]?.type, "header");
  });

  test("a 500 is retried later, a 404 refused for good, a 429 says when to come back", async (t) => {
    const slack = await startReceiver();
    t.after(slack.close);
    slack.respond(
      script(
        { status: 500, body: "internal_error" },
        { status: 404, body: "no_service" },
        { status: 429, headers: { "retry-after": "2" }, body: "rate_limited" },
      ),
    );
    const s = sender(slack.url);
    assert.deepEqual(await s.send(exampleRollout(), rollbackEntry()), {
      ok: false,
      error: "Slack answered 500: internal_error",
      retry: true,
      source: SOURCE,
    });
    assert.deepEqual(await s.send(exampleRollout(), rollbackEntry()), {
      ok: false,
      error: "Slack answered 404: no_service",
      retry: false,
      source: SOURCE,
    });
    assert.deepEqual(await s.send(exampleRollout(), rollbackEntry()), {
      ok: false,
      error: "Slack answered 429: rate_limited",
      retry: true,
      retryAfterMs: 2_000,
      source: SOURCE,
    });
  });

  test("a Slack that does not answer in time is a timeout, retried later", async (t) => {
    const slack = await startReceiver();
    t.after(slack.close);
    slack.respond(() => "hold");
    const attempt = await sender(slack.url, 300).send(exampleRollout(), rollbackEntry());
    assert.equal(attempt.ok, false);
    assert.match(attempt.ok ? "" : attempt.error, /^Slack did not answer within 300 ms$/);
    assert.equal(attempt.ok ? undefined : attempt.retry, true);
  });

  test("an unreachable Slack is retried later, and the error never quotes the URL", async () => {
    const slack = await startReceiver();
    await slack.close();
    const attempt = await sender(slack.url).send(exampleRollout(), rollbackEntry());
    assert.equal(attempt.ok, false);
    const error = attempt.ok ? "" : attempt.error;
    assert.match(error, /^Slack could not be reached: .*ECONNREFUSED/);
    assert.ok(!error.includes("secret-token-1234"), error);
    assert.equal(attempt.ok ? undefined : attempt.retry, true);
  });

  test("a URL that does not parse is reported without quoting it", async () => {
    const bad = "http://[::1/services/T/B/leaky-token";
    const attempt = await sender(bad).send(exampleRollout(), rollbackEntry());
    assert.equal(attempt.ok, false);
    assert.ok(!JSON.stringify(attempt).includes("leaky-token"), JSON.stringify(attempt));
  });

  test("a Secret problem is misconfiguration: reported at once, still retried", async () => {
    const s = new SlackSender({
      destinationFor: () => ({
        source: SOURCE,
        url: () =>
          Promise.reject(
            new NotificationConfigError("Secret production/slack-webhook does not exist"),
          ),
      }),
    });
    assert.deepEqual(await s.send(exampleRollout(), rollbackEntry()), {
      ok: false,
      error: "Secret production/slack-webhook does not exist",
      retry: true,
      misconfigured: true,
      source: SOURCE,
    });
  });
});
