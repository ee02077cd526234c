import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { Command, RolloutStatus } from "../../src/api/rollout.ts";
import { STEERING_ACTIONS } from "../../src/argocd/customizations.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { action, argocd, argocdOne, enabled, type ArgoResult } from "../harness/argocd-lua.ts";
import {
  controller,
  createIstioCanary,
  podTemplate,
  setImage,
  untilStatus,
} from "./controller-fixtures.ts";

/**
 * The health check and actions of deploy/argocd/argocd-cm.yaml in Argo CD's own Lua engine
 * (gopher-lua inside argo-cd's util/lua, with its sandbox and its safe os library), first
 * over hand-made Rollouts, then over Rollouts recorded from a live release on the harness
 * cluster, whose action patches are applied the way Argo CD applies them.
 */

type Json = Record<string, unknown>;
const SPEC = { strategy: { canary: { steps: [{ setWeight: 10 }, { pause: {} }] } } };
const RELEASING = { stableHash: "aaa", canaryHash: "bbb", currentStepIndex: 1 };
const ID = /^\d{8}T\d{6}Z-argocd-(\d+)$/;

function rollout(status?: Json, generation = 2, resourceVersion = "4711"): Json {
  const object: Json = {
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "web", namespace: "shop", generation, resourceVersion },
    spec: SPEC,
  };
  if (status !== undefined) object.status = { observedGeneration: generation, ...status };
  return object;
}

function healthOf(result: ArgoResult): { status: string; message?: string } {
  assert.equal(result.healthError, undefined, result.healthError);
  assert.ok(result.health, "Argo CD found the health check");
  return result.health;
}

describe("Argo CD's Lua engine on hand-made Rollouts", { timeout: 60_000 }, () => {
  test("each phase maps to Argo CD's health, with the controller's message", async () => {
    const cases: [Json, string][] = [
      [{ phase: "Healthy", message: "stable aaa serves all traffic" }, "Healthy"],
      [{ ...RELEASING, phase: "Progressing", message: "step 2/2" }, "Progressing"],
      [{ ...RELEASING, phase: "Paused", message: "waiting for promote" }, "Suspended"],
      [{ ...RELEASING, phase: "Degraded", message: "invalid spec: spec.x: bad" }, "Degraded"],
      [{ ...RELEASING, phase: "Aborted", message: "aborted by alice" }, "Degraded"],
    ];
    const results = await argocd(cases.map(([status]) => rollout(status)));
    cases.forEach(([status, expected], i) => {
      const result = results[i];
      assert.ok(result);
      assert.deepEqual(healthOf(result), { status: expected, message: status.message });
    });
  });

  test("no status, no phase, or a generation not yet observed: Progressing", async () => {
    const stale = rollout({ phase: "Healthy", message: "ok" }, 3) as { status: Json };
    stale.status.observedGeneration = 2;
    const [none, noPhase, old] = await argocd([rollout(), rollout({}), stale]);
    assert.ok(none && noPhase && old);
    assert.equal(healthOf(none).status, "Progressing");
    assert.match(healthOf(none).message ?? "", /Waiting for the Aviary controller/);
    assert.equal(healthOf(noPhase).status, "Progressing");
    assert.deepEqual(healthOf(old), {
      status: "Progressing",
      message: "Waiting for the Aviary controller to observe generation 3",
    });
  });

  test("the action menu lists every steering action, enabled as the controller would accept it", async () => {
    const aborted = { ...RELEASING, phase: "Aborted", abortedAt: "2026-01-01T00:00:00Z" };
    const [idle, running, stopped, rolledBack, manual] = await argocd([
      rollout({ phase: "Healthy", stableHash: "aaa" }),
      rollout({ ...RELEASING, phase: "Progressing" }),
      rollout(aborted),
      rollout({ ...aborted, phase: "Degraded" }),
      rollout({ ...RELEASING, phase: "Paused", manualPause: true }),
    ]);
    assert.ok(idle && running && stopped && rolledBack && manual);
    assert.deepEqual(
      idle.actions.map((a) => a.name).sort(),
      STEERING_ACTIONS.map((a) => a.action).sort(),
    );
    assert.deepEqual(enabled(idle), ["pause"]);
    assert.deepEqual(enabled(running), ["abort", "pause", "promote", "promote-full"]);
    assert.deepEqual(enabled(stopped), ["retry"]);
    assert.deepEqual(enabled(rolledBack), ["retry"]);
    assert.deepEqual(enabled(manual), ["abort", "promote", "promote-full", "resume"]);
  });

  test("every action writes only status.command, with a fresh id, requestedBy argocd", async () => {
    const before = rollout({ ...RELEASING, phase: "Paused", lastCommandId: "older" });
    const result = await argocdOne(before);
    for (const { action: name, command } of STEERING_ACTIONS) {
      const after = action(result, name);
      assert.equal(after.operation, "patch");
      const { status: newStatus, ...rest } = after.resource ?? {};
      const { status: oldStatus, ...restBefore } = before;
      assert.deepEqual(rest, restBefore, `${name}: spec and metadata are untouched`);
      const status = RolloutStatus.parse(newStatus);
      const sent = Command.parse(status.command);
      assert.equal(sent.name, command);
      assert.equal(sent.requestedBy, "argocd");
      assert.equal(ID.exec(sent.id)?.[1], "4711", `${name}: the id carries the resourceVersion`);
      assert.match(sent.requestedAt ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.deepEqual(
        { ...status, command: undefined },
        { ...RolloutStatus.parse(oldStatus), command: undefined },
        `${name}: the rest of status is untouched`,
      );
    }
  });

  test("a Rollout without status gets a status holding only the command", async () => {
    const result = await argocdOne(rollout());
    const pause = action(result, "pause").resource as { status: Json };
    assert.deepEqual(Object.keys(pause.status), ["command"]);
  });
});

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const ref = (namespace: string) => ({
  group: "aviary.dev",
  version: "v1alpha1",
  plural: "rollouts",
  namespace,
  name: "api",
});

async function live(namespace: string): Promise<Json> {
  return (await kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject(ref(namespace))) as Json;
}

/**
 * What Argo CD does with an action's result: the status part goes to the status subresource
 * as a merge patch. Aviary's actions change only status.command, so that is the patch.
 */
async function runAction(namespace: string, result: ArgoResult, name: string): Promise<string> {
  const resource = action(result, name).resource as { status: { command: { id: string } } };
  await kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .patchNamespacedCustomObjectStatus(
      { ...ref(namespace), body: { status: { command: resource.status.command } } },
      MERGE,
    );
  return resource.status.command.id;
}

describe(
  "Argo CD's Lua engine on Rollouts recorded from a live release",
  { timeout: 180_000 },
  () => {
    test("Healthy, Suspended, Progressing and Degraded as the controller reports them; promote, promote-full, abort and retry steer it", async (t) => {
      const ns = await testNamespace(t, "argocd");
      await createIstioCanary(ns, {
        scaleDownDelaySeconds: 1,
        abortScaleDownDelaySeconds: 1,
        steps: [
          { setWeight: 25 },
          { pause: {} },
          { setWeight: 50 },
          { pause: { duration: "10m" } },
        ],
      });
      await controller(t, ns, { leaderElection: false });
      const recorded: Record<string, Json> = {};

      const v1 = await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");
      recorded.healthy = await live(ns);
      let result = await argocdOne(recorded.healthy);
      assert.equal(healthOf(result).status, "Healthy");
      assert.deepEqual(enabled(result), ["pause"]);

      await setImage(ns, "api:2");
      await untilStatus(
        ns,
        "waiting for promote",
        (s) => s.phase === "Paused" && s.currentStepIndex === 1,
      );
      recorded.suspended = await live(ns);
      result = await argocdOne(recorded.suspended);
      assert.equal(healthOf(result).status, "Suspended");
      assert.deepEqual(enabled(result), ["abort", "pause", "promote", "promote-full"]);
      let id = await runAction(ns, result, "promote");
      await untilStatus(
        ns,
        "promoted into the timed pause",
        (s) => s.lastCommandId === id && s.currentStepIndex === 3,
      );
      id = await runAction(ns, await argocdOne(await live(ns)), "promote-full");
      const v2 = await untilStatus(
        ns,
        "promoted fully",
        (s) => s.lastCommandId === id && s.phase === "Healthy" && s.stableHash !== v1.stableHash,
      );

      // v3's pods fit no node, so the release waits for them: Progressing, not paused.
      const template = podTemplate("api:3") as { spec: Json };
      template.spec.nodeSelector = { "aviary.dev/no-such-node": "true" };
      await kubeConfig()
        .makeApiClient(CustomObjectsApi)
        .patchNamespacedCustomObject({ ...ref(ns), body: { spec: { template } } }, MERGE);
      await untilStatus(
        ns,
        "v3 waiting for its pods",
        (s) => s.phase === "Progressing" && s.canaryHash !== v2.stableHash,
      );
      recorded.progressing = await live(ns);
      result = await argocdOne(recorded.progressing);
      assert.equal(healthOf(result).status, "Progressing");
      assert.deepEqual(enabled(result), ["abort", "pause", "promote", "promote-full"]);
      id = await runAction(ns, result, "abort");
      await untilStatus(ns, "aborted", (s) => s.lastCommandId === id && s.phase === "Aborted");
      recorded.degraded = await live(ns);
      result = await argocdOne(recorded.degraded);
      assert.equal(healthOf(result).status, "Degraded");
      assert.deepEqual(enabled(result), ["retry"]);
      id = await runAction(ns, result, "retry");
      const retried = await untilStatus(
        ns,
        "retried from the first step",
        (s) => s.lastCommandId === id && s.phase === "Progressing" && s.abortedAt === undefined,
      );
      assert.equal(retried.stableHash, v2.stableHash, "v2 stayed stable through abort and retry");
      t.diagnostic(`recorded Rollouts: ${Object.keys(recorded).join(", ")}`);
    });
  },
);
