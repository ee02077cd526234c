import type { Json } from "../traffic/json-patch.ts";
import type { RoutingReads } from "../traffic/routing-object.ts";
import { OwnWrites, type Versioned } from "./own-writes.ts";
import type { ClusterCache } from "./watches.ts";

/**
 * The routers' reads of VirtualServices, DestinationRules and HTTPRoutes: the watch cache,
 * with the routers' own writes over it until the watch delivers them (read-your-writes).
 * A write computed from a cache that was behind fails its resourceVersion precondition,
 * and the router retries on a read from the API server.
 */
export function cachedRouting(cache: ClusterCache): RoutingReads {
  const writes = new OwnWrites<Versioned>();
  return {
    read: (resource, namespace, name) => {
      const cached = cache.routingObject(resource.plural, namespace, name) as Versioned | undefined;
      return writes.read(`${resource.plural}/${namespace}`, name, cached) as Json | undefined;
    },
    wrote: (resource, namespace, name, replaced, object) => {
      writes.record(`${resource.plural}/${namespace}`, name, replaced, object);
    },
  };
}
