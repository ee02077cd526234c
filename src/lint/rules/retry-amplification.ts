import { asArray, asObject, asString } from "../../traffic/json-patch.ts";
import type { Rule } from "../rule.ts";
import type { Manifest } from "../manifests.ts";
import { appliesToMesh, httpRoutesOf, resolveHost, routeLabel } from "../mesh-objects.ts";
import { retryAttempts } from "./retries.ts";

/**
 * Retries multiply along a call chain: an edge VirtualService that retries 3 times in front
 * of a service whose own VirtualService retries 3 times sends up to 3 × 3 = 9 attempts to
 * a backend that is already failing. The chain is found through the files: a retrying
 * route's destination host is a host of another VirtualService applied to the mesh.
 */
interface RetryingRoute {
  vs: Manifest;
  index: number;
  attempts: number;
  label: string;
  destinations: string[];
}

function retryingRoutes(virtualServices: readonly Manifest[]): RetryingRoute[] {
  return virtualServices.flatMap((vs) =>
    httpRoutesOf(vs).flatMap((route, index) => {
      const attempts = retryAttempts(route);
      if (attempts === 0) return [];
      const destinations = asArray(route.route).flatMap((entry) => {
        const host = asString(asObject(asObject(entry).destination).host);
        return host === undefined ? [] : [resolveHost(host, vs.namespace)];
      });
      const label = `VirtualService ${vs.name} ${routeLabel(route, index)} (${attempts})`;
      return [{ vs, index, attempts, label, destinations }];
    }),
  );
}

export const retryAmplification: Rule = {
  id: "retry-amplification",
  severity: "warning",
  category: "practice",
  title: "retries multiply across chained VirtualServices",
  reason:
    "Each layer retries every try of the layer before it, so a failing backend receives the product of the attempts, which turns a small outage into an overload.",
  fix: "Retry at one layer only (usually the one closest to the caller), and set attempts to 0 on the others.",
  check(context, report) {
    const routes = retryingRoutes(context.objects("VirtualService"));
    const next = (from: RetryingRoute): RetryingRoute[] =>
      routes.filter(
        (to) =>
          to.vs !== from.vs &&
          appliesToMesh(to.vs) &&
          asArray(asObject(to.vs.object.spec).hosts).some(
            (host) =>
              typeof host === "string" &&
              from.destinations.includes(resolveHost(host, to.vs.namespace)),
          ),
      );
    const reached = new Set(routes.flatMap(next));
    const roots = routes.filter((route) => !reached.has(route));
    const chains: RetryingRoute[][] = [];
    const walk = (chain: RetryingRoute[]): void => {
      const last = chain.at(-1);
      if (last === undefined) return;
      const onward = next(last).filter((route) => !chain.includes(route));
      if (onward.length === 0 && chain.length > 1) chains.push(chain);
      for (const route of onward) walk([...chain, route]);
    };
    for (const root of roots) walk([root]);
    for (const chain of chains) {
      const [first] = chain;
      if (first === undefined) continue;
      const product = chain.reduce((total, route) => total * route.attempts, 1);
      report({
        at: first.vs,
        path: ["spec", "http", first.index, "retries", "attempts"],
        message: `retries multiply along ${chain.map((r) => r.label).join(" → ")}: ${chain.map((r) => r.attempts).join(" × ")} = ${product} attempts per request`,
      });
    }
  },
};
