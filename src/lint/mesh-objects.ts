import { asArray, asObject, asString, type Json } from "../traffic/json-patch.ts";
import { MANAGED_ROUTE_PREFIX } from "../traffic/router.ts";
import type { Manifest } from "./manifests.ts";

/** Reading the mesh objects as people write them: VirtualService http routes, hosts, durations. */

export function httpRoutesOf(virtualService: Manifest): Json[] {
  return asArray(asObject(virtualService.object.spec).http).map(asObject);
}

/** Aviary's own header routes (`aviary-*`), which a file normally does not hold. */
export function isAviaryRoute(route: Json): boolean {
  return asString(route.name)?.startsWith(MANAGED_ROUTE_PREFIX) ?? false;
}

/** "route "primary"" or "http route 2", for messages. */
export function routeLabel(route: Json, index: number): string {
  const name = asString(route.name);
  return name === undefined ? `http route ${index + 1}` : `route "${name}"`;
}

/** A VirtualService applies to sidecars (not only to gateways) when it names no gateway or names `mesh`. */
export function appliesToMesh(virtualService: Manifest): boolean {
  const gateways = asArray(asObject(virtualService.object.spec).gateways);
  return gateways.length === 0 || gateways.includes("mesh");
}

/**
 * A host as the mesh resolves it: `svc`, `svc.ns`, `svc.ns.svc` and `svc.ns.svc.cluster.local`
 * all name Service `svc` of `ns` (the object's own namespace when left out); anything else is
 * an external name, compared as written.
 */
export function resolveHost(host: string, namespace: string | undefined): string {
  const parts = host.split(".");
  const [name, ns, svc, ...rest] = parts;
  const local =
    parts.length <= 2 ||
    (svc === "svc" && (rest.length === 0 || rest.join(".") === "cluster.local"));
  if (!local || name === undefined) return host;
  return `${name}.${ns ?? namespace ?? "default"}`;
}

const DURATION_UNITS_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  // The micro sign: written as an escape, because one non-ASCII character makes Node load
  // the whole controller bundle as two bytes per character (scripts/bundle-controller.ts).
  "\u00b5s": 0.001,
  ns: 0.000_001,
};

/** Istio and Gateway API durations ("15s", "1.5s", "500ms", "1m30s"); undefined when unreadable. */
export function meshDurationMs(value: unknown): number | undefined {
  if (typeof value !== "string" || !/^(\d+(\.\d+)?(h|ms|m|s|us|\u00b5s|ns))+$/.test(value))
    return undefined;
  let total = 0;
  for (const [, amount, , unit] of value.matchAll(/(\d+(\.\d+)?)(h|ms|m|s|us|\u00b5s|ns)/g))
    total += Number(amount) * (DURATION_UNITS_MS[unit ?? ""] ?? Number.NaN);
  return Number.isFinite(total) ? total : undefined;
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
