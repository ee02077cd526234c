import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { RolloutStatus } from "../api/rollout.ts";
import {
  backoffMs,
  dueDeliveries,
  nextAttemptAt,
  recordAttempt,
  type Attempt,
  type RetryPolicy,
} from "./outbox-delivery.ts";
import { T0 } from "../../test/fixtures/rollouts.ts";

const POLICY: RetryPolicy = {
  initialBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  giveUpAfterMs: 3_600_000,
};
const SOURCE = 'Secret prod/slack-webhook key "url"';

function pendingRollback(): RolloutStatus {
  return {
    notifications: {
      pending: [
        {
          id: "c2:rolledBack:t",
          kind: "rolledBack",
          severity: "error",
          title: "api rolled back",
          message: "success-rate: canary errors",
          at: new Date(T0).toISOString(),
          deliveries: [
            { target: "slack", attempts: 0 },
            { target: "webhook", attempts: 0 },
          ],
        },
      ],
    },
  };
}

const serverError: Attempt = {
  ok: false,
  error: "Slack answered 500",
  retry: true,
  source: SOURCE,
};

describe("delivery outcomes in status", () => {
  test("delivered to every target: the id moves to sent and nothing is pending", () => {
    let status = pendingRollback();
    status = recordAttempt(
      status,
      "c2:rolledBack:t",
      "slack",
      { ok: true },
      T0,
      POLICY,
      0.5,
    ).status;
    assert.deepEqual(
      status.notifications?.pending?.[0]?.deliveries.map((d) => d.target),
      ["webhook"],
      "the webhook still waits",
    );
    status = recordAttempt(
      status,
      "c2:rolledBack:t",
      "webhook",
      { ok: true },
      T0,
      POLICY,
      0.5,
    ).status;
    assert.deepEqual(status.notifications, { sent: ["c2:rolledBack:t"] });
  });

  test("a 5xx is retried with exponential backoff and jitter, and the delivery says why", () => {
    let status = pendingRollback();
    let now = T0;
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      status = recordAttempt(
        status,
        "c2:rolledBack:t",
        "slack",
        serverError,
        now,
        POLICY,
        0.5,
      ).status;
      const at = nextAttemptAt(status) ?? 0;
      assert.deepEqual(dueDeliveries(status, now), [{ id: "c2:rolledBack:t", target: "webhook" }]);
      const slack = status.notifications?.pending?.[0]?.deliveries[0];
      waits.push(Date.parse(slack?.nextAttemptAt ?? "") - now);
      assert.equal(slack?.lastError, "Slack answered 500");
      assert.equal(slack?.attempts, i + 1);
      now = Math.max(now, at) + 1;
    }
    assert.deepEqual(waits, [750, 1500, 3000, 6000], "doubling, jittered to 3/4 at random 0.5");
    assert.equal(status.conditions, undefined, "retrying is not a failure yet");
  });

  test("jitter stays between half and all of the doubled delay, capped at the maximum", () => {
    for (const attempts of [1, 2, 5, 20]) {
      const base = Math.min(POLICY.maxBackoffMs, 1_000 * 2 ** (attempts - 1));
      assert.equal(backoffMs(POLICY, attempts, 0), base / 2);
      assert.equal(backoffMs(POLICY, attempts, 1), base);
    }
  });

  test("a 429 is retried no sooner than its Retry-After, and never sooner than the backoff", () => {
    const limited: Attempt = { ...serverError, error: "Slack answered 429", retryAfterMs: 2_000 };
    const status = recordAttempt(
      pendingRollback(),
      "c2:rolledBack:t",
      "slack",
      limited,
      T0,
      POLICY,
      0,
    ).status;
    assert.equal(
      status.notifications?.pending?.[0]?.deliveries[0]?.nextAttemptAt,
      new Date(T0 + 2_000).toISOString(),
    );
    const zero: Attempt = { ...limited, retryAfterMs: 0 };
    const eager = recordAttempt(pendingRollback(), "c2:rolledBack:t", "slack", zero, T0, POLICY, 0);
    assert.equal(
      eager.status.notifications?.pending?.[0]?.deliveries[0]?.nextAttemptAt,
      new Date(T0 + 500).toISOString(),
      "Retry-After: 0 does not make it spin",
    );
  });

  test("a 4xx is not retried: NotificationFailed names the Secret and key at once, with an Event", () => {
    const refused: Attempt = {
      ok: false,
      error: "Slack answered 404: no_service",
      retry: false,
      source: SOURCE,
    };
    const { status, events } = recordAttempt(
      pendingRollback(),
      "c2:rolledBack:t",
      "slack",
      refused,
      T0,
      POLICY,
      0,
    );
    const condition = status.conditions?.find((c) => c.type === "NotificationFailed");
    assert.equal(condition?.status, "True");
    assert.equal(condition?.reason, "SlackRejected");
    assert.match(condition?.message ?? "", /Secret prod\/slack-webhook key "url"/);
    assert.match(condition?.message ?? "", /404/);
    assert.deepEqual(
      events.map((e) => [e.type, e.reason, e.message]),
      [["Warning", "NotificationFailed", condition?.message]],
    );
    assert.deepEqual(
      status.notifications?.failed?.map((f) => [f.id, f.target]),
      [["c2:rolledBack:t", "slack"]],
    );
    assert.deepEqual(
      status.notifications?.pending?.[0]?.deliveries.map((d) => d.target),
      ["webhook"],
    );
  });

  test("retries stop a bounded time after the first failure: given up with the condition and an Event", () => {
    const policy = { ...POLICY, giveUpAfterMs: 10_000 };
    let status = pendingRollback();
    let now = T0;
    let events: { reason: string }[] = [];
    let tries = 0;
    while (
      (status.notifications?.pending?.[0]?.deliveries.some((d) => d.target === "slack") ?? false) &&
      tries < 100
    ) {
      ({ status, events } = recordAttempt(
        status,
        "c2:rolledBack:t",
        "slack",
        serverError,
        now,
        policy,
        1,
      ));
      const slack = status.notifications?.pending?.[0]?.deliveries.find(
        (d) => d.target === "slack",
      );
      now = Math.max(now + 1, Date.parse(slack?.nextAttemptAt ?? "") || now + 1);
      tries++;
    }
    const condition = status.conditions?.find((c) => c.type === "NotificationFailed");
    assert.equal(condition?.reason, "SlackGaveUp");
    assert.match(
      condition?.message ?? "",
      /after \d+ attempts over 10s; last error: Slack answered 500/,
    );
    assert.equal(events.length, 1);
    assert.ok(now - T0 <= 10_000 + 1_000, "no retry after the deadline");
  });

  test("a Secret problem is reported at once and still retried; a later delivery clears the condition", () => {
    const missing: Attempt = {
      ok: false,
      error: "Secret prod/slack-webhook (spec.notifications.slack.webhookSecretRef) does not exist",
      retry: true,
      misconfigured: true,
      source: SOURCE,
    };
    const first = recordAttempt(
      pendingRollback(),
      "c2:rolledBack:t",
      "slack",
      missing,
      T0,
      POLICY,
      0,
    );
    assert.equal(first.status.conditions?.[0]?.reason, "SlackMisconfigured");
    assert.match(first.status.conditions?.[0]?.message ?? "", /Secret prod\/slack-webhook/);
    assert.equal(first.events.length, 1);
    assert.equal(
      first.status.notifications?.pending?.[0]?.deliveries[0]?.attempts,
      1,
      "still pending",
    );
    const again = recordAttempt(
      first.status,
      "c2:rolledBack:t",
      "slack",
      missing,
      T0 + 1_000,
      POLICY,
      0,
    );
    assert.equal(again.events.length, 0, "the same problem is not an Event per retry");
    const fixed = recordAttempt(
      again.status,
      "c2:rolledBack:t",
      "slack",
      { ok: true },
      T0 + 5_000,
      POLICY,
      0,
    );
    assert.equal(fixed.status.conditions?.[0]?.status, "False");
    assert.equal(fixed.status.conditions?.[0]?.reason, "Delivered");
  });

  test("an outcome for a delivery no longer pending changes nothing", () => {
    const status: RolloutStatus = { notifications: { sent: ["x"] } };
    assert.equal(recordAttempt(status, "x", "slack", { ok: true }, T0, POLICY, 0).status, status);
  });
});
