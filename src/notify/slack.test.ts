import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseRolloutText } from "../api/load.ts";
import type { Rollout } from "../api/rollout.ts";
import type { Notification } from "../core/plan.ts";
import { SlackNotifier, type WarnLogger } from "./slack.ts";
import { SLACK_COLORS, type SlackMessage } from "./slack-message.ts";

/** A stand-in for Slack on 127.0.0.1 that records each post and answers with `status`. */
async function fakeSlack(status = 200): Promise<{
  url: string;
  posts: { contentType: string; body: SlackMessage }[];
  close: () => Promise<void>;
}> {
  const posts: { contentType: string; body: SlackMessage }[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      posts.push({
        contentType: request.headers["content-type"] ?? "",
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as SlackMessage,
      });
      response
        .writeHead(status, { "content-type": "text/plain" })
        .end(status === 200 ? "ok" : "internal_error");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/XXX`,
    posts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function rollout(): Rollout {
  const parsed = parseRolloutText(
    readFileSync(new URL("../../examples/istio-canary.yaml", import.meta.url), "utf8"),
  );
  assert.ok(parsed.ok);
  return { ...parsed.rollout, status: { stableHash: "5d8f7c9b4", canaryHash: "6c7b9f8d5" } };
}

const promoted: Notification = {
  id: "promoted-6c7b9f8d5",
  kind: "promoted",
  severity: "info",
  title: "api-service promoted",
  message: "6c7b9f8d5 now serves 100% of traffic",
};
const rolledBack: Notification = {
  id: "rolledBack-6c7b9f8d5",
  kind: "rolledBack",
  severity: "error",
  title: "api-service rolled back",
  message: "success-rate: canary errors 4.1x stable's (evidence 212 ≥ 100)",
};

function recordingLog(): WarnLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (details, message) => lines.push(`${message} ${JSON.stringify(details)}`) };
}

describe("SlackNotifier", () => {
  test("a promotion is posted green to the Rollout's channel with cluster, rollout and versions", async (t) => {
    const slack = await fakeSlack();
    t.after(slack.close);
    const notifier = new SlackNotifier({
      webhookFor: () => Promise.resolve(slack.url),
      clusterName: "eu-west-prod",
      log: recordingLog(),
    });

    assert.deepEqual(await notifier.notify(rollout(), promoted), { ok: true, sent: true });

    assert.equal(slack.posts.length, 1);
    const post = slack.posts[0];
    assert.equal(post?.contentType, "application/json");
    assert.equal(post?.body.channel, "#deploys");
    assert.equal(post?.body.text, "api-service promoted (production/api-service)");
    const attachment = post?.body.attachments[0];
    assert.equal(attachment?.color, SLACK_COLORS.good);
    assert.equal(attachment?.title, "api-service promoted");
    assert.equal(attachment?.text, "6c7b9f8d5 now serves 100% of traffic");
    assert.deepEqual(
      attachment?.fields.map((f) => [f.title, f.value]),
      [
        ["Cluster", "eu-west-prod"],
        ["Rollout", "production/api-service"],
        ["Stable version", "5d8f7c9b4"],
        ["New version", "6c7b9f8d5"],
      ],
    );
  });

  test("a rollback is posted red with the reason", async (t) => {
    const slack = await fakeSlack();
    t.after(slack.close);
    const notifier = new SlackNotifier({
      webhookFor: () => Promise.resolve(slack.url),
      log: recordingLog(),
    });

    assert.deepEqual(await notifier.notify(rollout(), rolledBack), { ok: true, sent: true });

    const attachment = slack.posts[0]?.body.attachments[0];
    assert.equal(attachment?.color, SLACK_COLORS.danger);
    assert.equal(attachment?.title, "api-service rolled back");
    assert.match(attachment?.text ?? "", /canary errors 4\.1x stable's/);
    assert.equal(
      attachment?.fields.some((f) => f.title === "Cluster"),
      false,
    );
  });

  test("a warning is orange", async (t) => {
    const slack = await fakeSlack();
    t.after(slack.close);
    const notifier = new SlackNotifier({
      webhookFor: () => Promise.resolve(slack.url),
      log: recordingLog(),
    });
    await notifier.notify(rollout(), {
      id: "p",
      kind: "paused",
      severity: "warn",
      title: "paused",
      message: "no traffic",
    });
    assert.equal(slack.posts[0]?.body.attachments[0]?.color, SLACK_COLORS.warning);
  });

  test("a webhook answering 500 gives a logged failure, not an exception", async (t) => {
    const slack = await fakeSlack(500);
    t.after(slack.close);
    const log = recordingLog();
    const notifier = new SlackNotifier({ webhookFor: () => Promise.resolve(slack.url), log });

    const result = await notifier.notify(rollout(), rolledBack);

    assert.equal(result.ok, false);
    assert.match(result.ok ? "" : result.error, /Slack answered 500: internal_error/);
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0] ?? "", /not delivered.*production\/api-service/);
  });

  test("an unreachable webhook gives a failure, not an exception", async () => {
    const slack = await fakeSlack();
    await slack.close(); // nothing listens on this port any more
    const log = recordingLog();
    const notifier = new SlackNotifier({ webhookFor: () => Promise.resolve(slack.url), log });

    const result = await notifier.notify(rollout(), promoted);

    assert.equal(result.ok, false);
    assert.match(result.ok ? "" : result.error, /ECONNREFUSED/);
    assert.equal(log.lines.length, 1);
  });

  test("a webhook Secret that cannot be read gives a failure naming it", async () => {
    const notifier = new SlackNotifier({
      webhookFor: () => Promise.reject(new Error("Secret production/slack-webhook does not exist")),
      log: recordingLog(),
    });
    const result = await notifier.notify(rollout(), promoted);
    assert.deepEqual(result, {
      ok: false,
      error: "Secret production/slack-webhook does not exist",
    });
  });

  test("a Rollout without Slack settings is skipped", async () => {
    const withoutSlack: Rollout = {
      ...rollout(),
      spec: { ...rollout().spec, notifications: undefined },
    };
    const notifier = new SlackNotifier({
      webhookFor: () => Promise.reject(new Error("must not be called")),
      log: recordingLog(),
    });
    assert.deepEqual(await notifier.notify(withoutSlack, promoted), { ok: true, sent: false });
  });
});
