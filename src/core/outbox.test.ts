import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import { recordPending, targetsFor, MAX_PENDING } from "./outbox.ts";
import type { PendingNotification, RolloutStatus } from "../api/rollout.ts";
import { observed, pendingKinds, rollout, rs, T0 } from "../../test/fixtures/rollouts.ts";

const slackOnly = { slack: true };

describe("which targets a notification goes to", () => {
  test("a Rollout without settings uses the controller's defaults with the default kinds", () => {
    const spec = rollout().spec;
    assert.deepEqual(targetsFor(spec, slackOnly, "rolledBack"), ["slack"]);
    assert.deepEqual(targetsFor(spec, slackOnly, "stepCompleted"), [], "not a default kind");
    assert.deepEqual(targetsFor(spec, undefined, "rolledBack"), [], "no target at all");
  });

  test("spec.notifications.<target>.on filters by kind; [] turns a default target off", () => {
    const spec = rollout(undefined, {
      notifications: {
        slack: { on: ["rolledBack", "stepCompleted"] },
        webhook: { on: [] },
      },
    }).spec;
    const both = { slack: true, webhook: true };
    assert.deepEqual(targetsFor(spec, both, "rolledBack"), ["slack"]);
    assert.deepEqual(targetsFor(spec, both, "stepCompleted"), ["slack"]);
    assert.deepEqual(targetsFor(spec, both, "promoted"), []);
  });

  test("a target with its own Secret needs no controller default", () => {
    const spec = rollout(undefined, {
      notifications: { webhook: { urlSecretRef: { name: "hook", key: "url" } } },
    }).spec;
    assert.deepEqual(targetsFor(spec, undefined, "started"), ["webhook"]);
  });
});

function entry(id: string): PendingNotification {
  return {
    id,
    kind: "started",
    severity: "info",
    title: id,
    message: id,
    at: new Date(T0).toISOString(),
    deliveries: [{ target: "slack", attempts: 0 }],
  };
}

describe("the outbox stays bounded", () => {
  test("a known id is not recorded twice; past the bound the oldest pending is given up, not dropped silently", () => {
    const status: RolloutStatus = {};
    for (let i = 0; i < MAX_PENDING + 3; i++) recordPending(status, entry(`n${i}`));
    recordPending(status, entry(`n${MAX_PENDING + 2}`));
    const pending = status.notifications?.pending ?? [];
    assert.equal(pending.length, MAX_PENDING);
    assert.equal(pending[0]?.id, "n3");
    assert.deepEqual(
      status.notifications?.failed?.map((f) => f.id),
      ["n0", "n1", "n2"],
    );
    assert.match(status.notifications?.failed?.[0]?.error ?? "", /more than 20/);
  });
});

describe("decide() records a transition's notifications in the status it returns", () => {
  const releasing = (status: RolloutStatus) => {
    const r = rollout();
    r.status = { stableHash: "s1", canaryHash: "c2", phase: "Progressing", ...status };
    return r;
  };

  test("a release start is pending with both versions' images, and a new release forgets the old sent ids", () => {
    const r = rollout();
    r.status = { stableHash: "s1", phase: "Healthy", notifications: { sent: ["c1:started"] } };
    const plan = decide(
      r,
      observed({
        replicaSets: [{ ...rs("s1", 4), images: ["api:1"] }],
        templateImages: ["api:2"],
      }),
      T0,
    );
    const started = plan.status.notifications?.pending?.[0];
    assert.equal(started?.kind, "started");
    assert.deepEqual(started?.details?.stable, { hash: "s1", images: ["api:1"] });
    assert.deepEqual(started?.details?.canary, { hash: "c2", images: ["api:2"] });
    assert.deepEqual(started?.deliveries, [{ target: "slack", attempts: 0 }]);
    assert.equal(plan.status.notifications?.sent, undefined);
  });

  test("a pause for promotion carries the exact promote command, and is recorded once however long it waits", () => {
    const r = releasing({ currentStepIndex: 3 });
    const seen = observed({
      replicaSets: [rs("s1", 4), rs("c2", 2)],
      routes: { canaryWeight: 50, headerRoutes: [] },
    });
    const first = decide(r, seen, T0);
    const paused = first.status.notifications?.pending?.[0];
    assert.equal(paused?.details?.promoteCommand, "aviary promote api -n prod");
    assert.deepEqual(paused?.details?.step, { index: 4, count: 4, description: "pause" });
    assert.equal(paused?.details?.canaryWeight, 50);
    r.status = first.status;
    assert.deepEqual(pendingKinds(decide(r, seen, T0 + 60_000)), ["paused"]);
    // Delivered meanwhile: the id is in `sent`, and the wait records nothing new.
    r.status = { ...first.status, notifications: { sent: [paused?.id ?? ""] } };
    assert.deepEqual(pendingKinds(decide(r, seen, T0 + 120_000)), []);
  });

  test("a rollback carries the evidence: canary and stable values and the bound crossed", () => {
    const r = releasing({
      currentStepIndex: 1,
      command: { name: "abort", id: "a1" },
      analysis: {
        verdict: "Running",
        startedAt: new Date(T0).toISOString(),
        conclusiveSeconds: 60,
        samples: 4,
        metrics: [
          {
            name: "success-rate",
            verdict: "Running",
            canary: 95.1,
            stable: 99.6,
            evidence: 40,
            bound: 100,
          },
        ],
      },
    });
    const plan = decide(r, observed({ routes: { canaryWeight: 10, headerRoutes: [] } }), T0);
    const aborted = plan.status.notifications?.pending?.find((p) => p.kind === "aborted");
    assert.deepEqual(aborted?.details?.evidence, [
      {
        name: "success-rate",
        verdict: "Running",
        canary: 95.1,
        stable: 99.6,
        evidence: 40,
        bound: 100,
      },
    ]);
    assert.equal(aborted?.details?.canaryWeight, 10);
    assert.match(aborted?.title ?? "", /aborted/);
  });

  test("a promotion is told old -> new, before the hashes move", () => {
    const r = releasing({ currentStepIndex: 4 });
    const plan = decide(
      r,
      observed({
        replicaSets: [
          { ...rs("s1", 4), images: ["api:1"] },
          { ...rs("c2", 4), images: ["api:2"] },
        ],
        selectors: { stable: "c2", canary: "c2" },
      }),
      T0,
    );
    const promoted = plan.status.notifications?.pending?.find((p) => p.kind === "promoted");
    assert.deepEqual(promoted?.details?.stable, { hash: "s1", images: ["api:1"] });
    assert.deepEqual(promoted?.details?.canary, { hash: "c2", images: ["api:2"] });
  });

  test("a progress deadline that rolls back is told as progressDeadlineExceeded", () => {
    const r = releasing({
      currentStepIndex: 0,
      lastProgressAt: new Date(T0 - 700_000).toISOString(),
    });
    const plan = decide(r, observed({ replicaSets: [rs("s1", 4), rs("c2", 1, 0)] }), T0);
    assert.deepEqual(pendingKinds(plan), ["progressDeadlineExceeded"]);
    assert.equal(plan.status.notifications?.pending?.[0]?.severity, "error");
  });
});
