import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Service,
} from "@kubernetes/client-node";
import { POD_TEMPLATE_HASH_LABEL } from "../api/labels.ts";
import type { Rollout } from "../api/rollout.ts";
import type { Observed, Problem, Role } from "../core/plan.ts";
import { isConflict } from "./api-errors.ts";
import { OwnWrites } from "./own-writes.ts";
import { namespaceOf } from "./replica-sets.ts";
import type { ClusterCache } from "./watches.ts";

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

interface ServiceLike {
  metadata?: { name?: string; resourceVersion?: string };
  spec?: { selector?: Record<string, string> };
}

/**
 * The stable and canary Services' pod-template-hash selectors: read from the watch cache
 * (with our own writes over it until the watch delivers them), written with the
 * resourceVersion read. A conflict means the cache was behind: the write is retried once
 * on a fresh read from the API server.
 */
export class ServiceSelectors {
  private readonly core: CoreV1Api;
  private readonly writes = new OwnWrites<ServiceLike>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly cache: ClusterCache,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  observe(rollout: Rollout, problems: Problem[]): Observed["selectors"] {
    const services = servicesOf(rollout);
    const namespace = namespaceOf(rollout);
    const read = (role: Role): string | undefined => {
      const { name, path } = services[role];
      const service = this.current(namespace, name);
      if (service === undefined) {
        problems.push({
          path,
          message: `Service "${name}" was not found in namespace "${namespace}": create it or fix the name`,
        });
        return undefined;
      }
      return service.spec?.selector?.[POD_TEMPLATE_HASH_LABEL];
    };
    return { stable: read("stable"), canary: read("canary") };
  }

  async select(rollout: Rollout, service: string, hash: string): Promise<void> {
    const namespace = namespaceOf(rollout);
    const cached = this.current(namespace, service);
    if (cached?.spec?.selector?.[POD_TEMPLATE_HASH_LABEL] === hash) return;
    try {
      await this.patch(namespace, service, cached, hash);
    } catch (error) {
      if (!isConflict(error) && cached !== undefined) throw error;
      // Behind the API server (or not cached yet): read it fresh and try once more.
      const fresh = await this.core.readNamespacedService({ name: service, namespace });
      if (fresh.spec?.selector?.[POD_TEMPLATE_HASH_LABEL] === hash) return;
      await this.patch(namespace, service, fresh, hash);
    }
  }

  private async patch(
    namespace: string,
    name: string,
    current: ServiceLike | undefined,
    hash: string,
  ): Promise<void> {
    const body = {
      metadata: { resourceVersion: current?.metadata?.resourceVersion },
      spec: { selector: { [POD_TEMPLATE_HASH_LABEL]: hash } },
    };
    const patched: V1Service = await this.core.patchNamespacedService(
      { name, namespace, body },
      MERGE_PATCH,
    );
    this.writes.record(namespace, name, current?.metadata?.resourceVersion, patched);
  }

  private current(namespace: string, name: string): ServiceLike | undefined {
    return this.writes.read(namespace, name, this.cache.service(namespace, name));
  }
}

/** The two Services of a strategy, by role, with the field that names each. */
export function servicesOf(rollout: Rollout): Record<Role, { name: string; path: string }> {
  const { canary, blueGreen } = rollout.spec.strategy;
  if (canary !== undefined) {
    return {
      stable: { name: canary.stableService, path: "spec.strategy.canary.stableService" },
      canary: { name: canary.canaryService, path: "spec.strategy.canary.canaryService" },
    };
  }
  if (blueGreen === undefined) throw new Error("the Rollout declares no strategy");
  return {
    stable: { name: blueGreen.activeService, path: "spec.strategy.blueGreen.activeService" },
    canary: { name: blueGreen.previewService, path: "spec.strategy.blueGreen.previewService" },
  };
}
