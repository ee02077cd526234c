import { KubeConfig } from "@kubernetes/client-node";

type RequestContext = Parameters<KubeConfig["applySecurityAuthentication"]>[0];

/** The Kubernetes verbs a request can be; writes are the ones that change an object. */
export const WRITE_VERBS = ["create", "update", "patch", "delete"] as const;

/** What a request was: its Kubernetes verb and the resource it named. */
export interface KubeRequest {
  verb: string;
  /** The resource's plural, with a subresource after a slash (`rollouts/status`); "" for non-resource paths. */
  resource: string;
}

/**
 * The Kubernetes verb and resource of an API request, from its method and URL: GET is
 * `watch` with `watch=true`, `list` on a collection (`…/pods`, `…/namespaces/ns/pods`),
 * else `get`. Anything that is not a resource path (`/version`, `/readyz`) is a `get` of "".
 */
export function kubeRequest(method: string, url: string): KubeRequest {
  const parsed = new URL(url, "http://localhost");
  const segments = parsed.pathname.split("/").filter((s) => s !== "");
  // /api/v1/… or /apis/group/version/…
  let rest =
    segments[0] === "api" ? segments.slice(2) : segments[0] === "apis" ? segments.slice(3) : [];
  // A namespace's own path (/api/v1/namespaces/ns) is the namespaces resource.
  if (rest[0] === "namespaces" && rest.length >= 3) rest = rest.slice(2);
  const resource = [rest[0], rest[2]].filter((part) => part !== undefined).join("/");
  const verb = verbOf(method, parsed, rest.length);
  return { verb, resource };
}

/** The Kubernetes verb alone (see kubeRequest). */
export function kubeVerb(method: string, url: string): string {
  return kubeRequest(method, url).verb;
}

function verbOf(method: string, url: URL, resourceSegments: number): string {
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
  if (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1")
    return "watch";
  return resourceSegments === 1 ? "list" : "get";
}

/**
 * A KubeConfig that tells `count` the verb and resource of every request made through it. client-node
 * 2.x calls `applySecurityAuthentication` once per request it sends (generated clients,
 * the generic object API and watches alike), so counting there sees them all. The copy
 * shares the source's clusters, users and authenticators and authenticates through the
 * source; the source is left unchanged and does not count its own requests.
 */
export function countingKubeConfig(
  source: KubeConfig,
  count: (request: KubeRequest) => void,
): KubeConfig {
  return new CountingKubeConfig(source, count);
}

class CountingKubeConfig extends KubeConfig {
  // An ES private field: Object.assign from another CountingKubeConfig cannot overwrite it.
  readonly #count: (request: KubeRequest) => void;
  readonly #source: KubeConfig;

  constructor(source: KubeConfig, count: (request: KubeRequest) => void) {
    super();
    Object.assign(this, source);
    this.#count = count;
    this.#source = source;
  }

  // The source authenticates: whatever it does per request (a subclass's, another
  // counter's) still happens; this copy only adds its count.
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    this.#count(kubeRequest(context.getHttpMethod(), context.getUrl()));
    await this.#source.applySecurityAuthentication(context);
  }
}
