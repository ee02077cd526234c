import { createServer, type Server } from "node:http";
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { POD_TEMPLATE_HASH_LABEL, LINKERD_HASH_LABEL } from "../../src/api/labels.ts";
import { binomial, seededRandom, type Random } from "../../src/sim/random.ts";
import { arrivals, type VersionBehaviour } from "../../src/sim/traffic-model.ts";
import { MeshMetrics, type Destination } from "./mesh-metrics.ts";
import {
  httpRouteRoutes,
  ruleFor,
  virtualServiceRoutes,
  type Backend,
  type RouteTable,
} from "./mesh-routing.ts";

/**
 * A mesh traffic simulator for e2e tests. It reads one VirtualService or HTTPRoute (and
 * the Services and DestinationRules it points to) from the real API server every
 * `pollIntervalMs`, sends virtual requests split by the live weights and header routes,
 * and serves Istio- and Linkerd-shaped metrics on /metrics for Prometheus to scrape.
 * When Aviary moves a weight, the next poll moves the traffic.
 */
export interface MeshSimOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  route: { kind: "VirtualService" | "HTTPRoute"; name: string };
  /** Requests per second sent to each host of the route. */
  requestsPerSecond: number;
  /** Share of requests (0..1) that carry `headers`, for header routes. */
  headerFraction?: number;
  /** Headers the `headerFraction` of requests carry. */
  headers?: Record<string, string>;
  /** Behaviour of versions without their own (see setBehaviour). */
  defaultBehaviour?: VersionBehaviour;
  seed?: number;
  pollIntervalMs?: number;
  tickMs?: number;
  sourceWorkload?: string;
}

/** A version as the simulator resolved it: where requests for a backend land. */
export interface ResolvedBackend extends Backend {
  destination: Destination;
}

export interface LiveRouting {
  hosts: string[];
  rules: {
    name?: string;
    matches: RouteTable["rules"][number]["matches"];
    backends: ResolvedBackend[];
  }[];
}

/** Bursty errors of one version: its error rate times a factor redrawn every `everyMs`. */
export interface Bursts {
  /** Coefficient of variation of the factor (mean 1): 1 means the rate often doubles or vanishes. */
  cv: number;
  everyMs: number;
}

/** Gamma(mean 1, CV cv) by Marsaglia–Tsang (with the shape-boost for cv > 1). */
function burstFactor(random: Random, cv: number): number {
  if (cv <= 0) return 1;
  const k = 1 / (cv * cv);
  const shape = k < 1 ? k + 1 : k;
  const boost = k < 1 ? Math.pow(Math.max(random(), Number.EPSILON), 1 / k) : 1;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z =
      Math.sqrt(-2 * Math.log(Math.max(random(), Number.EPSILON))) *
      Math.cos(2 * Math.PI * random());
    const v = (1 + c * z) ** 3;
    if (
      v > 0 &&
      Math.log(Math.max(random(), Number.EPSILON)) < 0.5 * z * z + d - d * v + d * Math.log(v)
    )
      return (boost * d * v) / k;
  }
}

const DEFAULT_BEHAVIOUR: VersionBehaviour = { errorRate: 0, latencyP50Ms: 20, latencyP99Ms: 80 };
const NO_HEADERS: Record<string, string> = {};

export class MeshSim {
  private readonly metrics: MeshMetrics;
  private readonly random: Random;
  private readonly behaviours = new Map<string, VersionBehaviour>();
  private readonly bursts = new Map<string, Bursts & { factor: number; until: number }>();
  /** Extra error rate every version gets (a downstream outage), 0 when none. */
  private sharedOutage = 0;
  private readonly server: Server;
  private routing: LiveRouting | undefined;
  private timers: NodeJS.Timeout[] = [];
  private lastTick = Date.now();
  private polling = false;
  private port = 0;
  /** Why the last poll failed, if it did; traffic keeps following the last good routing. */
  lastPollError: string | undefined;

  private readonly options: MeshSimOptions;

  // No parameter properties: the test runner's global setup loads these files with
  // Node's own type stripping, which only erases types.
  constructor(options: MeshSimOptions) {
    this.options = options;
    this.metrics = new MeshMetrics(options.sourceWorkload ?? "mesh-sim-client");
    this.random = seededRandom(options.seed ?? 1);
    this.behaviours.set("", options.defaultBehaviour ?? DEFAULT_BEHAVIOUR);
    this.server = createServer((req, res) => {
      if (req.url === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
        res.end(this.metrics.exposition());
      } else {
        res.writeHead(404).end();
      }
    });
  }

  /** Starts serving /metrics on a free port of 127.0.0.1, polling and sending traffic. */
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    if (address === null || typeof address === "string")
      throw new Error("mesh-sim: no TCP address");
    this.port = address.port;
    await this.poll();
    this.lastTick = Date.now();
    this.timers = [
      setInterval(() => void this.poll(), this.options.pollIntervalMs ?? 250),
      setInterval(() => this.tick(), this.options.tickMs ?? 100),
    ];
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** `127.0.0.1:<port>`, the address to register with Prometheus. */
  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Sets the behaviour of one version (by pod-template hash), or of all others with "default". */
  setBehaviour(hash: string, behaviour: Partial<VersionBehaviour>): void {
    const key = hash === "default" ? "" : hash;
    const base = this.behaviours.get(key) ?? this.behaviours.get("") ?? DEFAULT_BEHAVIOUR;
    this.behaviours.set(key, { ...base, ...behaviour });
  }

  /**
   * Makes one version's errors bursty (by pod-template hash, or "default" for all others),
   * as errors on one pod or one connection pool are; undefined stops the bursts.
   */
  setBursts(hash: string, bursts: Bursts | undefined): void {
    const key = hash === "default" ? "" : hash;
    if (bursts === undefined) this.bursts.delete(key);
    else this.bursts.set(key, { ...bursts, factor: 1, until: 0 });
  }

  /** A downstream outage: every version fails `extraErrorRate` more of its requests (0 ends it). */
  setSharedOutage(extraErrorRate: number): void {
    this.sharedOutage = extraErrorRate;
  }

  setRequestsPerSecond(rps: number): void {
    this.options.requestsPerSecond = rps;
  }

  /** The routing the simulator follows right now (undefined before the route exists). */
  liveRouting(): LiveRouting | undefined {
    return this.routing;
  }

  /** The version's current burst factor, redrawn once its period is over. */
  private burstOf(hash: string): number {
    let bursts = this.bursts.get(hash);
    const shared = this.bursts.get("");
    if (!bursts && shared) {
      // Each version bursts on its own pods: its own factor, drawn independently.
      bursts = { cv: shared.cv, everyMs: shared.everyMs, factor: 1, until: 0 };
      this.bursts.set(hash, bursts);
    }
    if (!bursts) return 1;
    const now = Date.now();
    if (now >= bursts.until) {
      bursts.factor = burstFactor(this.random, bursts.cv);
      bursts.until = now + bursts.everyMs;
    }
    return bursts.factor;
  }

  private behaviourOf(hash: string): VersionBehaviour {
    return this.behaviours.get(hash) ?? this.behaviours.get("") ?? DEFAULT_BEHAVIOUR;
  }

  private tick(): void {
    const now = Date.now();
    // Real elapsed time, so the rate holds even when the event loop is late.
    const seconds = Math.min(2, (now - this.lastTick) / 1000);
    this.lastTick = now;
    const routing = this.routing;
    if (!routing) return;
    const headerFraction = this.options.headerFraction ?? 0;
    for (let h = 0; h < Math.max(1, routing.hosts.length); h++) {
      const total = arrivals(this.random, this.options.requestsPerSecond, seconds);
      const withHeaders = binomial(this.random, total, headerFraction);
      this.send(routing, this.options.headers ?? NO_HEADERS, withHeaders);
      this.send(routing, NO_HEADERS, total - withHeaders);
    }
  }

  private send(routing: LiveRouting, headers: Record<string, string>, requests: number): void {
    const lowerCased = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const rule = ruleFor(routing, lowerCased) as LiveRouting["rules"][number] | undefined;
    if (!rule || requests === 0) return;
    // Multinomial split by weight, as sequential binomials.
    let remaining = requests;
    let weightLeft = rule.backends.reduce((sum, b) => sum + Math.max(0, b.weight), 0);
    for (const backend of rule.backends) {
      if (weightLeft <= 0 || remaining <= 0) break;
      const weight = Math.max(0, backend.weight);
      const count = binomial(this.random, remaining, weight / weightLeft);
      remaining -= count;
      weightLeft -= weight;
      if (count === 0) continue;
      const behaviour = this.behaviourOf(backend.destination.hash);
      const errorRate = Math.min(
        1,
        behaviour.errorRate * this.burstOf(backend.destination.hash) + this.sharedOutage,
      );
      const errors = binomial(this.random, count, errorRate);
      this.metrics.record(this.random, backend.destination, behaviour, count, errors);
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.routing = await this.readRouting();
      this.lastPollError = undefined;
    } catch (error) {
      this.lastPollError = error instanceof Error ? error.message : String(error);
    } finally {
      this.polling = false;
    }
  }

  private async readRouting(): Promise<LiveRouting> {
    const { kubeConfig: kc, namespace, route } = this.options;
    const custom = kc.makeApiClient(CustomObjectsApi);
    const object = (await custom.getNamespacedCustomObject(
      route.kind === "VirtualService"
        ? {
            group: "networking.istio.io",
            version: "v1",
            namespace,
            plural: "virtualservices",
            name: route.name,
          }
        : {
            group: "gateway.networking.k8s.io",
            version: "v1",
            namespace,
            plural: "httproutes",
            name: route.name,
          },
    )) as Record<string, unknown>;
    const table =
      route.kind === "VirtualService"
        ? virtualServiceRoutes(object, namespace)
        : httpRouteRoutes(object, namespace);
    const resolve = await this.resolver(table);
    return {
      hosts: table.hosts,
      rules: table.rules.map((rule) => ({
        ...rule,
        backends: rule.backends.map((b) => ({ ...b, destination: resolve(b) })),
      })),
    };
  }

  /** Reads what the backends point to: Service selectors, DestinationRule subsets, ReplicaSets. */
  private async resolver(table: RouteTable): Promise<(backend: Backend) => Destination> {
    const kc = this.options.kubeConfig;
    const core = kc.makeApiClient(CoreV1Api);
    const backends = table.rules.flatMap((rule) => rule.backends);
    const namespaces = [...new Set(backends.map((b) => b.namespace))];
    const selectors = new Map<string, Record<string, string>>();
    const workloadsByHash = new Map<string, string>();
    const subsets = new Map<string, Record<string, string>>();
    await Promise.all(
      namespaces.map(async (ns) => {
        const [services, replicaSets] = await Promise.all([
          core.listNamespacedService({ namespace: ns }),
          kc.makeApiClient(AppsV1Api).listNamespacedReplicaSet({ namespace: ns }),
        ]);
        for (const svc of services.items)
          selectors.set(`${ns}/${svc.metadata?.name ?? ""}`, svc.spec?.selector ?? {});
        for (const rs of replicaSets.items) {
          const labels = rs.metadata?.labels ?? {};
          const hash = labels[POD_TEMPLATE_HASH_LABEL] ?? labels[LINKERD_HASH_LABEL];
          const name = rs.metadata?.name ?? "";
          if (hash !== undefined)
            workloadsByHash.set(`${ns}/${hash}`, name.replace(new RegExp(`-${hash}$`), ""));
        }
        if (backends.some((b) => b.namespace === ns && b.subset !== undefined)) {
          const rules = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
            group: "networking.istio.io",
            version: "v1",
            namespace: ns,
            plural: "destinationrules",
          })) as {
            items: {
              spec?: {
                host?: string;
                subsets?: { name: string; labels?: Record<string, string> }[];
              };
            }[];
          };
          for (const dr of rules.items) {
            const service = (dr.spec?.host ?? "").split(".")[0] ?? "";
            for (const subset of dr.spec?.subsets ?? [])
              subsets.set(`${ns}/${service}/${subset.name}`, subset.labels ?? {});
          }
        }
      }),
    );
    return (backend) => {
      const labels =
        backend.subset !== undefined
          ? (subsets.get(`${backend.namespace}/${backend.service}/${backend.subset}`) ?? {})
          : (selectors.get(`${backend.namespace}/${backend.service}`) ?? {});
      const hash = labels[POD_TEMPLATE_HASH_LABEL] ?? "";
      const workload = workloadsByHash.get(`${backend.namespace}/${hash}`) ?? backend.service;
      return { service: backend.service, namespace: backend.namespace, workload, hash };
    };
  }
}
