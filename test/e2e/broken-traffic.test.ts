import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AppsV1Api } from "@kubernetes/client-node";
import { POD_TEMPLATE_HASH_LABEL, ROLLOUT_NAME_LABEL } from "../../src/api/labels.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { controller } from "./controller-fixtures.ts";
import {
  command,
  createNamedRollout,
  custom,
  dest,
  objects,
  patchRollout,
  readVs,
  service,
  template,
  untilStatusOf,
  virtualService,
} from "./broken-input-fixtures.ts";

const routedSpec = (steps: Record<string, unknown>[]) => ({
  replicas: 2,
  strategy: {
    canary: {
      stableService: "api-stable",
      canaryService: "api-canary",
      scaleDownDelaySeconds: 1,
      trafficRouting: { istio: { virtualService: { name: "api", routes: ["primary"] } } },
      steps,
    },
  },
});

const allWeights = async (ns: string): Promise<number[]> =>
  ((await readVs(ns, "api")).spec.http[0]?.route ?? []).map((r) => r.weight ?? 0);

async function replicaSetCount(ns: string): Promise<number> {
  const list = await kubeConfig()
    .makeApiClient(AppsV1Api)
    .listNamespacedReplicaSet({ namespace: ns, labelSelector: `${ROLLOUT_NAME_LABEL}=api` });
  return list.items.length;
}

describe(
  "broken traffic is found before any weight moves",
  { timeout: 180_000, concurrency: true },
  () => {
    test("a Service whose selector no pod of the Rollout carries is a problem naming it; fixed, the Rollout goes on", async (t) => {
      const ns = await testNamespace(t, "tr");
      await service(ns, "api-stable", "api");
      await service(ns, "api-canary", "apii");
      await virtualService(ns, "api", [dest("api-stable", 100), dest("api-canary", 0)]);
      await createNamedRollout(ns, "api", routedSpec([{ setWeight: 20 }]), "api:1");
      await controller(t, ns);
      const refused = await untilStatusOf(
        ns,
        "api",
        "the selector problem is reported",
        (s) => s.conditions?.some((c) => c.type === "InvalidSpec") === true,
      );
      assert.match(
        refused.message ?? "",
        /spec\.strategy\.canary\.canaryService: Service api-canary selects app=apii, which the Rollout's pods do not carry; drop it \(Aviary adds the pod-template hash\) or add it to the template's labels/,
      );
      assert.equal(await replicaSetCount(ns), 0, "nothing was deployed");
      await objects().patch({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "api-canary", namespace: ns },
        spec: { selector: { app: "api" } },
      });
      await untilStatusOf(
        ns,
        "api",
        "Healthy once the Service is fixed",
        (s) => s.phase === "Healthy",
      );
    });

    test("a third destination keeps its weight: stable and canary share the rest, and the sum stays 100", async (t) => {
      const ns = await testNamespace(t, "tr");
      await service(ns, "api-stable", "api");
      await service(ns, "api-canary", "api");
      await virtualService(ns, "api", [
        dest("api-stable", 90),
        dest("api-canary", 0),
        dest("legacy", 10),
      ]);
      await createNamedRollout(ns, "api", routedSpec([{ setWeight: 20 }, { pause: {} }]), "api:1");
      await controller(t, ns);
      await untilStatusOf(ns, "api", "v1 Healthy", (s) => s.phase === "Healthy");
      await patchRollout(ns, "api", { spec: { template: template("api", "api:2") } });
      await untilStatusOf(ns, "api", "paused at 20%", (s) => s.phase === "Paused");
      assert.deepEqual(await allWeights(ns), [70, 20, 10]);
      await command(ns, "api", "promote", "p-1");
      await untilStatusOf(
        ns,
        "api",
        "promoted",
        (s) => s.phase === "Healthy" && s.currentStepIndex === 2,
      );
      assert.deepEqual(await allWeights(ns), [90, 0, 10]);

      // A step that cannot fit beside the 10% is a problem on that step, and nothing moves.
      await patchRollout(ns, "api", {
        spec: {
          template: template("api", "api:3"),
          strategy: { canary: { steps: [{ setWeight: 95 }] } },
        },
      });
      const refused = await untilStatusOf(
        ns,
        "api",
        "the step that cannot fit is reported",
        (s) => s.conditions?.some((c) => c.type === "InvalidSpec") === true,
      );
      assert.match(
        refused.message ?? "",
        /spec\.strategy\.canary\.steps\[0\]\.setWeight: is 95, but only 90% of the route is left for stable and canary \(10% goes to legacy\)/,
      );
      assert.deepEqual(await allWeights(ns), [90, 0, 10]);
    });

    test("the canary Service listed twice is a problem, not twice the canary's traffic", async (t) => {
      const ns = await testNamespace(t, "tr");
      await service(ns, "api-stable", "api");
      await service(ns, "api-canary", "api");
      await virtualService(ns, "api", [
        dest("api-stable", 100),
        dest("api-canary", 0),
        { destination: { host: "api-canary", port: { number: 8080 } }, weight: 0 },
      ]);
      await createNamedRollout(ns, "api", routedSpec([{ setWeight: 20 }]), "api:1");
      await controller(t, ns);
      const refused = await untilStatusOf(
        ns,
        "api",
        "the duplicate is reported",
        (s) => s.conditions?.some((c) => c.type === "InvalidSpec") === true,
      );
      assert.match(refused.message ?? "", /lists Service api-canary 2 times; list it once/);
      assert.deepEqual(await allWeights(ns), [100, 0, 0]);
    });

    test("the seed's DestinationRule as written (subsets by version label) is reported before any weight moves", async (t) => {
      const ns = await testNamespace(t, "tr");
      await service(ns, "api-service", "api-service");
      await objects().create({
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata: { name: "api-service", namespace: ns },
        spec: {
          host: "api-service",
          subsets: [
            { name: "v1", labels: { version: "v1" } },
            { name: "v2", labels: { version: "v2" } },
          ],
        },
      });
      await objects().create({
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name: "api-service", namespace: ns },
        spec: {
          hosts: ["api-service"],
          http: [
            {
              name: "primary",
              route: [
                { destination: { host: "api-service", subset: "v1" }, weight: 100 },
                { destination: { host: "api-service", subset: "v2" }, weight: 0 },
              ],
            },
          ],
        },
      });
      // Subset-level: no stableService/canaryService, the DestinationRule's host is the Service.
      await objects().create({
        apiVersion: "aviary.dev/v1alpha1",
        kind: "Rollout",
        metadata: { name: "api-service", namespace: ns },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "api-service" } },
          template: template("api-service", "api:1"),
          strategy: {
            canary: {
              trafficRouting: {
                istio: {
                  virtualService: { name: "api-service", routes: ["primary"] },
                  destinationRule: { name: "api-service", stableSubset: "v1", canarySubset: "v2" },
                },
              },
              steps: [{ setWeight: 10 }],
            },
          },
        },
      });
      await controller(t, ns);
      const refused = await untilStatusOf(
        ns,
        "api-service",
        "the subsets' labels are reported",
        (s) => s.conditions?.some((c) => c.type === "InvalidSpec") === true,
      );
      assert.match(
        refused.message ?? "",
        /subset v1 of DestinationRule api-service selects version=v1, which the Rollout's pods do not carry; drop it \(Aviary adds the pod-template hash\) or add it to the template's labels/,
      );
      assert.match(
        refused.message ?? "",
        /subset v2 of DestinationRule api-service selects version=v2/,
      );
      const dr = (await custom().getNamespacedCustomObject({
        group: "networking.istio.io",
        version: "v1",
        namespace: ns,
        plural: "destinationrules",
        name: "api-service",
      })) as { spec: { subsets: { labels: Record<string, string> }[] } };
      assert.ok(
        dr.spec.subsets.every((s) => s.labels[POD_TEMPLATE_HASH_LABEL] === undefined),
        "no subset was narrowed",
      );
      const http = (await readVs(ns, "api-service")).spec.http[0]?.route.map((r) => r.weight);
      assert.deepEqual(http, [100, 0]);
    });
  },
);
