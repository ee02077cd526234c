import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { slackMessage } from "./slack-message.ts";
import { pausedEntry, rollbackEntry } from "../../test/fixtures/notifications.ts";

const context = {
  namespace: "production",
  name: "api-service",
  channel: "#deploys",
  clusterName: "eu-west-prod",
};

function texts(message: ReturnType<typeof slackMessage>): string {
  return JSON.stringify(message.blocks);
}

describe("Slack messages (Block Kit)", () => {
  test("a rollback names rollout, namespace, cluster, old -> new image, step and weight, and the evidence", () => {
    const message = slackMessage(rollbackEntry(), context);
    assert.equal(message.text, "api-service rolled back (production/api-service on eu-west-prod)");
    assert.equal(message.channel, "#deploys");
    const [header, reason, facts, evidence] = message.blocks as {
      type: string;
      text?: { text: string };
      fields?: { text: string }[];
    }[];
    assert.equal(header?.type, "header");
    assert.match(header?.text?.text ?? "", /rolled back/);
    assert.match(reason?.text?.text ?? "", /success 94\.6% vs stable 99\.6%/);
    assert.deepEqual(
      facts?.fields?.map((f) => f.text),
      [
        "*Rollout*\n`production/api-service`",
        "*Cluster*\neu-west-prod",
        "*Version*\n`registry.example.com/api-service:1.4.2` → `registry.example.com/api-service:1.5.0`",
        "*Step*\n3/8 (setWeight 10)",
        "*Canary weight*\n10%",
      ],
    );
    const lines = evidence?.text?.text.split("\n") ?? [];
    assert.equal(lines[0], "*Evidence*");
    assert.equal(
      lines[1],
      "• *success-rate* (Failed): canary 94.6 vs stable 99.6; evidence 212 ≥ bound 100",
      "the failing metric first, with the bound it crossed",
    );
    assert.match(
      lines.slice(2).join("\n"),
      /p99-latency.*canary 236 vs stable 242; evidence 1 < bound 100/,
    );
  });

  test("a pause gives the exact command to promote", () => {
    const message = slackMessage(pausedEntry(), { namespace: "production", name: "api-service" });
    assert.match(
      texts(message),
      /\*To promote:\*\\n```aviary promote api-service -n production```/,
    );
    assert.equal(message.channel, undefined, "no channel: the webhook's own");
    assert.match(
      texts(message),
      /\*Version\*\\n`5d8f7c9b4` → `6c7b9f8d5`/,
      "hashes when images are unknown",
    );
  });

  test("text from status is escaped, so a reason cannot inject a link or a mention", () => {
    const entry = {
      ...rollbackEntry(),
      message: "<!channel> see <https://evil.example|here> & more",
    };
    assert.match(
      texts(slackMessage(entry, context)),
      /&lt;!channel&gt; see &lt;https:\/\/evil.example\|here&gt; &amp; more/,
    );
  });
});
