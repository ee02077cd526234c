import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import type { RolloutStatus } from "../../../src/api/rollout.ts";
import { releaseFinalizers } from "../env.ts";
import { MeshSim } from "../mesh-sim.ts";
import { registerScrapeTarget, unregisterScrapeTarget, waitForScrape } from "../prometheus.ts";

/**
 * The releases of a chaos run: each in its own namespace, with its Services, its route
 * (Istio host-level, Istio subset-level, or a Gateway API HTTPRoute), a Rollout `api`
 * gated on analysis through a switchable Prometheus address, and a mesh simulator that
 * Prometheus scrapes. A release is healthy (promoted), bad (its canary fails 10× as
 * often as stable: rolled back) or manual (waits at a pause without duration).
 */
export type Routing = "istio-host" | "istio-subset" | "httproute";
export type Kind = "healthy" | "bad" | "manual";

export const ROUTINGS: readonly Routing[] = ["istio-host", "istio-subset", "httproute"];
export const KINDS: readonly Kind[] = ["healthy", "bad", "manual"];

export const STABLE_ERROR_RATE = 0.005;
export const BAD_ERROR_RATE = 0.05;
/** The weight a manual release waits at. */
export const MANUAL_WEIGHT = 30;

export interface Release {
  index: number;
  routing: Routing;
  kind: Kind;
  namespace: string;
  sim: MeshSim;
  /** v1's pod-template hash, stable before the release. */
  stableHash: string;
  /** v2's, once the controller named it. */
  canaryHash?: string;
}

export interface FleetOptions {
  kubeConfig: KubeConfig;
  prometheusUrl: string;
  prometheusTargetsFile: string;
  /** Where Rollouts read Prometheus (the switchable proxy). */
  prometheusAddress: string;
  runId: string;
  count: number;
  requestsPerSecond: number;
  simPollMs: number;
  seed: number;
}

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const ROUTE = "api-route";

const template = (image: string) => ({
  metadata: { labels: { app: "api" } },
  spec: { containers: [{ name: "api", image }] },
});

function steps(kind: Kind): unknown[] {
  if (kind === "manual") return [{ setWeight: MANUAL_WEIGHT }, { pause: {} }];
  // The last step gates the promotion on the analysis, as a release that must not promote
  // a bad canary does: pauses alone end on time, whatever the evidence so far.
  return [
    { setWeight: 20 },
    { pause: { duration: "10s" } },
    { setWeight: 50 },
    { analysis: { duration: "30s" } },
  ];
}

const service = (namespace: string, name: string) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec: { selector: { app: "api" }, ports: [{ port: 80, targetPort: 8080 }] },
});

/** The mesh objects of one release, and what its Rollout's canary strategy says about them. */
function meshObjects(namespace: string, routing: Routing): { objects: object[]; canary: object } {
  const weights = (stable: object, canary: object) => [
    { destination: stable, weight: 100 },
    { destination: canary, weight: 0 },
  ];
  if (routing === "istio-host")
    return {
      objects: [
        service(namespace, "api-stable"),
        service(namespace, "api-canary"),
        {
          apiVersion: "networking.istio.io/v1",
          kind: "VirtualService",
          metadata: { name: ROUTE, namespace },
          spec: {
            hosts: ["api"],
            http: [
              { name: "primary", route: weights({ host: "api-stable" }, { host: "api-canary" }) },
            ],
          },
        },
      ],
      canary: {
        stableService: "api-stable",
        canaryService: "api-canary",
        trafficRouting: { istio: { virtualService: { name: ROUTE, routes: ["primary"] } } },
        analysis: { mesh: "istio" },
      },
    };
  if (routing === "istio-subset")
    return {
      objects: [
        service(namespace, "api"),
        {
          apiVersion: "networking.istio.io/v1",
          kind: "DestinationRule",
          metadata: { name: "api-dr", namespace },
          spec: {
            host: "api",
            subsets: [
              { name: "stable", labels: { app: "api" } },
              { name: "canary", labels: { app: "api" } },
            ],
          },
        },
        {
          apiVersion: "networking.istio.io/v1",
          kind: "VirtualService",
          metadata: { name: ROUTE, namespace },
          spec: {
            hosts: ["api"],
            http: [
              {
                name: "primary",
                route: weights(
                  { host: "api", subset: "stable" },
                  { host: "api", subset: "canary" },
                ),
              },
            ],
          },
        },
      ],
      canary: {
        stableService: "api",
        canaryService: "api",
        trafficRouting: {
          istio: {
            virtualService: { name: ROUTE, routes: ["primary"] },
            destinationRule: { name: "api-dr", stableSubset: "stable", canarySubset: "canary" },
          },
        },
        analysis: { mesh: "istio" },
      },
    };
  return {
    objects: [
      service(namespace, "api"),
      service(namespace, "api-stable"),
      service(namespace, "api-canary"),
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name: ROUTE, namespace },
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
      },
    ],
    canary: {
      stableService: "api-stable",
      canaryService: "api-canary",
      trafficRouting: { gatewayAPI: { httpRoute: { name: ROUTE } } },
      analysis: { mesh: "gatewayapi", metricsFrom: "linkerd" },
    },
  };
}

/** Release i's routing and kind: every combination in turn, so any count mixes them all. */
export function planOf(index: number): { routing: Routing; kind: Kind } {
  return {
    routing: ROUTINGS[index % ROUTINGS.length] ?? "istio-host",
    kind: KINDS[Math.floor(index / ROUTINGS.length) % KINDS.length] ?? "healthy",
  };
}

const rolloutRef = (namespace: string) => ({
  group: "aviary.dev",
  version: "v1alpha1",
  plural: "rollouts",
  namespace,
  name: "api",
});

export async function rolloutStatus(kc: KubeConfig, namespace: string): Promise<RolloutStatus> {
  const object = (await kc
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject(rolloutRef(namespace))) as { status?: RolloutStatus };
  return object.status ?? {};
}

/** Creates release `index` with v1 and its mesh simulator; `cleanups` undo it. */
export async function createRelease(
  options: FleetOptions,
  index: number,
  cleanups: (() => Promise<void>)[],
): Promise<Release> {
  const { routing, kind } = planOf(index);
  const kc = options.kubeConfig;
  const namespace = `chaos-${options.runId}-${index}`;
  const client = KubernetesObjectApi.makeApiClient(kc);
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  cleanups.push(async () => {
    await kc
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: namespace })
      .catch(() => undefined);
    await releaseFinalizers(kc, namespace).catch(() => undefined);
  });
  const mesh = meshObjects(namespace, routing);
  for (const object of mesh.objects) await client.create(object);
  const canary = mesh.canary as { analysis: object };
  await client.create({
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "api", namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "api" } },
      template: template("api:1"),
      strategy: {
        canary: {
          ...canary,
          scaleDownDelaySeconds: 1,
          abortScaleDownDelaySeconds: 1,
          analysis: {
            ...canary.analysis,
            prometheus: { address: options.prometheusAddress },
            interval: "2s",
            minRequests: 10,
          },
          steps: steps(kind),
        },
      },
      // The webhook URL is the controller's default (AVIARY_WEBHOOK_URL).
      notifications: { webhook: {} },
    },
  });
  const sim = new MeshSim({
    kubeConfig: kc,
    namespace,
    route: { kind: routing === "httproute" ? "HTTPRoute" : "VirtualService", name: ROUTE },
    requestsPerSecond: options.requestsPerSecond,
    defaultBehaviour: { errorRate: STABLE_ERROR_RATE, latencyP50Ms: 20, latencyP99Ms: 80 },
    pollIntervalMs: options.simPollMs,
    seed: options.seed * 1000 + index,
  });
  await sim.start();
  cleanups.push(async () => {
    unregisterScrapeTarget(options.prometheusTargetsFile, sim.target);
    await sim.stop();
  });
  registerScrapeTarget(options.prometheusTargetsFile, sim.target);
  await waitForScrape(options.prometheusUrl, sim.target, 60_000);
  return { index, routing, kind, namespace, sim, stableHash: "" };
}

/** Starts the release of v2 (a new image, as CI would set it). */
export async function setImage(kc: KubeConfig, namespace: string, image: string): Promise<void> {
  await kc
    .makeApiClient(CustomObjectsApi)
    .patchNamespacedCustomObject(
      { ...rolloutRef(namespace), body: { spec: { template: template(image) } } },
      MERGE,
    );
}

/** What `aviary promote --full` does: a command in the status subresource. */
export async function sendCommand(
  kc: KubeConfig,
  namespace: string,
  name: string,
  id: string,
): Promise<void> {
  await kc
    .makeApiClient(CustomObjectsApi)
    .patchNamespacedCustomObjectStatus(
      { ...rolloutRef(namespace), body: { status: { command: { name, id } } } },
      MERGE,
    );
}
