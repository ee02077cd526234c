import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { POD_TEMPLATE_HASH_LABEL } from "../../../src/api/labels.ts";
import { httpRouteRoutes, virtualServiceRoutes, type Backend } from "../mesh-routing.ts";

/**
 * Samples, across the cluster, where each release's traffic goes: the weighted backends
 * of its route, each resolved to a pod-template hash (through the Service selector or the
 * DestinationRule subset), and how many available pods each hash has. Lists are
 * cluster-wide so a sample costs the same few requests however many releases run.
 */
export interface WeightedVersion {
  /** The backend as the route names it (service or service/subset). */
  backend: string;
  weight: number;
  /** Pod-template hash it selects; undefined when its selector names none (all pods). */
  hash: string | undefined;
}

export interface Violation {
  at: number;
  namespace: string;
  backend: string;
  weight: number;
  hash: string | undefined;
  available: number;
}

type Json = Record<string, unknown>;
interface Listed {
  items: Json[];
}

const meta = (o: Json) =>
  (o.metadata ?? {}) as { namespace?: string; name?: string; labels?: Record<string, string> };

interface RoutingSnapshot {
  /** Per namespace: the managed rule's (the first rule's) weighted versions. */
  byNamespace: Map<string, WeightedVersion[]>;
}

async function routingSnapshot(
  kc: KubeConfig,
  inScope: (ns: string) => boolean,
): Promise<RoutingSnapshot> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const list = (group: string, plural: string) =>
    custom.listClusterCustomObject({ group, version: "v1", plural }) as Promise<Listed>;
  const [vss, routes, drs, services] = await Promise.all([
    list("networking.istio.io", "virtualservices"),
    list("gateway.networking.k8s.io", "httproutes"),
    list("networking.istio.io", "destinationrules"),
    kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces(),
  ]);
  const selectors = new Map<string, Record<string, string>>();
  for (const svc of services.items)
    selectors.set(
      `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`,
      svc.spec?.selector ?? {},
    );
  const subsets = new Map<string, Record<string, string>>();
  for (const dr of drs.items) {
    const ns = meta(dr).namespace ?? "";
    const spec = (dr.spec ?? {}) as {
      host?: string;
      subsets?: { name: string; labels?: Record<string, string> }[];
    };
    const host = (spec.host ?? "").split(".")[0] ?? "";
    for (const subset of spec.subsets ?? [])
      subsets.set(`${ns}/${host}/${subset.name}`, subset.labels ?? {});
  }
  const resolve = (b: Backend): WeightedVersion => {
    const labels =
      b.subset !== undefined
        ? subsets.get(`${b.namespace}/${b.service}/${b.subset}`)
        : selectors.get(`${b.namespace}/${b.service}`);
    return {
      backend: b.subset === undefined ? b.service : `${b.service}/${b.subset}`,
      weight: b.weight,
      hash: labels?.[POD_TEMPLATE_HASH_LABEL],
    };
  };
  const byNamespace = new Map<string, WeightedVersion[]>();
  const add = (ns: string, table: ReturnType<typeof virtualServiceRoutes>) => {
    if (!inScope(ns)) return;
    byNamespace.set(ns, (table.rules[0]?.backends ?? []).map(resolve));
  };
  for (const vs of vss.items)
    add(meta(vs).namespace ?? "", virtualServiceRoutes(vs, meta(vs).namespace ?? ""));
  for (const route of routes.items)
    add(meta(route).namespace ?? "", httpRouteRoutes(route, meta(route).namespace ?? ""));
  return { byNamespace };
}

/** Available pods per `namespace/hash`, and per namespace in all. */
async function availability(
  kc: KubeConfig,
  inScope: (ns: string) => boolean,
): Promise<Map<string, number>> {
  const list = await kc.makeApiClient(AppsV1Api).listReplicaSetForAllNamespaces();
  const available = new Map<string, number>();
  for (const rs of list.items) {
    const ns = rs.metadata?.namespace ?? "";
    if (!inScope(ns)) continue;
    const hash = rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] ?? "";
    const n = rs.status?.availableReplicas ?? 0;
    available.set(`${ns}/${hash}`, (available.get(`${ns}/${hash}`) ?? 0) + n);
    available.set(ns, (available.get(ns) ?? 0) + n);
  }
  return available;
}

const key = (v: WeightedVersion) => `${v.backend}@${v.hash ?? "*"}`;

/**
 * One sample: routing, then ReplicaSets, then routing again. A backend counts as a
 * violation only when both routing reads give it weight with the same hash and the
 * ReplicaSets read between them show no available pod of that hash, so a weight that
 * moved while the sample was taken is never mistaken for one.
 */
export async function sample(
  kc: KubeConfig,
  inScope: (ns: string) => boolean,
): Promise<Violation[]> {
  const before = await routingSnapshot(kc, inScope);
  const available = await availability(kc, inScope);
  const after = await routingSnapshot(kc, inScope);
  const at = Date.now();
  const violations: Violation[] = [];
  for (const [ns, versions] of after.byNamespace) {
    const earlier = new Set(
      (before.byNamespace.get(ns) ?? []).filter((v) => v.weight > 0).map(key),
    );
    for (const v of versions) {
      if (v.weight <= 0 || !earlier.has(key(v))) continue;
      const pods =
        v.hash === undefined ? (available.get(ns) ?? 0) : (available.get(`${ns}/${v.hash}`) ?? 0);
      if (pods === 0)
        violations.push({
          at,
          namespace: ns,
          backend: v.backend,
          weight: v.weight,
          hash: v.hash,
          available: pods,
        });
    }
  }
  return violations;
}

/** The weighted versions of one namespace's managed rule right now. */
export async function routingOf(kc: KubeConfig, namespace: string): Promise<WeightedVersion[]> {
  return (await routingSnapshot(kc, (ns) => ns === namespace)).byNamespace.get(namespace) ?? [];
}

/** Samples every `everyMs` until stopped; keeps the count and every violation. */
export function startSampler(
  kc: KubeConfig,
  inScope: (ns: string) => boolean,
  everyMs: number,
): { stop: () => Promise<{ samples: number; failed: number; violations: Violation[] }> } {
  let stopped = false;
  let samples = 0;
  let failed = 0;
  const violations: Violation[] = [];
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      try {
        violations.push(...(await sample(kc, inScope)));
        samples++;
      } catch {
        // The API server is down (a fault we injected): nothing can be read, or routed anew.
        failed++;
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, everyMs - (Date.now() - started))),
      );
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { samples, failed, violations };
    },
  };
}
