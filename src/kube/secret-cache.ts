import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import { orNotFound } from "./api-errors.ts";

/**
 * Secrets that Rollouts name (Prometheus credentials), read with a GET and kept for a few
 * seconds. Not a watch: watching Secrets would need list/watch on every Secret in the
 * cluster. A rotated or newly created Secret is used within `ttlMs`.
 */
export class SecretCache {
  private readonly entries = new Map<
    string,
    { at: number; secret: Promise<V1Secret | undefined> }
  >();

  constructor(
    private readonly core: CoreV1Api,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The Secret, or undefined when it does not exist. Concurrent reads share one GET. */
  read(namespace: string, name: string): Promise<V1Secret | undefined> {
    const key = `${namespace}/${name}`;
    const now = this.now();
    for (const [k, entry] of this.entries) if (now - entry.at >= this.ttlMs) this.entries.delete(k);
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit.secret;
    const secret = orNotFound(this.core.readNamespacedSecret({ name, namespace }));
    // A failed GET (not a 404) is not kept: the next read tries again.
    secret.catch(() => this.entries.delete(key));
    this.entries.set(key, { at: now, secret });
    return secret;
  }
}
