import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { RolloutStatus } from "../../src/api/rollout.ts";
import { prometheusUrl, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { controllerProcesses, type ControllerProcess } from "../harness/controller-process.ts";
import { OK, startReceiver } from "../harness/receiver.ts";
import { healthyStable, startRelease, weights } from "./analysis-fixtures.ts";
import {
  createRollout,
  createServices,
  setImage,
  status,
  untilStatus,
} from "./controller-fixtures.ts";
import { assertNoLeak, createSecret, slackBody, slackSettings } from "./notify-fixtures.ts";

/**
 * At least once, across SIGKILL: the outbox lives in the Rollout's status, so a
 * controller killed at any moment loses no notification. The only duplicate is a death
 * between the receiver's 200 and the status write that marks the notification sent;
 * the second test measures how often that happens when the kill comes right after a post.
 */

const pendingIds = (s: RolloutStatus) => (s.notifications?.pending ?? []).map((p) => p.id);

describe("notifications survive a SIGKILLed controller", { timeout: 900_000 }, () => {
  test("killed right after a rollback transition, before its post was answered: the restarted controller delivers it", async (t) => {
    const slack = await startReceiver();
    t.after(slack.close);
    // Slack takes the rollback message but never answers it while the first controller lives.
    slack.respond((post) =>
      slackBody(post).text.includes("rolled back") ? "hold" : { status: 200, body: "ok" },
    );
    const processes = controllerProcesses(t);
    let first: ControllerProcess | undefined;
    const env = { AVIARY_SLACK_WEBHOOK_URL: slack.url };
    const release = await healthyStable(t, {
      mesh: "istio",
      requestsPerSecond: 200,
      startController: (namespace) => {
        first = processes.start(namespace, { args: ["--prometheus", prometheusUrl()], env });
        return Promise.resolve();
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

    const transition = await untilStatus(ns, "the rollback is pending in status", (s) =>
      pendingIds(s).some((id) => id.includes(":rolledBack:")),
    );
    await eventually(
      "the rollback post is in flight",
      () => Promise.resolve(slack.posts),
      (posts) => posts.some((p) => slackBody(p).text.includes("rolled back")),
    );
    first?.kill();
    await first?.exited;
    slack.dropHeld();
    const rollbackId = pendingIds(transition).find((id) => id.includes(":rolledBack:")) ?? "";
    const afterKill = await status(ns);
    assert.ok(
      pendingIds(afterKill).includes(rollbackId),
      "still pending after the kill: not lost, not marked sent",
    );
    assert.equal(
      slack.accepted().filter((p) => slackBody(p).text.includes("rolled back")).length,
      0,
    );

    slack.respond(OK);
    processes.start(ns, { args: ["--prometheus", prometheusUrl()], env });
    const done = await untilStatus(ns, "the restarted controller delivered it", (s) =>
      (s.notifications?.sent ?? []).includes(rollbackId),
    );
    const delivered = slack.accepted().filter((p) => slackBody(p).text.includes("rolled back"));
    assert.equal(delivered.length, 1, "delivered once");
    assert.match(
      JSON.stringify(delivered[0] === undefined ? {} : slackBody(delivered[0]).blocks),
      /success-rate/,
    );
    assert.equal(done.phase, "Degraded");
    await assertNoLeak(ns, processes.logs, [slack.url]);
  });

  test("killed right after a post, 20 times: every message arrives, and the duplicate rate is reported", async (t) => {
    const TRIES = 20;
    const slack = await startReceiver();
    t.after(slack.close);
    const ns = await testNamespace(t, "dup");
    await createSecret(ns, "slack-webhook", { url: slack.url });
    await createServices(ns, ["api-stable", "api-canary"]);
    await createRollout(
      ns,
      {
        replicas: 1,
        // Each new image restarts the release; it waits at the pause, so only `started` is sent.
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
    const processes = controllerProcesses(t);
    let current = processes.start(ns);
    await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");

    const counts: number[] = [];
    for (let i = 2; i <= TRIES + 1; i++) {
      const image = `api:${i}`;
      const isThisTry = (body: string) => body.includes(`→ \`${image}\``);
      let killed = false;
      const victim = current;
      slack.onAnswered((post) => {
        if (!killed && isThisTry(post.body)) {
          killed = true;
          victim.kill(); // right after Slack's 200 was written
        }
      });
      await setImage(ns, image);
      await victim.exited;
      slack.onAnswered(undefined);
      current = processes.start(ns);
      const settled = await untilStatus(
        ns,
        `${image}: the restarted controller settled the outbox`,
        (s) => (s.notifications?.sent ?? []).some((id) => id === `${s.canaryHash ?? "-"}:started`),
      );
      assert.deepEqual(pendingIds(settled), []);
      counts.push(slack.accepted().filter((p) => isThisTry(p.body)).length);
    }
    current.kill();

    const duplicates = counts.filter((n) => n === 2).length;
    const line = `kill right after Slack's 200, ${TRIES} tries: ${duplicates} duplicated (${Math.round((100 * duplicates) / TRIES)}%), 0 lost; posts per try: ${counts.join(" ")}`;
    t.diagnostic(line);
    console.log(`[notify e2e] ${line}`);
    assert.ok(
      counts.every((n) => n >= 1),
      "no message lost",
    );
    assert.ok(
      counts.every((n) => n <= 2),
      "at most one duplicate per kill",
    );
    await assertNoLeak(ns, processes.logs, [slack.url]);
  });
});
