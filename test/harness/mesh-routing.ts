/**
 * The routing a mesh would apply, read from a VirtualService or an HTTPRoute: an ordered
 * list of rules, each with header conditions and weighted backends. Pure, so the mesh
 * simulator's behaviour follows the object exactly as Istio or a Gateway API mesh would.
 */

export interface HeaderCondition {
  header: string;
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface Backend {
  /** Service name (short) and namespace. */
  service: string;
  namespace: string;
  /** Istio DestinationRule subset, for subset-level routing. */
  subset?: string;
  weight: number;
}

export interface RouteRule {
  name?: string;
  /** Alternatives (OR) of header conditions (AND). Empty: the rule matches every request. */
  matches: HeaderCondition[][];
  backends: Backend[];
}

export interface RouteTable {
  hosts: string[];
  rules: RouteRule[];
}

type Json = Record<string, unknown>;

const asArray = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);
const asString = (value: unknown): string | undefined =>
  typeof value === "string" ? value : undefined;

/** `svc`, `svc.ns` or `svc.ns.svc.cluster.local` → short name and namespace. */
export function parseHost(
  host: string,
  defaultNamespace: string,
): { service: string; namespace: string } {
  const [service = host, namespace = defaultNamespace] = host.split(".");
  return { service, namespace };
}

function istioHeaderConditions(match: Json): HeaderCondition[] {
  const headers = (match.headers ?? {}) as Record<string, Json>;
  return Object.entries(headers).map(([header, condition]) => ({
    header: header.toLowerCase(),
    ...(asString(condition.exact) !== undefined ? { exact: asString(condition.exact) ?? "" } : {}),
    ...(asString(condition.prefix) !== undefined
      ? { prefix: asString(condition.prefix) ?? "" }
      : {}),
    ...(asString(condition.regex) !== undefined ? { regex: asString(condition.regex) ?? "" } : {}),
  }));
}

export function virtualServiceRoutes(vs: Json, namespace: string): RouteTable {
  const spec = (vs.spec ?? {}) as Json;
  const rules = asArray(spec.http).map((route): RouteRule => {
    const destinations = asArray(route.route);
    const backends = destinations.map((d): Backend => {
      const destination = (d.destination ?? {}) as Json;
      const { service, namespace: ns } = parseHost(asString(destination.host) ?? "", namespace);
      const subset = asString(destination.subset);
      // Istio: a lone destination without a weight takes all traffic.
      const weight = typeof d.weight === "number" ? d.weight : destinations.length === 1 ? 100 : 0;
      return { service, namespace: ns, weight, ...(subset !== undefined ? { subset } : {}) };
    });
    const name = asString(route.name);
    return {
      ...(name !== undefined ? { name } : {}),
      matches: asArray(route.match).map(istioHeaderConditions),
      backends,
    };
  });
  return { hosts: (spec.hosts as string[] | undefined) ?? [], rules };
}

export function httpRouteRoutes(route: Json, namespace: string): RouteTable {
  const spec = (route.spec ?? {}) as Json;
  const rules = asArray(spec.rules).map((rule): RouteRule => {
    const matches = asArray(rule.matches).map((m) =>
      asArray(m.headers).map((h): HeaderCondition => {
        const type = asString(h.type) ?? "Exact";
        const header = (asString(h.name) ?? "").toLowerCase();
        const value = asString(h.value) ?? "";
        return type === "RegularExpression" ? { header, regex: value } : { header, exact: value };
      }),
    );
    const backends = asArray(rule.backendRefs).map((b): Backend => ({
      service: asString(b.name) ?? "",
      namespace: asString(b.namespace) ?? namespace,
      // Gateway API: weight defaults to 1.
      weight: typeof b.weight === "number" ? b.weight : 1,
    }));
    const name = asString(rule.name);
    return { ...(name !== undefined ? { name } : {}), matches, backends };
  });
  return { hosts: (spec.hostnames as string[] | undefined) ?? [], rules };
}

function conditionHolds(
  condition: HeaderCondition,
  headers: Readonly<Record<string, string>>,
): boolean {
  const value = headers[condition.header];
  if (value === undefined) return false;
  if (condition.exact !== undefined) return value === condition.exact;
  if (condition.prefix !== undefined) return value.startsWith(condition.prefix);
  if (condition.regex !== undefined) return new RegExp(`^(?:${condition.regex})$`).test(value);
  return true;
}

/** The first rule a request with these (lower-case) headers matches, as the mesh picks it. */
export function ruleFor(
  table: RouteTable,
  headers: Readonly<Record<string, string>>,
): RouteRule | undefined {
  return table.rules.find(
    (rule) =>
      rule.matches.length === 0 ||
      rule.matches.some((alternative) =>
        alternative.every((condition) => conditionHolds(condition, headers)),
      ),
  );
}
