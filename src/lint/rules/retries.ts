import { asArray, asObject, asString, type Json } from "../../traffic/json-patch.ts";
import type { Rule } from "../rule.ts";
import { httpRoutesOf, routeLabel } from "../mesh-objects.ts";

/** Istio retries: only on failures that are safe to repeat, and each try with its own timeout. */

/** Retry conditions after which the request may already have reached the application. */
const UNSAFE_RETRY_ON = ["5xx", "reset"];
const NON_IDEMPOTENT_METHODS = ["POST", "PATCH"];
const IDEMPOTENCY_HEADERS = ["idempotency-key", "x-idempotency-key"];

export function retryAttempts(route: Json): number {
  const retries = route.retries;
  if (retries === undefined) return 0;
  const attempts = asObject(retries).attempts;
  return typeof attempts === "number" ? attempts : 0;
}

/** The methods a match entry lets through: a list, or undefined for "any method". */
function methodsOf(match: Json): string[] | undefined {
  const method = asObject(match.method);
  if (Object.keys(method).length === 0) return undefined;
  const exact = asString(method.exact);
  if (exact !== undefined) return [exact.toUpperCase()];
  const pattern = asString(method.regex) ?? asString(method.prefix);
  if (pattern === undefined) return undefined;
  return NON_IDEMPOTENT_METHODS.filter((m) =>
    method.prefix !== undefined ? m.startsWith(pattern.toUpperCase()) : safeTest(pattern, m),
  );
}

function safeTest(pattern: string, text: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(text);
  } catch {
    return true; // Unreadable regex: assume it may match.
  }
}

function hasIdempotencyKey(match: Json): boolean {
  return Object.keys(asObject(match.headers)).some((h) =>
    IDEMPOTENCY_HEADERS.includes(h.toLowerCase()),
  );
}

/** Whether the route can carry a POST or PATCH without an idempotency key. */
function carriesNonIdempotent(route: Json): string | undefined {
  const matches = asArray(route.match).map(asObject);
  for (const match of matches.length === 0 ? [{}] : matches) {
    if (hasIdempotencyKey(match)) continue;
    const methods = methodsOf(match);
    if (methods === undefined) return "matches every method (POST and PATCH included)";
    const unsafe = methods.filter((m) => NON_IDEMPOTENT_METHODS.includes(m));
    if (unsafe.length > 0) return `matches ${unsafe.join(" and ")}`;
  }
  return undefined;
}

export const retryNonIdempotent: Rule = {
  id: "retry-non-idempotent",
  severity: "warning",
  category: "practice",
  title: "retries on 5xx or reset for requests that are not idempotent",
  reason:
    "After a 5xx or a reset the request may already have run: retrying a POST or PATCH can charge, send or create twice.",
  fix: "Retry only on connect-failure,refused-stream,unavailable,reset-before-request here, or match the idempotent methods (GET, PUT, DELETE) or an idempotency-key header on the retrying route.",
  check(context, report) {
    for (const vs of context.objects("VirtualService"))
      httpRoutesOf(vs).forEach((route, index) => {
        if (retryAttempts(route) === 0) return;
        const retryOn = (asString(asObject(route.retries).retryOn) ?? "")
          .split(",")
          .map((c) => c.trim());
        const unsafe = retryOn.filter((c) => UNSAFE_RETRY_ON.includes(c));
        if (unsafe.length === 0) return;
        const why = carriesNonIdempotent(route);
        if (why === undefined) return;
        report({
          at: vs,
          path: ["spec", "http", index, "retries", "retryOn"],
          message: `${routeLabel(route, index)} of VirtualService ${vs.name} retries on ${unsafe.join(" and ")} and ${why}, with no idempotency-key header match`,
        });
      });
  },
};

export const retryPerTryTimeoutMissing: Rule = {
  id: "retry-per-try-timeout-missing",
  severity: "warning",
  category: "practice",
  title: "retries without perTryTimeout",
  reason:
    "Without a per-try timeout one hung try uses the whole route timeout, so the retries never happen when they are needed.",
  fix: "Set retries.perTryTimeout to a fraction of the route's timeout (timeout ÷ (attempts + 1) or less).",
  check(context, report) {
    for (const vs of context.objects("VirtualService"))
      httpRoutesOf(vs).forEach((route, index) => {
        if (retryAttempts(route) === 0 || asObject(route.retries).perTryTimeout !== undefined)
          return;
        report({
          at: vs,
          path: ["spec", "http", index, "retries"],
          message: `${routeLabel(route, index)} of VirtualService ${vs.name} retries ${retryAttempts(route)} times without perTryTimeout`,
        });
      });
  },
};
