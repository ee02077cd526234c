import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { POD_TEMPLATE_HASH_LABEL } from "../../src/api/labels.ts";
import { kubeConfig, prometheusUrl, startMeshSim, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { queryVector } from "../harness/prometheus.ts";

const STABLE_HASH = "5d8f7c9b4";
const CANARY_HASH = "6c7b9f8d5";
const WINDOW = "10s";
const SIM_OPTIONS = { requestsPerSecond: 2000, seed: 7 } as const;

/** Two Services selecting the stable and canary versions by pod-template hash, and their ReplicaSets. */
async function createVersions(namespace: string): Promise<void> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig());
  for (const [role, hash] of [
    ["stable", STABLE_HASH],
    ["canary", CANARY_HASH],
  ] as const) {
    const labels = { app: "api", [POD_TEMPLATE_HASH_LABEL]: hash };
    await client.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `api-${role}`, namespace },
      spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await client.create({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: `api-${hash}`, namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: "api", image: "example.com/api:1" }] },
        },
      },
    });
  }
}

function virtualService(namespace: string, stableWeight: number, canaryWeight: number) {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "api-vs", namespace },
    spec: {
      hosts: ["api"],
      http: [
        {
          name: "primary",
          route: [
            { destination: { host: "api-stable" }, weight: stableWeight },
            { destination: { host: "api-canary" }, weight: canaryWeight },
          ],
        },
      ],
    },
  };
}

/** A value per label, from a vector keyed by that label. */
async function byLabel(promql: string, label: string): Promise<Record<string, number>> {
  const vector = await queryVector(prometheusUrl(), promql);
  return Object.fromEntries(vector.map((sample) => [sample.labels[label] ?? "", sample.value]));
}

/** Flagger's Istio success rate, per destination Service. */
function istioSuccessRate(namespace: string): Promise<Record<string, number>> {
  const selector = `reporter="destination",destination_workload_namespace="${namespace}"`;
  return byLabel(
    `sum by (destination_service_name) (rate(istio_requests_total{${selector},response_code!~"5.*"}[${WINDOW}]))` +
      ` / sum by (destination_service_name) (rate(istio_requests_total{${selector}}[${WINDOW}])) * 100`,
    "destination_service_name",
  );
}

/** Share of requests (percent) each Service received over `window`. */
function istioTrafficShare(namespace: string, window: string): Promise<Record<string, number>> {
  const selector = `reporter="destination",destination_workload_namespace="${namespace}"`;
  return byLabel(
    `sum by (destination_service_name) (rate(istio_requests_total{${selector}}[${window}]))` +
      ` / scalar(sum(rate(istio_requests_total{${selector}}[${window}]))) * 100`,
    "destination_service_name",
  );
}

const near = (actual: number | undefined, expected: number, tolerance: number) =>
  actual !== undefined && Math.abs(actual - expected) <= tolerance;

describe("mesh traffic simulator and Prometheus", () => {
  test("at 90/10 with 5% errors on the canary, Prometheus measures both Services' success rates and the split", async (t) => {
    const namespace = await testNamespace(t);
    await createVersions(namespace);
    const kc = kubeConfig();
    await KubernetesObjectApi.makeApiClient(kc).create(virtualService(namespace, 90, 10));
    const sim = await startMeshSim(t, {
      namespace,
      route: { kind: "VirtualService", name: "api-vs" },
      ...SIM_OPTIONS,
    });
    sim.setBehaviour(CANARY_HASH, { errorRate: 0.05 });
    // Let a whole rate window of traffic accumulate.
    await sleep(11_000);

    const success = await istioSuccessRate(namespace);
    assert.ok(
      near(success["api-stable"], 100, 0.001),
      `stable success rate ${success["api-stable"]} should be 100`,
    );
    assert.ok(
      near(success["api-canary"], 95, 2.5),
      `canary success rate ${success["api-canary"]} should be about 95`,
    );
    const share = await istioTrafficShare(namespace, WINDOW);
    assert.ok(
      near(share["api-canary"], 10, 2),
      `canary share ${share["api-canary"]}% should be about 10%`,
    );

    // Linkerd's shape carries the same traffic, per pod-template hash.
    const linkerdFailures = await byLabel(
      `sum by (pod_template_hash) (rate(response_total{namespace="${namespace}",direction="inbound",classification="failure"}[${WINDOW}]))` +
        ` / sum by (pod_template_hash) (rate(response_total{namespace="${namespace}",direction="inbound"}[${WINDOW}])) * 100`,
      "pod_template_hash",
    );
    assert.ok(
      near(linkerdFailures[CANARY_HASH], 5, 2.5),
      `Linkerd canary failure rate ${linkerdFailures[CANARY_HASH]}`,
    );
  });

  test("changing the VirtualService weights moves the traffic Prometheus measures", async (t) => {
    const namespace = await testNamespace(t);
    await createVersions(namespace);
    const kc = kubeConfig();
    await KubernetesObjectApi.makeApiClient(kc).create(virtualService(namespace, 90, 10));
    await startMeshSim(t, {
      namespace,
      route: { kind: "VirtualService", name: "api-vs" },
      ...SIM_OPTIONS,
    });
    await eventually(
      "canary share near 10%",
      () => istioTrafficShare(namespace, "5s"),
      (share) => near(share["api-canary"], 10, 2),
    );

    await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
      {
        group: "networking.istio.io",
        version: "v1",
        namespace,
        plural: "virtualservices",
        name: "api-vs",
        body: { spec: virtualService(namespace, 40, 60).spec },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const share = await eventually(
      "canary share near 60% after the weight change",
      () => istioTrafficShare(namespace, "5s"),
      (s) => near(s["api-canary"], 60, 3),
    );
    assert.ok(
      near(share["api-stable"], 40, 3),
      `stable share ${share["api-stable"]}% should be about 40%`,
    );
  });

  test("an HTTPRoute's weights and header route decide where requests go", async (t) => {
    const namespace = await testNamespace(t);
    await createVersions(namespace);
    const kc = kubeConfig();
    const backend = (name: string, weight: number) => ({ name, port: 80, weight });
    await KubernetesObjectApi.makeApiClient(kc).create({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name: "api", namespace },
      spec: {
        parentRefs: [{ group: "", kind: "Service", name: "api", port: 80 }],
        rules: [
          {
            matches: [{ headers: [{ name: "x-user-group", value: "beta-testers" }] }],
            backendRefs: [backend("api-canary", 1)],
          },
          { backendRefs: [backend("api-stable", 80), backend("api-canary", 20)] },
        ],
      },
    });
    await startMeshSim(t, {
      namespace,
      route: { kind: "HTTPRoute", name: "api" },
      headers: { "X-User-Group": "beta-testers" },
      headerFraction: 0.3,
      ...SIM_OPTIONS,
    });
    // 30% carry the header and all go to the canary; 20% of the other 70% too: 44%.
    const share = await eventually(
      "canary share near 44%",
      () => istioTrafficShare(namespace, "5s"),
      (s) => near(s["api-canary"], 44, 3),
    );
    assert.ok(
      near(share["api-stable"], 56, 3),
      `stable share ${share["api-stable"]}% should be about 56%`,
    );
  });

  test("subset-level routing: DestinationRule subsets split one Service's traffic by revision", async (t) => {
    const namespace = await testNamespace(t);
    await createVersions(namespace);
    const client = KubernetesObjectApi.makeApiClient(kubeConfig());
    await client.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "api", namespace },
      spec: { selector: { app: "api" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const subset = (name: string, hash: string) => ({
      name,
      labels: { [POD_TEMPLATE_HASH_LABEL]: hash },
    });
    await client.create({
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: { name: "api-dr", namespace },
      spec: {
        host: "api",
        subsets: [subset("stable", STABLE_HASH), subset("canary", CANARY_HASH)],
      },
    });
    await client.create({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "api-vs", namespace },
      spec: {
        hosts: ["api"],
        http: [
          {
            name: "primary",
            route: [
              { destination: { host: "api", subset: "stable" }, weight: 70 },
              { destination: { host: "api", subset: "canary" }, weight: 30 },
            ],
          },
        ],
      },
    });
    await startMeshSim(t, {
      namespace,
      route: { kind: "VirtualService", name: "api-vs" },
      ...SIM_OPTIONS,
    });
    const selector = `reporter="destination",destination_service_name="api",destination_workload_namespace="${namespace}"`;
    const share = await eventually(
      "canary revision share near 30%",
      () =>
        byLabel(
          `sum by (destination_canonical_revision) (rate(istio_requests_total{${selector}}[5s]))` +
            ` / scalar(sum(rate(istio_requests_total{${selector}}[5s]))) * 100`,
          "destination_canonical_revision",
        ),
      (s) => near(s[CANARY_HASH], 30, 3),
    );
    assert.ok(
      near(share[STABLE_HASH], 70, 3),
      `stable revision share ${share[STABLE_HASH]}% should be about 70%`,
    );
  });
});
