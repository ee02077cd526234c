import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AppsV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { ROLLOUT_NAME_LABEL } from "../../src/api/labels.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { controller } from "./controller-fixtures.ts";
import {
  command,
  createNamedRollout,
  custom,
  dest,
  jsonPatchRollout,
  readVs,
  record,
  service,
  setImageOf,
  statusOf,
  untilStatusOf,
  virtualService,
  weightsOf,
} from "./broken-input-fixtures.ts";

/** A canary on its own VirtualService `name` between `name-stable` and `name-canary`. */
async function routedCanary(
  ns: string,
  name: string,
  steps: Record<string, unknown>[],
): Promise<void> {
  await service(ns, `${name}-stable`, name);
  await service(ns, `${name}-canary`, name);
  await virtualService(ns, name, [dest(`${name}-stable`, 100), dest(`${name}-canary`, 0)]);
  await createNamedRollout(
    ns,
    name,
    {
      replicas: 2,
      strategy: {
        canary: {
          stableService: `${name}-stable`,
          canaryService: `${name}-canary`,
          scaleDownDelaySeconds: 1,
          abortScaleDownDelaySeconds: 1,
          trafficRouting: { istio: { virtualService: { name, routes: ["primary"] } } },
          steps,
        },
      },
    },
    `${name}:1`,
  );
}

async function hasHeaderRoute(ns: string, vs: string): Promise<boolean> {
  return (await readVs(ns, vs)).spec.http.some(
    (route) => route.name?.startsWith("aviary-") === true,
  );
}

async function canaryReplicas(ns: string, name: string, hash: string): Promise<number> {
  const list = await kubeConfig()
    .makeApiClient(AppsV1Api)
    .listNamespacedReplicaSet({ namespace: ns, labelSelector: `${ROLLOUT_NAME_LABEL}=${name}` });
  return list.items.find((rs) => rs.metadata?.name === `${name}-${hash}`)?.spec?.replicas ?? -1;
}

describe("commands run whatever else is wrong", { timeout: 180_000 }, () => {
  test("a route renamed to a typo mid-release cannot trap traffic: abort puts it back, and the healthy neighbour's release is unchanged", async (t) => {
    const ns = await testNamespace(t, "brk");
    await routedCanary(ns, "api", [{ setWeight: 30 }, { pause: {} }, { setWeight: 60 }]);
    await routedCanary(ns, "shop", [
      { setWeight: 20 },
      { pause: { duration: "2s" } },
      { setWeight: 50 },
      { pause: { duration: "2s" } },
    ]);
    await controller(t, ns);
    for (const name of ["api", "shop"])
      await untilStatusOf(ns, name, `${name} v1 Healthy`, (s) => s.phase === "Healthy");

    await setImageOf(ns, "api", "api:2");
    const paused = await untilStatusOf(
      ns,
      "api",
      "api paused at 30%",
      (s) => s.phase === "Paused" && s.currentStepIndex === 1,
    );
    assert.equal(await weightsOf(ns, "api"), "70/30");

    const neighbour = record(() => weightsOf(ns, "shop"));
    await setImageOf(ns, "shop", "shop:2");
    // Someone edits the route name to a typo: the spec no longer names a real route.
    await jsonPatchRollout(ns, "api", [
      {
        op: "replace",
        path: "/spec/strategy/canary/trafficRouting/istio/virtualService/routes",
        value: ["primry"],
      },
    ]);
    await untilStatusOf(
      ns,
      "api",
      "api reports the typo",
      (s) =>
        s.conditions?.some((c) => c.type === "InvalidSpec" && c.message.includes("primry")) ===
        true,
    );
    assert.equal(await weightsOf(ns, "api"), "70/30", "an invalid spec moves nothing by itself");

    await command(ns, "api", "abort", "abort-1");
    const aborted = await untilStatusOf(
      ns,
      "api",
      "abort acknowledged",
      (s) => s.lastCommandId === "abort-1" && s.message?.includes("traffic is back") === true,
    );
    assert.equal(aborted.commandResult?.outcome, "Executed");
    assert.equal(await weightsOf(ns, "api"), "100/0", "all traffic is back on stable");
    await eventually(
      "the canary is scaled down once traffic is back",
      () => canaryReplicas(ns, "api", paused.canaryHash ?? ""),
      (n) => n === 0,
    );

    await untilStatusOf(
      ns,
      "shop",
      "the neighbour is promoted",
      (s) => s.phase === "Healthy" && s.currentStepIndex === 4,
    );
    assert.deepEqual(await neighbour.stop(), ["100/0", "80/20", "50/50", "100/0"]);
  });

  test("a Rollout pointed at another VirtualService mid-release puts the old one back on stable and goes on", async (t) => {
    const ns = await testNamespace(t, "brk");
    await routedCanary(ns, "api", [
      { setHeaderRoute: { name: "beta", match: [{ header: "x-beta", exact: "1" }] } },
      { setWeight: 30 },
      { pause: {} },
      { setWeight: 60 },
      { pause: { duration: "2s" } },
    ]);
    // Git renames the route's object: a second VirtualService over the same Services.
    await virtualService(ns, "api-v2", [dest("api-stable", 100), dest("api-canary", 0)]);
    await controller(t, ns);
    await untilStatusOf(ns, "api", "v1 Healthy", (s) => s.phase === "Healthy");
    await setImageOf(ns, "api", "api:2");
    await untilStatusOf(ns, "api", "paused at 30%", (s) => s.phase === "Paused");
    assert.equal(await weightsOf(ns, "api"), "70/30");
    assert.ok(await hasHeaderRoute(ns, "api"), "the header route is on the old VirtualService");

    await jsonPatchRollout(ns, "api", [
      {
        op: "replace",
        path: "/spec/strategy/canary/trafficRouting/istio/virtualService/name",
        value: "api-v2",
      },
    ]);
    await eventually(
      "the new VirtualService carries the release's weight",
      () => weightsOf(ns, "api-v2"),
      (w) => w === "70/30",
    );
    assert.equal(await weightsOf(ns, "api"), "100/0", "the old one sends nothing to the canary");
    assert.equal(await hasHeaderRoute(ns, "api"), false, "and keeps no header route of Aviary's");

    await command(ns, "api", "promote", "p-1");
    await untilStatusOf(ns, "api", "promoted", (s) => s.phase === "Healthy");
    assert.equal(await weightsOf(ns, "api-v2"), "100/0");
    assert.equal(await weightsOf(ns, "api"), "100/0");
  });

  test("a command id too long for status is refused by the API server; the next command still works", async (t) => {
    const ns = await testNamespace(t, "brk");
    await routedCanary(ns, "api", [{ setWeight: 30 }, { pause: {} }]);
    await controller(t, ns);
    await untilStatusOf(ns, "api", "v1 Healthy", (s) => s.phase === "Healthy");
    await setImageOf(ns, "api", "api:2");
    await untilStatusOf(ns, "api", "paused", (s) => s.phase === "Paused");

    await assert.rejects(command(ns, "api", "pause", "x".repeat(100_000)), (error: unknown) =>
      /status\.command\.id|Too long|too long/i.test(String((error as { body?: unknown }).body)),
    );
    await command(ns, "api", "promote", "p-1");
    await untilStatusOf(ns, "api", "promoted", (s) => s.phase === "Healthy");
    assert.equal((await statusOf(ns, "api")).lastCommandId, "p-1");
  });

  test("a command that cannot apply is acknowledged with the reason", async (t) => {
    const ns = await testNamespace(t, "brk");
    await routedCanary(ns, "api", [{ setWeight: 30 }]);
    await controller(t, ns);
    await untilStatusOf(ns, "api", "v1 Healthy", (s) => s.phase === "Healthy");
    await command(ns, "api", "abort", "a-1");
    const acknowledged = await untilStatusOf(
      ns,
      "api",
      "abort on a Healthy Rollout acknowledged",
      (s) => s.commandResult?.id === "a-1",
    );
    assert.deepEqual(acknowledged.commandResult, {
      id: "a-1",
      name: "abort",
      outcome: "Ignored",
      message: "no release is in progress",
    });
    // An unknown command never reaches the controller: the API server refuses it.
    await assert.rejects(
      custom().patchNamespacedCustomObjectStatus(
        {
          group: "aviary.dev",
          version: "v1alpha1",
          namespace: ns,
          plural: "rollouts",
          name: "api",
          body: { status: { command: { name: "rollback", id: "r-1" } } },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
      (error: unknown) =>
        /status\.command\.name: Unsupported value/.test(String(error)) &&
        String(error).includes("rollback"),
    );
  });
});
