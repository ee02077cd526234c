import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import type { Action, Observed, Problem } from "./plan.ts";
import { DELETION_GRACE_SECONDS } from "./deletion.ts";
import { withWriteFailure } from "./write-failure.ts";
import type { Rollout, RolloutStatus } from "../api/rollout.ts";
import { midRelease, observed, rollout, rs, T0 } from "../../test/fixtures/rollouts.ts";

const typo: Problem = {
  path: "spec.strategy.canary.trafficRouting.istio.virtualService.routes",
  message: 'VirtualService api-vs has no http route named "primry"',
};

/** What the adapters see through status.managed while the spec's route is a typo. */
function throughManaged(r: Rollout, overrides: Partial<Observed> = {}): Observed {
  return observed({
    replicaSets: [rs("s1", 4), rs("c2", 2)],
    routes: { canaryWeight: 30, headerRoutes: ["beta"] },
    managed: r.status?.managed,
    problems: [typo],
    ...overrides,
  });
}

const kinds = (actions: readonly Action[]) => actions.map((a) => a.kind);

describe("commands run whatever else is wrong", () => {
  test("abort with a broken spec returns all traffic to stable through what Aviary last managed", () => {
    const r = midRelease({ command: { name: "abort", id: "a-1", requestedBy: "alice" } });
    const plan = decide(r, throughManaged(r), T0);
    assert.equal(plan.status.lastCommandId, "a-1");
    assert.equal(plan.status.commandResult?.outcome, "Executed");
    assert.ok(plan.status.abortedAt !== undefined);
    assert.deepEqual(
      plan.actions.filter((a) => a.kind === "setWeight" || a.kind === "removeHeaderRoute"),
      [
        { kind: "setWeight", canaryWeight: 0 },
        { kind: "removeHeaderRoute", name: "beta" },
      ],
    );
    assert.ok(
      !plan.actions.some((a) => a.kind === "scaleReplicaSet"),
      "the canary keeps its pods until traffic is back",
    );
    assert.match(plan.status.message ?? "", /invalid spec: .*primry.*aborted, returning traffic/);
    assert.equal(plan.status.conditions?.find((c) => c.type === "InvalidSpec")?.status, "True");
  });

  test("once traffic is back, the canary is scaled down after the abort delay; stable is left as it is", () => {
    const r = midRelease({ abortedAt: new Date(T0).toISOString() });
    const back = throughManaged(r, { routes: { canaryWeight: 0, headerRoutes: [] } });
    assert.ok(!decide(r, back, T0 + 10_000).actions.some((a) => a.kind === "scaleReplicaSet"));
    const later = decide(r, back, T0 + 31_000);
    assert.deepEqual(
      later.actions.filter((a) => a.kind === "scaleReplicaSet"),
      [{ kind: "scaleReplicaSet", hash: "c2", replicas: 0, role: "canary" }],
    );
    assert.match(later.status.message ?? "", /traffic is back on stable/);
  });

  test("nothing moves when the routes were not observed through status.managed", () => {
    const r = midRelease({ abortedAt: new Date(T0).toISOString() });
    const plan = decide(r, throughManaged(r, { managed: undefined }), T0);
    assert.deepEqual(kinds(plan.actions), []);
  });

  test("promote with a broken spec is acknowledged with the reason, and nothing moves", () => {
    const r = midRelease({ command: { name: "promote", id: "p-1" } });
    const plan = decide(r, throughManaged(r), T0);
    assert.equal(plan.status.lastCommandId, "p-1");
    assert.deepEqual(plan.status.commandResult, {
      id: "p-1",
      name: "promote",
      outcome: "Ignored",
      message: "the spec is invalid (see the InvalidSpec condition); fix it first",
    });
    assert.deepEqual(kinds(plan.actions), []);
    assert.ok(plan.events.some((e) => e.reason === "CommandIgnored"));
  });

  test("pause and retry are executed with a broken spec", () => {
    const r = midRelease({ command: { name: "pause", id: "x-1" } });
    assert.equal(decide(r, throughManaged(r), T0).status.manualPause, true);
    const aborted = midRelease({
      abortedAt: new Date(T0).toISOString(),
      command: { name: "retry", id: "r-1" },
    });
    const plan = decide(aborted, throughManaged(aborted), T0);
    assert.equal(plan.status.abortedAt, undefined);
    assert.match(plan.status.commandResult?.message ?? "", /once the spec is valid/);
  });

  test("a command that cannot apply is acknowledged with why", () => {
    const r = rollout();
    r.status = { stableHash: "s1", command: { name: "promote", id: "p-2" } };
    const plan = decide(r, observed({ templateHash: "s1", replicaSets: [rs("s1", 4)] }), T0);
    assert.equal(plan.status.commandResult?.outcome, "Ignored");
    assert.equal(plan.status.commandResult?.message, "no release is in progress");
  });
});

describe("deletion puts the mesh back, then lets go", () => {
  const deleting = (status: Partial<RolloutStatus> = {}): Rollout => {
    const r = midRelease(status);
    r.metadata.deletionTimestamp = new Date(T0).toISOString();
    return r;
  };

  test("first all traffic to stable and header routes removed; the finalizer stays", () => {
    const r = deleting();
    const plan = decide(r, throughManaged(r, { problems: undefined }), T0 + 1000);
    assert.deepEqual(kinds(plan.actions), ["setWeight", "removeHeaderRoute"]);
    assert.match(plan.status.message ?? "", /being deleted: returning all traffic to stable/);
  });

  test("then the selectors are restored, the claims released and the finalizer removed, in that order", () => {
    const r = deleting();
    const back = throughManaged(r, {
      problems: undefined,
      routes: { canaryWeight: 0, headerRoutes: [] },
    });
    const plan = decide(r, back, T0 + 1000);
    assert.deepEqual(kinds(plan.actions), ["restoreSelectors", "release", "setFinalizer"]);
    assert.deepEqual(plan.actions.at(-1), { kind: "setFinalizer", present: false });
  });

  test("mesh objects that are gone need nothing: the finalizer lets go", () => {
    const r = deleting();
    const gone = throughManaged(r, { routes: undefined, problems: [typo] });
    assert.deepEqual(kinds(decide(r, gone, T0 + 1000).actions), [
      "restoreSelectors",
      "release",
      "setFinalizer",
    ]);
  });

  test("deletion never hangs: after the grace period the finalizer lets go with a Warning", () => {
    const r = deleting();
    const stuck = throughManaged(r, { problems: undefined });
    const plan = decide(r, stuck, T0 + (DELETION_GRACE_SECONDS + 1) * 1000);
    assert.equal(plan.actions.at(-1)?.kind, "setFinalizer");
    assert.ok(plan.events.some((e) => e.reason === "DeletionCleanupIncomplete"));
  });
});

describe("every failed write reaches status", () => {
  test("the failure is a condition with the API server's reason and the phase is Degraded", () => {
    const planned: RolloutStatus = { phase: "Healthy", message: "4/4 available" };
    const status = withWriteFailure(
      undefined,
      planned,
      { kind: "scaleReplicaSet", hash: "c2", replicas: 1, role: "canary" },
      "the API server answered 422 Invalid: containerPort: must be between 1 and 65535",
      new Date(T0).toISOString(),
    );
    assert.equal(status.phase, "Degraded");
    assert.match(status.message ?? "", /could not scale the canary ReplicaSet \(c2\) to 1: .*422/);
    const condition = status.conditions?.find((c) => c.type === "ReconcileError");
    assert.equal(condition?.status, "True");
    // The same failure again keeps its transition time: no new status write each retry.
    const again = withWriteFailure(
      status,
      planned,
      { kind: "scaleReplicaSet", hash: "c2", replicas: 1, role: "canary" },
      "the API server answered 422 Invalid: containerPort: must be between 1 and 65535",
      new Date(T0 + 60_000).toISOString(),
    );
    assert.deepEqual(again, status);
  });

  test("a reconcile whose writes all succeed clears the failure", () => {
    const r = rollout();
    r.status = {
      stableHash: "s1",
      conditions: [
        {
          type: "ReconcileError",
          status: "True",
          reason: "WriteFailed",
          message: "x",
          lastTransitionTime: new Date(T0).toISOString(),
        },
      ],
    };
    const plan = decide(r, observed({ templateHash: "s1", replicaSets: [rs("s1", 4)] }), T0);
    assert.equal(
      plan.status.conditions?.find((c) => c.type === "ReconcileError"),
      undefined,
    );
  });

  test("a ReplicaSet that does not exist is not created just to be scaled to 0", () => {
    const r = midRelease({ abortedAt: new Date(T0).toISOString() });
    const plan = decide(
      r,
      observed({ replicaSets: [rs("s1", 4)], routes: { canaryWeight: 0, headerRoutes: [] } }),
      T0 + 60_000,
    );
    assert.ok(!plan.actions.some((a) => a.kind === "scaleReplicaSet" && a.hash === "c2"));
  });
});

describe("broken traffic is found before any weight moves", () => {
  test("a subset whose labels the pods do not carry is a problem naming the subset and the label", () => {
    const r = rollout();
    r.status = { stableHash: "s1" };
    const plan = decide(
      r,
      observed({
        podLabels: { app: "api" },
        selectorLabels: {
          canary: {
            what: "subset v2 of DestinationRule api-dr",
            field: "spec.strategy.canary.trafficRouting.istio.destinationRule.canarySubset",
            labels: { version: "v2" },
          },
        },
      }),
      T0,
    );
    assert.deepEqual(kinds(plan.actions), []);
    assert.match(
      plan.status.message ?? "",
      /subset v2 of DestinationRule api-dr selects version=v2, which the Rollout's pods do not carry; drop it \(Aviary adds the pod-template hash\) or add it to the template/,
    );
  });

  test("a step weight that cannot fit beside a person's other destination is a problem on that step", () => {
    const r = rollout();
    r.status = { stableHash: "s1" };
    const plan = decide(
      r,
      observed({
        routes: { canaryWeight: 0, headerRoutes: [], fixedWeight: 60, fixedWeightTo: "legacy" },
      }),
      T0,
    );
    assert.match(plan.status.message ?? "", /steps\[2\]\.setWeight: is 50, but only 40%/);
  });
});

describe("the first deploy has a progress deadline too", () => {
  test("pods that cannot be created: the ReplicaSet's reason is shown, and after the deadline the Rollout is Degraded", () => {
    const r = rollout(undefined, { progressDeadlineSeconds: 60 });
    const failing = observed({
      templateHash: "s1",
      replicaSets: [
        {
          hash: "s1",
          replicas: 4,
          availableReplicas: 0,
          failure:
            'ReplicaSet api-s1 cannot create pods (FailedCreate): pods "api-s1-x" is forbidden',
        },
      ],
    });
    const first = decide(r, failing, T0);
    assert.equal(first.status.phase, "Progressing");
    assert.match(first.status.message ?? "", /0\/4 replicas available; .*forbidden/);
    r.status = first.status;
    const late = decide(r, failing, T0 + 61_000);
    assert.equal(late.status.phase, "Degraded");
    assert.match(late.status.message ?? "", /progress deadline exceeded.*forbidden/);
  });
});
