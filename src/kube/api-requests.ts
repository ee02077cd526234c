import { KubeConfig } from "@kubernetes/client-node";

type RequestContext = Parameters<KubeConfig["applySecurityAuthentication"]>[0];

/** The Kubernetes verbs a request can be; writes are the ones that change an object. */
export const WRITE_VERBS = ["create", "update", "patch", "delete"] as const;

/**
 * The Kubernetes verb of an API request, from its method and URL: GET is `watch` with
 * `watch=true`, `list` on a collection (`…/pods`, `…/namespaces/ns/pods`), else `get`.
 * Anything that is not a resource path (`/version`, `/readyz`) is `get`.
 */
export function kubeVerb(method: string, url: string): string {
  switch (method.toUpperCase()) {
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
    case "GET":
      break;
    default:
      return method.toLowerCase();
  }
  const parsed = new URL(url, "http://localhost");
  if (parsed.searchParams.get("watch") === "true" || parsed.searchParams.get("watch") === "1")
    return "watch";
  const segments = parsed.pathname.split("/").filter((s) => s !== "");
  // /api/v1/… or /apis/group/version/…
  let rest =
    segments[0] === "api" ? segments.slice(2) : segments[0] === "apis" ? segments.slice(3) : [];
  if (rest.length === 0) return "get";
  if (rest[0] === "namespaces" && rest.length >= 3) rest = rest.slice(2);
  return rest.length === 1 ? "list" : "get";
}

/**
 * A KubeConfig that tells `count` the verb of every request made through it. client-node
 * 2.x calls `applySecurityAuthentication` once per request it sends (generated clients,
 * the generic object API and watches alike), so counting there sees them all. The copy
 * shares the source's clusters, users and authenticators; the source is left unchanged.
 */
export function countingKubeConfig(source: KubeConfig, count: (verb: string) => void): KubeConfig {
  return new CountingKubeConfig(source, count);
}

class CountingKubeConfig extends KubeConfig {
  // An ES private field: Object.assign from another CountingKubeConfig cannot overwrite it.
  readonly #count: (verb: string) => void;

  constructor(source: KubeConfig, count: (verb: string) => void) {
    super();
    Object.assign(this, source);
    this.#count = count;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    this.#count(kubeVerb(context.getHttpMethod(), context.getUrl()));
    await super.applySecurityAuthentication(context);
  }
}
