import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { slackMessage } from "../../src/notify/slack-message.ts";
import { WebhookPayload } from "../../src/notify/webhook-payload.ts";
import { rollbackEntry } from "../fixtures/notifications.ts";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The text after a marker comment, up to the next heading. */
function after(marker: string): string {
  const start = README.indexOf(`<!-- ${marker}`);
  assert.ok(start >= 0, `README has the ${marker} marker`);
  return README.slice(start);
}

test("the README's sample Slack message is exactly what Aviary sends for that rollback", () => {
  const block = /```json\n([\s\S]*?)\n```/.exec(after("sample-slack-message"))?.[1];
  assert.ok(block !== undefined);
  assert.deepEqual(
    JSON.parse(block),
    JSON.parse(
      JSON.stringify(
        slackMessage(rollbackEntry(), {
          namespace: "production",
          name: "api-service",
          channel: "#deploys",
          clusterName: "eu-west-prod",
        }),
      ),
    ),
  );
});

test("the README lists every field of the generic webhook payload", () => {
  const table = after("webhook-payload-fields").split("\n\n")[1] ?? "";
  for (const field of Object.keys(WebhookPayload.shape))
    assert.match(table, new RegExp(`\`${field}(\\[\\])?\``), `${field} is documented`);
});
