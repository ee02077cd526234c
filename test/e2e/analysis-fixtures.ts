import type { TestContext } from "node:test";
import {
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import type { z } from "zod";
import type { AnalysisSpec } from "../../src/api/analysis-spec.ts";
import type { RolloutStatus } from "../../src/api/rollout.ts";
import type { ControllerHandle, ControllerOptions } from "../../src/kube/controller.ts";
import { kubeConfig, prometheusUrl, startMeshSim, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import type { MeshSim } from "../harness/mesh-sim.ts";
import {
  controller,
  createRollout,
  createServices,
  setImage,
  status,
} from "./controller-fixtures.ts";

/**
 * Helpers for the analysis e2e tests: a namespace with two Services, a route (Istio
 * VirtualService or Gateway API HTTPRoute), a Rollout whose steps are gated on analysis,
 * a mesh simulator that Prometheus scrapes, and the controller, all wired together.
 */

/** Short settings so a release takes well under a minute. */
export const STEPS = [
  { setWeight: 20 },
  { pause: { duration: "15s" } },
  { setWeight: 50 },
  { pause: { duration: "15s" } },
];

export const STABLE_ERROR_RATE = 0.005;

export type Mesh = "istio" | "linkerd";

export interface ReleaseOptions {
  mesh: Mesh;
  /** Requests per second the mesh simulator sends to the route's host. */
  requestsPerSecond: number;
  /** analysis.prometheus.address of the Rollout; undefined uses the controller's default. */
  prometheusAddress?: string;
  /** More settings for the controller (notifications, a captured log, a metrics port). */
  controller?: Partial<ControllerOptions>;
  /** Starts the controller another way (e.g. as its own process) instead of in this one. */
  startController?: (namespace: string) => Promise<void>;
}

export interface Release {
  namespace: string;
  sim: MeshSim;
  /** Undefined when the test started the controller its own way. */
  controller: ControllerHandle | undefined;
  /** Pod-template hash of v1, Healthy and stable before the release starts. */
  stableHash: string;
}

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const ROUTE_NAME = "api-route";

const virtualServiceRef = (namespace: string) => ({
  group: "networking.istio.io",
  version: "v1",
  plural: "virtualservices",
  namespace,
  name: ROUTE_NAME,
});
const httpRouteRef = (namespace: string) => ({
  group: "gateway.networking.k8s.io",
  version: "v1",
  plural: "httproutes",
  namespace,
  name: ROUTE_NAME,
});

async function createRoute(namespace: string, mesh: Mesh): Promise<void> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig());
  if (mesh === "istio") {
    await client.create({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: ROUTE_NAME, namespace },
      spec: {
        hosts: ["api"],
        http: [
          {
            name: "primary",
            route: [
              { destination: { host: "api-stable" }, weight: 100 },
              { destination: { host: "api-canary" }, weight: 0 },
            ],
          },
        ],
      },
    });
    return;
  }
  // Linkerd reads HTTPRoutes whose parent is a Service (the GAMMA mesh profile).
  await createServices(namespace, ["api"]);
  await client.create({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: ROUTE_NAME, namespace },
    spec: {
      parentRefs: [{ group: "core", kind: "Service", name: "api", port: 80 }],
      rules: [
        {
          backendRefs: [
            { name: "api-stable", port: 80, weight: 100 },
            { name: "api-canary", port: 80, weight: 0 },
          ],
        },
      ],
    },
  });
}

/** The route's weights as [stable, canary], read from the API server. */
export async function weights(namespace: string, mesh: Mesh): Promise<number[]> {
  const custom = kubeConfig().makeApiClient(CustomObjectsApi);
  if (mesh === "istio") {
    const vs = (await custom.getNamespacedCustomObject(virtualServiceRef(namespace))) as {
      spec: { http: { route: { weight?: number }[] }[] };
    };
    return vs.spec.http[0]?.route.map((r) => r.weight ?? 0) ?? [];
  }
  const route = (await custom.getNamespacedCustomObject(httpRouteRef(namespace))) as {
    spec: { rules: { backendRefs: { weight?: number }[] }[] };
  };
  return route.spec.rules[0]?.backendRefs.map((b) => b.weight ?? 1) ?? [];
}

function analysisSpec(options: ReleaseOptions): z.input<typeof AnalysisSpec> {
  const prometheus =
    options.prometheusAddress === undefined
      ? {}
      : { prometheus: { address: options.prometheusAddress } };
  const mesh =
    options.mesh === "istio"
      ? { mesh: "istio" as const }
      : { mesh: "gatewayapi" as const, metricsFrom: "linkerd" as const };
  return { ...mesh, ...prometheus, interval: "2s", minRequests: 10 };
}

/** What a person does to fix the Prometheus address: a spec edit. */
export async function setPrometheusAddress(namespace: string, address: string): Promise<void> {
  const custom = kubeConfig().makeApiClient(CustomObjectsApi);
  await custom.patchNamespacedCustomObject(
    {
      group: "aviary.dev",
      version: "v1alpha1",
      plural: "rollouts",
      namespace,
      name: "api",
      body: { spec: { strategy: { canary: { analysis: { prometheus: { address } } } } } },
    },
    MERGE,
  );
}

/**
 * Sets up v1 as the Healthy stable version behind an analysed canary strategy, with the
 * mesh simulator sending traffic (stable's error rate 0.5%), and the controller running.
 */
export async function healthyStable(t: TestContext, options: ReleaseOptions): Promise<Release> {
  const namespace = await testNamespace(t, "ana");
  await createServices(namespace, ["api-stable", "api-canary"]);
  await createRoute(namespace, options.mesh);
  const trafficRouting =
    options.mesh === "istio"
      ? { istio: { virtualService: { name: ROUTE_NAME, routes: ["primary"] } } }
      : { gatewayAPI: { httpRoute: { name: ROUTE_NAME } } };
  await createRollout(
    namespace,
    {
      replicas: 2,
      strategy: {
        canary: {
          stableService: "api-stable",
          canaryService: "api-canary",
          scaleDownDelaySeconds: 1,
          abortScaleDownDelaySeconds: 1,
          trafficRouting,
          analysis: analysisSpec(options),
          steps: STEPS,
        },
      },
    },
    "api:1",
  );
  const sim = await startMeshSim(t, {
    namespace,
    route: { kind: options.mesh === "istio" ? "VirtualService" : "HTTPRoute", name: ROUTE_NAME },
    requestsPerSecond: options.requestsPerSecond,
    defaultBehaviour: { errorRate: STABLE_ERROR_RATE, latencyP50Ms: 20, latencyP99Ms: 80 },
    pollIntervalMs: 100,
  });
  const handle =
    options.startController === undefined
      ? await controller(t, namespace, {
          prometheusAddress: prometheusUrl(),
          resyncMs: 2_000,
          ...options.controller,
        })
      : (await options.startController(namespace), undefined);
  const v1 = await eventually(
    "v1 Healthy",
    () => status(namespace),
    (s) => s.phase === "Healthy" && s.stableHash !== undefined,
    show,
    60_000,
  );
  return { namespace, sim, controller: handle, stableHash: v1.stableHash ?? "" };
}

/** Starts the release of v2 and returns its pod-template hash once the controller names it. */
export async function startRelease(release: Release): Promise<string> {
  await setImage(release.namespace, "api:2");
  const started = await eventually(
    "the release of v2 has started",
    () => status(release.namespace),
    (s) => s.canaryHash !== undefined && s.canaryHash !== release.stableHash,
    show,
    30_000,
  );
  return started.canaryHash ?? "";
}

/** What a person looks at in `kubectl get rollout`, for failure messages. */
export function show(s: RolloutStatus): unknown {
  return {
    phase: s.phase,
    step: s.currentStepIndex,
    weight: s.canaryWeight,
    message: s.message,
    abortReason: s.abortReason,
  };
}

export { status };
