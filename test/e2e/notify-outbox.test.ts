import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { Notifications, RolloutInput, RolloutStatus } from "../../src/api/rollout.ts";

type StepInput = NonNullable<
  NonNullable<RolloutInput["spec"]["strategy"]["canary"]>["steps"]
>[number];
import { WebhookPayload } from "../../src/notify/webhook-payload.ts";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verify } from "../../src/notify/webhook-signature.ts";
import { kubeconfigPath, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { OK, script, startReceiver, type Receiver } from "../harness/receiver.ts";
import { REPO_ROOT } from "../harness/testenv.ts";
import {
  controller,
  createRollout,
  createServices,
  setImage,
  status,
  untilStatus,
} from "./controller-fixtures.ts";
import { healthyStable, startRelease, weights } from "./analysis-fixtures.ts";
import {
  assertNoLeak,
  capturedLog,
  createSecret,
  headers,
  namespaceEvents,
  putSecret,
  slackBody,
  slackSettings,
} from "./notify-fixtures.ts";

/**
 * The notification outbox on a real API server, with a local HTTP server standing in for
 * Slack (and for a generic webhook receiver). Each test checks what a person would: what
 * reached the channel, what the Rollout's status and Events say, and that no webhook URL
 * leaked anywhere.
 */

const STEPS_TO_PROMOTE: StepInput[] = [{ setWeight: 50 }, { pause: { duration: "1s" } }];

async function receiver(t: TestContext): Promise<Receiver> {
  const r = await startReceiver();
  t.after(r.close);
  return r;
}

/** v1 Healthy behind two Services, with the controller running; Slack configured by `notifications`. */
async function healthy(
  t: TestContext,
  notifications: Notifications,
  steps: StepInput[] = STEPS_TO_PROMOTE,
): Promise<{ ns: string; lines: string[] }> {
  const ns = await testNamespace(t, "out");
  await createServices(ns, ["api-stable", "api-canary"]);
  await createRollout(
    ns,
    {
      replicas: 2,
      strategy: { canary: { stableService: "api-stable", canaryService: "api-canary", steps } },
      notifications,
    },
    "api:1",
  );
  const { log, lines } = capturedLog();
  await controller(t, ns, {
    log,
    resyncMs: 2_000,
    notifications: { initialBackoffMs: 400, maxBackoffMs: 2_000 },
  });
  await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");
  return { ns, lines };
}

const outboxEmpty = (s: RolloutStatus) => (s.notifications?.pending ?? []).length === 0;
const condition = (s: RolloutStatus) => s.conditions?.find((c) => c.type === "NotificationFailed");

function runCli(command: string): Promise<number | null> {
  const [, ...args] = command.split(" ");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, KUBECONFIG: kubeconfigPath() },
      stdio: "ignore",
    });
    child.on("error", reject);
    child.on("close", resolve);
  });
}

describe("notifications through the outbox", { timeout: 600_000 }, () => {
  test("a rolled-back release posts one rollback message with the evidence (controller-wide default webhook)", async (t) => {
    const slack = await receiver(t);
    const { log, lines } = capturedLog();
    const release = await healthyStable(t, {
      mesh: "istio",
      requestsPerSecond: 200,
      controller: {
        log,
        clusterName: "e2e-cluster",
        notifications: { slack: { webhookUrl: slack.url, channel: "#releases" } },
      },
    });
    const ns = release.namespace;
    const canaryHash = await startRelease(release);
    await eventually(
      "the canary receives traffic",
      () => weights(ns, "istio"),
      (w) => (w[1] ?? 0) > 0,
      undefined,
      60_000,
    );
    release.sim.setBehaviour(canaryHash, { errorRate: 0.05 });
    const rolledBack = await untilStatus(
      ns,
      "rolled back and told",
      (s) =>
        s.phase === "Degraded" &&
        (s.notifications?.sent ?? []).some((id) => id.includes(":rolledBack:")),
    );

    const rollbacks = slack.accepted().filter((p) => slackBody(p).text.includes("rolled back"));
    assert.equal(rollbacks.length, 1, "one rollback message");
    const message = rollbacks[0] === undefined ? undefined : slackBody(rollbacks[0]);
    assert.equal(message?.channel, "#releases");
    const blocks = JSON.stringify(message?.blocks);
    assert.match(blocks, /\*Evidence\*/);
    assert.match(
      blocks,
      /\*success-rate\* \(Failed\): canary \d+(\.\d+)? vs stable \d+(\.\d+)?; evidence [\d.e+]+ ≥ bound \d+/,
      "canary vs stable values and the bound crossed",
    );
    assert.match(blocks, /`api:1` → `api:2`/);
    assert.match(blocks, /\*Canary weight\*\\n\d+%/);
    assert.equal(rolledBack.stableHash, release.stableHash);
    await assertNoLeak(ns, lines, [slack.url]);
  });

  test("a promoted release posts started, paused (with the exact promote command), promoted: each once", async (t) => {
    const slack = await receiver(t);
    const steps = [{ setWeight: 50 }, { pause: {} }];
    const ns = await testNamespace(t, "out");
    await createSecret(ns, "slack-webhook", { url: slack.url });
    await createServices(ns, ["api-stable", "api-canary"]);
    await createRollout(
      ns,
      {
        replicas: 2,
        strategy: { canary: { stableService: "api-stable", canaryService: "api-canary", steps } },
        notifications: slackSettings(),
      },
      "api:1",
    );
    const { log, lines } = capturedLog();
    await controller(t, ns, { log, resyncMs: 2_000, clusterName: "e2e-cluster" });
    await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");

    await setImage(ns, "api:2");
    await untilStatus(ns, "paused for promotion", (s) => s.phase === "Paused");
    const paused = await eventually(
      "Slack has the pause",
      () => Promise.resolve(headers(slack)),
      (h) => h.length >= 2,
    );
    const pausePost = slack.accepted()[1];
    assert.ok(pausePost !== undefined);
    const pauseMessage = JSON.stringify(slackBody(pausePost).blocks);
    const command = /```(aviary promote [^`]+)```/.exec(pauseMessage)?.[1];
    assert.equal(command, `aviary promote api -n ${ns}`, paused.join(" | "));
    // The command in the message is the one that works.
    assert.equal(await runCli(command), 0);

    await untilStatus(
      ns,
      "v2 promoted",
      (s) => s.phase === "Healthy" && s.canaryHash === undefined,
    );
    const done = await untilStatus(
      ns,
      "outbox empty",
      (s) => outboxEmpty(s) && (s.notifications?.sent ?? []).length === 3,
    );
    assert.deepEqual(
      headers(slack).map((h) => h.replace(/^:[a-z_]+: /, "")),
      ["Release of api started", "api is paused", "api promoted"],
    );
    assert.equal(slack.posts.length, 3, "no post was repeated");
    const firstPost = slack.accepted()[0];
    assert.ok(firstPost !== undefined);
    const first = slackBody(firstPost);
    assert.equal(first.channel, "#deploys");
    assert.match(first.text, new RegExp(`\\(${ns}/api on e2e-cluster\\)`));
    assert.match(JSON.stringify(first.blocks), /`api:1` → `api:2`/, "old -> new image");
    assert.equal(done.notifications?.sent?.length, 3);
    await assertNoLeak(ns, lines, [slack.url]);
  });

  test("Slack answering 500 three times, then 200: delivered once, after backoff", async (t) => {
    const slack = await receiver(t);
    slack.respond(
      script({ status: 500 }, { status: 500 }, { status: 500 }, { status: 200, body: "ok" }),
    );
    const { ns, lines } = await healthy(t, slackSettings(["started"]));
    await createSecret(ns, "slack-webhook", { url: slack.url });

    await setImage(ns, "api:2");
    const retrying = await untilStatus(
      ns,
      "a retry is scheduled in status",
      (s) => (s.notifications?.pending?.[0]?.deliveries[0]?.attempts ?? 0) >= 1,
    );
    assert.equal(
      retrying.notifications?.pending?.[0]?.deliveries[0]?.lastError,
      "Slack answered 500",
    );
    const promoted = await untilStatus(
      ns,
      "v2 promoted",
      (s) => s.phase === "Healthy" && s.canaryHash === undefined,
    );
    await untilStatus(
      ns,
      "the start is sent",
      (s) => outboxEmpty(s) && (s.notifications?.sent ?? []).length === 1,
    );
    assert.equal(slack.posts.length, 4);
    assert.equal(slack.accepted().length, 1, "delivered once");
    const gaps = slack.posts.slice(1).map((p, i) => p.at - (slack.posts[i]?.at ?? 0));
    gaps.forEach((gap, i) => assert.ok(gap >= 200 * 2 ** i, `backoff ${i + 1}: ${gap} ms`));
    assert.equal(promoted.phase, "Healthy");
    await assertNoLeak(ns, lines, [slack.url]);
  });

  test("429 with Retry-After: 2 — the next try comes no sooner than 2 s later", async (t) => {
    const slack = await receiver(t);
    slack.respond(
      script(
        { status: 429, headers: { "retry-after": "2" }, body: "rate_limited" },
        { status: 200 },
      ),
    );
    const { ns, lines } = await healthy(t, slackSettings(["started"]));
    await createSecret(ns, "slack-webhook", { url: slack.url });
    await setImage(ns, "api:2");
    await untilStatus(ns, "the start is sent", (s) => (s.notifications?.sent ?? []).length === 1);
    assert.equal(slack.posts.length, 2);
    const waited = (slack.posts[1]?.at ?? 0) - (slack.posts[0]?.at ?? 0);
    assert.ok(waited >= 2_000, `retried after ${waited} ms`);
    await assertNoLeak(ns, lines, [slack.url]);
  });

  test("404: NotificationFailed names the Secret and key, an Event says so, the release completes, nothing is retried", async (t) => {
    const slack = await receiver(t);
    slack.respond(() => ({ status: 404, body: "no_service" }));
    const { ns, lines } = await healthy(t, slackSettings());
    await createSecret(ns, "slack-webhook", { url: slack.url });
    await setImage(ns, "api:2");

    const done = await untilStatus(
      ns,
      "v2 promoted and both messages given up",
      (s) =>
        s.phase === "Healthy" &&
        s.canaryHash === undefined &&
        outboxEmpty(s) &&
        (s.notifications?.failed ?? []).length === 2,
    );
    const failed = condition(done);
    assert.equal(failed?.status, "True");
    assert.equal(failed?.reason, "SlackRejected");
    assert.match(failed?.message ?? "", new RegExp(`Secret ${ns}/slack-webhook key "url".*404`));
    const events = await eventually(
      "the Event",
      () => namespaceEvents(ns),
      (e) => e.some((x) => x.includes("NotificationFailed")),
    );
    assert.ok(
      events.some(
        (e) =>
          e.startsWith("Warning NotificationFailed") &&
          e.includes(`Secret ${ns}/slack-webhook key "url"`),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal(slack.posts.length, 2, "started and promoted, one post each: no retry");
    await assertNoLeak(ns, lines, [slack.url]);
  });

  test("Secret problems (missing, wrong key, not a URL) reach status as NotificationFailed naming Secret and key; once fixed, the message is delivered", async (t) => {
    const slack = await receiver(t);
    const { ns, lines } = await healthy(t, slackSettings(["started"]));
    const problem = async (what: string, pattern: RegExp) => {
      const s = await untilStatus(ns, what, (st) => pattern.test(condition(st)?.message ?? ""));
      assert.equal(condition(s)?.status, "True");
      assert.equal(condition(s)?.reason, "SlackMisconfigured");
      await eventually(
        `the Event for ${what}`,
        () => namespaceEvents(ns),
        (e) => e.some((x) => x.startsWith("Warning NotificationFailed") && pattern.test(x)),
      );
    };
    await setImage(ns, "api:2");
    await problem(
      "a missing Secret",
      new RegExp(
        `Secret ${ns}/slack-webhook \\(spec.notifications.slack.webhookSecretRef\\) does not exist: create it with the webhook URL under key "url"`,
      ),
    );
    await putSecret(ns, "slack-webhook", { webhook: slack.url });
    await problem(
      "a wrong key",
      new RegExp(`Secret ${ns}/slack-webhook has no key "url" \\(keys: webhook\\)`),
    );
    await putSecret(ns, "slack-webhook", { url: "xoxb-not-a-webhook" });
    await problem(
      "a value that is not a URL",
      new RegExp(`Secret ${ns}/slack-webhook key "url" does not hold a URL`),
    );

    await putSecret(ns, "slack-webhook", { url: slack.url });
    const fixed = await untilStatus(
      ns,
      "delivered after the fix",
      (s) => (s.notifications?.sent ?? []).length === 1,
    );
    assert.equal(condition(fixed)?.status, "False");
    assert.equal(slack.accepted().length, 1);
    await assertNoLeak(ns, lines, [slack.url, "xoxb-not-a-webhook"]);
  });

  test("a leader change: the new leader delivers what the old one left pending, once", async (t) => {
    const slack = await receiver(t);
    slack.respond(() => "hold"); // Slack hangs while the first leader is in charge
    const ns = await testNamespace(t, "out");
    await createSecret(ns, "slack-webhook", { url: slack.url });
    await createServices(ns, ["api-stable", "api-canary"]);
    const { log, lines } = capturedLog();
    const election = { namespace: ns, leaseMs: 3_000, renewMs: 1_000, retryMs: 300 };
    const options = {
      log,
      resyncMs: 2_000,
      notifications: { timeoutMs: 1_000, initialBackoffMs: 500 },
    };
    const a = await controller(t, ns, {
      ...options,
      leaderElection: { ...election, identity: "a" },
    });
    const b = await controller(t, ns, {
      ...options,
      leaderElection: { ...election, identity: "b" },
    });
    await eventually(
      "one leader",
      () => Promise.resolve([a.isLeader(), b.isLeader()]),
      (l) => l.filter(Boolean).length === 1,
    );
    const [leader, standby] = a.isLeader() ? [a, b] : [b, a];
    await createRollout(
      ns,
      {
        replicas: 2,
        strategy: {
          canary: {
            stableService: "api-stable",
            canaryService: "api-canary",
            steps: [{ pause: {} }],
          },
        },
        notifications: slackSettings(["started"]),
      },
      "api:1",
    );
    await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");
    await setImage(ns, "api:2");
    await eventually(
      "the post is in flight",
      () => Promise.resolve(slack.posts.length),
      (n) => n >= 1,
    );

    await leader.stop();
    slack.dropHeld();
    const left = await status(ns);
    assert.equal(left.notifications?.pending?.length, 1, "left pending by the old leader");
    slack.respond(OK);
    await eventually(
      "the standby leads",
      () => Promise.resolve(standby.isLeader()),
      (l) => l,
    );
    await untilStatus(
      ns,
      "the new leader delivered it",
      (s) => (s.notifications?.sent ?? []).length === 1,
    );
    assert.equal(slack.accepted().length, 1);
    await assertNoLeak(ns, lines, [slack.url]);
  });

  test("a generic-webhook receiver verifies each post's HMAC signature and reads the documented payload", async (t) => {
    const hook = await receiver(t);
    const key = "whsec-e2e-7d1c9a";
    const { ns, lines } = await healthy(t, {
      webhook: {
        urlSecretRef: { name: "release-hook", key: "url" },
        signingSecretRef: { name: "release-hook", key: "signing-key" },
      },
    });
    await createSecret(ns, "release-hook", { url: hook.url, "signing-key": key });
    await setImage(ns, "api:2");
    await untilStatus(
      ns,
      "v2 promoted, all sent",
      (s) =>
        s.phase === "Healthy" &&
        s.canaryHash === undefined &&
        (s.notifications?.sent ?? []).length === 2,
    );

    assert.equal(hook.posts.length, 2);
    for (const post of hook.posts) {
      const ok = verify(
        key,
        String(post.headers[TIMESTAMP_HEADER]),
        post.body,
        String(post.headers[SIGNATURE_HEADER]),
      );
      assert.equal(ok, true, "the signature verifies with the shared key");
      const payload = WebhookPayload.parse(JSON.parse(post.body));
      assert.equal(payload.rollout.namespace, ns);
      assert.equal(post.headers["x-aviary-delivery"], payload.id);
    }
    assert.deepEqual(
      hook.posts.map((p) => WebhookPayload.parse(JSON.parse(p.body)).kind),
      ["started", "promoted"],
    );
    await assertNoLeak(ns, lines, [hook.url, key]);
  });
});
