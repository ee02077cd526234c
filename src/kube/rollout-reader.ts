import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { GROUP, ROLLOUT_PLURAL, VERSION, type Rollout } from "../api/rollout.ts";
import { orNotFound } from "./api-errors.ts";
import { OwnWrites, type Versioned } from "./own-writes.ts";
import type { ClusterCache } from "./watches.ts";

/**
 * Where a reconcile reads its Rollout: the watch cache, with our own status writes laid
 * over it until the watch delivers them. After a conflict (the cache was behind what the
 * API server holds) the next read of that Rollout goes to the API server once.
 * Reads are deep copies: the cache's objects are shared and must never be mutated.
 */
export class RolloutReader {
  private readonly custom: CustomObjectsApi;
  private readonly writes = new OwnWrites<Versioned>();
  private readonly stale = new Set<string>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly cache: ClusterCache,
    /** Whether a Rollout with these labels is this instance's (the watch only holds those). */
    private readonly inScope: (labels: Record<string, string> | undefined) => boolean = () => true,
  ) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async read(namespace: string, name: string): Promise<unknown> {
    const key = `${namespace}/${name}`;
    const cached = this.cache.rollout(namespace, name) as Versioned | undefined;
    if (this.stale.delete(key)) {
      const fresh = await orNotFound<Versioned>(
        this.custom.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: ROLLOUT_PLURAL,
          name,
        }) as Promise<Versioned>,
      );
      // Relabelled for another instance since the watch saw it: no longer ours to touch.
      const labels = (fresh as { metadata?: { labels?: Record<string, string> } } | undefined)
        ?.metadata?.labels;
      if (fresh === undefined || !this.inScope(labels)) return undefined;
      this.writes.record(key, "", cached?.metadata?.resourceVersion, fresh);
      return fresh;
    }
    const current = this.writes.read(key, "", cached);
    return current === undefined ? undefined : structuredClone(current);
  }

  /** What a status write of `rollout` returned. */
  wrote(rollout: Rollout, written: unknown): void {
    const key = `${rollout.metadata.namespace ?? ""}/${rollout.metadata.name}`;
    this.writes.record(key, "", rollout.metadata.resourceVersion, written as Versioned);
  }

  /** The cache was behind: read this Rollout from the API server next time. */
  markStale(namespace: string, name: string): void {
    this.stale.add(`${namespace}/${name}`);
  }

  forget(namespace: string, name: string): void {
    this.writes.forget(`${namespace}/${name}`);
  }
}
