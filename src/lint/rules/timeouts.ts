import { asArray, asObject, asString, type Json } from "../../traffic/json-patch.ts";
import type { Report, Rule } from "../rule.ts";
import type { LintContext } from "../context.ts";
import type { FieldPath, Manifest } from "../manifests.ts";
import {
  formatMs,
  httpRoutesOf,
  isAviaryRoute,
  meshDurationMs,
  routeLabel,
} from "../mesh-objects.ts";

/** Every route should bound how long a request may take, and not by much more than the field guide's 15 s. */

interface RouteTimeout {
  at: Manifest;
  label: string;
  /** Where the route is written, and where its timeout is (or would be). */
  routePath: FieldPath;
  timeoutPath: FieldPath;
  timeout: unknown;
}

function routeTimeouts(context: LintContext): RouteTimeout[] {
  const found: RouteTimeout[] = [];
  for (const vs of context.objects("VirtualService")) {
    httpRoutesOf(vs).forEach((route, index) => {
      // Redirects and direct responses forward nothing, so they need no timeout.
      if (isAviaryRoute(route) || route.route === undefined) return;
      found.push({
        at: vs,
        label: `${routeLabel(route, index)} of VirtualService ${vs.name}`,
        routePath: ["spec", "http", index],
        timeoutPath: ["spec", "http", index, "timeout"],
        timeout: route.timeout,
      });
    });
  }
  for (const httpRoute of context.objects("HTTPRoute")) {
    asArray(asObject(httpRoute.object.spec).rules).forEach((raw, index) => {
      const rule: Json = asObject(raw);
      if (asArray(rule.backendRefs).length === 0) return;
      const name = asString(rule.name);
      found.push({
        at: httpRoute,
        label: `${name === undefined ? `rule ${index + 1}` : `rule "${name}"`} of HTTPRoute ${httpRoute.name}`,
        routePath: ["spec", "rules", index],
        timeoutPath: ["spec", "rules", index, "timeouts", "request"],
        timeout: asObject(rule.timeouts).request,
      });
    });
  }
  return found;
}

export const routeTimeoutMissing: Rule = {
  id: "route-timeout-missing",
  severity: "warning",
  category: "practice",
  title: "a route has no timeout",
  reason:
    "Without a timeout a slow canary holds callers' connections and threads until they give up, and the slowness spreads upstream.",
  fix: "Set a timeout a little above the route's normal P99 (VirtualService: timeout; HTTPRoute: timeouts.request).",
  check(context, report: (finding: Report) => void) {
    for (const route of routeTimeouts(context)) {
      if (route.timeout !== undefined) continue;
      report({ at: route.at, path: route.routePath, message: `${route.label} has no timeout` });
    }
  },
};

export const routeTimeoutTooLong: Rule = {
  id: "route-timeout-too-long",
  severity: "warning",
  category: "practice",
  title: "a route's timeout is longer than the limit (15 s unless --max-timeout says otherwise)",
  reason:
    "A very long timeout (or 0s, which turns it off) lets slow requests pile up; callers usually gave up long before.",
  fix: "Lower the timeout to what callers wait for, or raise --max-timeout if this route is meant to be slow.",
  check(context, report) {
    const limit = context.options.maxTimeoutMs;
    for (const route of routeTimeouts(context)) {
      if (route.timeout === undefined) continue;
      const ms = meshDurationMs(route.timeout);
      if (ms === undefined) {
        report({
          at: route.at,
          path: route.timeoutPath,
          message: `${route.label} has timeout ${JSON.stringify(route.timeout)}, which is not a duration`,
          fix: 'Write a duration such as "10s" or "500ms".',
        });
        continue;
      }
      if (ms !== 0 && ms <= limit) continue;
      report({
        at: route.at,
        path: route.timeoutPath,
        message:
          ms === 0
            ? `${route.label} has timeout 0s, which turns the timeout off`
            : `${route.label} has timeout ${JSON.stringify(route.timeout).replaceAll('"', "")}, longer than ${formatMs(limit)}`,
      });
    }
  },
};
