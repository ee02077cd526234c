import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CustomObjectsApi, KubernetesObjectApi } from "@kubernetes/client-node";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import {
  byImage,
  controller,
  createRollout,
  createServices,
  sendCommand,
  setImage,
  status,
  versions,
  untilStatus,
} from "./controller-fixtures.ts";

const VS = {
  group: "networking.istio.io",
  version: "v1",
  plural: "virtualservices",
  name: "api-vs",
};
type VirtualService = { spec: { http: { route: { weight?: number }[] }[] } };

async function weights(namespace: string): Promise<number[]> {
  const custom = kubeConfig().makeApiClient(CustomObjectsApi);
  const vs = (await custom.getNamespacedCustomObject({ ...VS, namespace })) as VirtualService;
  return vs.spec.http[0]?.route.map((r) => r.weight ?? 0) ?? [];
}

describe("controller with Istio routing", { timeout: 120_000 }, () => {
  test("VirtualService weights follow the steps and the release ends at 100/0 with v1 scaled down", async (t) => {
    const ns = await testNamespace(t, "ctl");
    await createServices(ns, ["api-stable", "api-canary"]);
    const original = {
      hosts: ["api"],
      http: [
        {
          name: "primary",
          retries: { attempts: 3, perTryTimeout: "2s" },
          route: [
            { destination: { host: "api-stable" }, weight: 100 },
            { destination: { host: "api-canary" }, weight: 0 },
          ],
        },
      ],
    };
    await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "api-vs", namespace: ns },
      spec: original,
    });
    const strategy = {
      canary: {
        stableService: "api-stable",
        canaryService: "api-canary",
        scaleDownDelaySeconds: 2,
        trafficRouting: { istio: { virtualService: { name: "api-vs", routes: ["primary"] } } },
        steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: { duration: "2s" } }],
      },
    };
    await createRollout(ns, { replicas: 2, strategy }, "api:1");
    await controller(t, ns);
    await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");

    // Every weight the VirtualService shows during the release, in order.
    const seen: string[] = [];
    let watching = true;
    const poll = (async () => {
      while (watching) {
        const current = (await weights(ns)).join("/");
        if (seen.at(-1) !== current) seen.push(current);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await setImage(ns, "api:2");
    const paused = await untilStatus(
      ns,
      "paused at 20%",
      (s) => s.phase === "Paused" && s.currentStepIndex === 1,
    );
    assert.deepEqual(await weights(ns), [80, 20]);

    // Drift, as Argo CD self-heal would cause: the weights are reset by hand mid-release.
    const custom = kubeConfig().makeApiClient(CustomObjectsApi);
    await custom.patchNamespacedCustomObject({
      ...VS,
      namespace: ns,
      body: [
        { op: "replace", path: "/spec/http/0/route/0/weight", value: 100 },
        { op: "replace", path: "/spec/http/0/route/1/weight", value: 0 },
      ],
    });
    await eventually(
      "hand-edited weights put back",
      () => weights(ns),
      (w) => w[0] === 80 && w[1] === 20,
      (w) => w,
    );
    assert.equal((await status(ns)).currentStepIndex, 1, "the release keeps its place");

    await sendCommand(ns, "promote", "p-1");
    await untilStatus(
      ns,
      "promoted",
      (s) => s.phase === "Healthy" && s.stableHash === paused.canaryHash,
    );
    assert.deepEqual(await weights(ns), [100, 0]);
    watching = false;
    await poll;
    // The plan's weights only (100/0 in the middle is the hand edit, put back at once).
    assert.ok(
      seen.every((w) => ["100/0", "80/20", "40/60"].includes(w)),
      seen.join(" → "),
    );
    const firstOf = (w: string) => seen.indexOf(w);
    assert.ok(firstOf("80/20") < firstOf("40/60"), seen.join(" → "));
    assert.equal(seen.at(-1), "100/0");
    const after = (await custom.getNamespacedCustomObject({ ...VS, namespace: ns })) as {
      spec: unknown;
    };
    assert.deepEqual(after.spec, original, "nothing but the weights changed, and they are back");
    await eventually(
      "v1 scaled down",
      () => versions(ns),
      (l) => (byImage(l, "api:1")?.replicas ?? 0) === 0 && byImage(l, "api:2")?.replicas === 2,
    );
  });
});
