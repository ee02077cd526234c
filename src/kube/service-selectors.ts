import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Service,
} from "@kubernetes/client-node";
import { FIELD_MANAGER, MANAGED_BY_ANNOTATION, POD_TEMPLATE_HASH_LABEL } from "../api/labels.ts";
import type { ManagedTraffic } from "../api/rollout.ts";
import { serviceNamesOf, strategyField } from "../core/managed.ts";
import type { Observed, ObservedClaim, ObservedSelector, Problem, Role } from "../core/plan.ts";
import { isConflict, isNotFound } from "./api-errors.ts";
import { OwnWrites } from "./own-writes.ts";
import type { ClusterCache } from "./watches.ts";

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const APPLY = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);

interface ServiceLike {
  metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { selector?: Record<string, string> };
}

export interface ServicesObserved {
  selectors: Observed["selectors"];
  selectorLabels: Observed["selectorLabels"];
  claims: ObservedClaim[];
}

/**
 * The stable and canary Services: their pod-template-hash selectors, the rest of their
 * selectors, and which Rollout claims them. Read from the watch cache (with our own writes
 * over it until the watch delivers them), written with the resourceVersion read. A
 * conflict means the cache was behind: the write is retried once on a fresh read.
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

  observe(namespace: string, managed: ManagedTraffic, problems: Problem[]): ServicesObserved {
    const services = servicesOf(managed);
    const selectors: NonNullable<Observed["selectors"]> = {};
    const selectorLabels: NonNullable<Observed["selectorLabels"]> = {};
    const claims: ObservedClaim[] = [];
    for (const role of ["stable", "canary"] as const) {
      const named = services[role];
      if (named === undefined) continue;
      const { name, path } = named;
      const service = this.current(namespace, name);
      if (service === undefined) {
        problems.push({
          path,
          message: `Service "${name}" was not found in namespace "${namespace}": create it or fix the name`,
        });
        continue;
      }
      const selector = service.spec?.selector ?? {};
      selectors[role] = selector[POD_TEMPLATE_HASH_LABEL];
      const observed: ObservedSelector = { what: `Service ${name}`, field: path, labels: selector };
      selectorLabels[role] = observed;
      // Both roles may name one Service (subset-level); it is claimed once.
      if (!claims.some((c) => c.what === observed.what))
        claims.push({
          what: `Service ${name}`,
          field: path,
          owner: service.metadata?.annotations?.[MANAGED_BY_ANNOTATION],
        });
    }
    return { selectors, selectorLabels, claims };
  }

  async select(namespace: string, service: string, hash: string): Promise<void> {
    await this.write(namespace, service, (current) =>
      current.spec?.selector?.[POD_TEMPLATE_HASH_LABEL] === hash
        ? undefined
        : { spec: { selector: { [POD_TEMPLATE_HASH_LABEL]: hash } } },
    );
  }

  /** Marks (owner) or unmarks (undefined: removes `owner`'s mark) the Services as managed by a Rollout. */
  async claim(
    namespace: string,
    managed: ManagedTraffic,
    owner: string,
    claim: boolean,
  ): Promise<void> {
    for (const name of serviceList(managed)) {
      await this.write(
        namespace,
        name,
        (current) => {
          const held = current.metadata?.annotations?.[MANAGED_BY_ANNOTATION];
          if (claim) return held === owner ? undefined : annotate(owner);
          return held === owner ? annotate(null) : undefined;
        },
        !claim,
      );
    }
  }

  /** Deletion: the Services select by the person's own labels again. */
  async restore(namespace: string, managed: ManagedTraffic): Promise<void> {
    for (const name of serviceList(managed)) {
      await this.write(
        namespace,
        name,
        (current) =>
          current.spec?.selector?.[POD_TEMPLATE_HASH_LABEL] === undefined
            ? undefined
            : { spec: { selector: { [POD_TEMPLATE_HASH_LABEL]: null } } },
        true,
      );
    }
  }

  /**
   * Sends the merge patch `change` computes from the current Service (none when it returns
   * undefined). `missingIsDone`: a Service that is gone needs no cleanup.
   */
  private async write(
    namespace: string,
    name: string,
    change: (current: ServiceLike) => ChangeBody | undefined,
    missingIsDone = false,
  ): Promise<void> {
    const cached = this.current(namespace, name);
    try {
      if (cached === undefined && missingIsDone) return;
      const body = change(cached ?? {});
      if (body === undefined) return;
      await this.patch(namespace, name, cached, body);
    } catch (error) {
      if (missingIsDone && isNotFound(error)) return;
      if (!isConflict(error) && cached !== undefined) throw error;
      // Behind the API server (or not cached yet): read it fresh and try once more.
      let fresh: V1Service;
      try {
        fresh = await this.core.readNamespacedService({ name, namespace });
      } catch (readError) {
        if (missingIsDone && isNotFound(readError)) return;
        throw readError;
      }
      const body = change(fresh);
      if (body === undefined) return;
      await this.patch(namespace, name, fresh, body);
    }
  }

  /**
   * Setting Aviary's hash selector or claim is a forced server-side apply, as field manager
   * `aviary`, of just the selector and the claim annotation (the rest of the Service keeps
   * its manager; the selector is an atomic map, so it goes whole). The
   * apply holds both whenever they are set, since an apply that omits a field it owned
   * removes it. Removing one is a merge patch with `null`: that removes it whoever else
   * shares it. Both carry the resourceVersion read, so a stale cache gives a 409.
   */
  private async patch(
    namespace: string,
    name: string,
    current: ServiceLike | undefined,
    change: ChangeBody,
  ): Promise<void> {
    const resourceVersion = current?.metadata?.resourceVersion;
    const changedHash = change.spec?.selector?.[POD_TEMPLATE_HASH_LABEL];
    const changedOwner = change.metadata?.annotations?.[MANAGED_BY_ANNOTATION];
    let patched: V1Service;
    if (changedHash === null || changedOwner === null) {
      const body = { ...change, metadata: { ...(change.metadata ?? {}), resourceVersion } };
      patched = await this.core.patchNamespacedService(
        { name, namespace, body, fieldManager: FIELD_MANAGER },
        MERGE_PATCH,
      );
    } else {
      const hash = changedHash ?? current?.spec?.selector?.[POD_TEMPLATE_HASH_LABEL];
      const owner = changedOwner ?? current?.metadata?.annotations?.[MANAGED_BY_ANNOTATION];
      const body = {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
          name,
          namespace,
          resourceVersion,
          ...(owner === undefined ? {} : { annotations: { [MANAGED_BY_ANNOTATION]: owner } }),
        },
        // Kubernetes declares a Service's selector an atomic map: an apply owns it whole, so
        // it carries the person's keys too, as they are now.
        ...(hash === undefined
          ? {}
          : {
              spec: {
                selector: { ...(current?.spec?.selector ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash },
              },
            }),
      };
      patched = await this.core.patchNamespacedService(
        { name, namespace, body, fieldManager: FIELD_MANAGER, force: true },
        APPLY,
      );
    }
    this.writes.record(namespace, name, resourceVersion, patched);
  }

  private current(namespace: string, name: string): ServiceLike | undefined {
    return this.writes.read(namespace, name, this.cache.service(namespace, name));
  }
}

/** A merge patch of the two fields Aviary sets on a Service (null removes one). */
interface ChangeBody {
  metadata?: { annotations?: Record<string, string | null> };
  spec?: { selector?: Record<string, string | null> };
}

function annotate(owner: string | null): ChangeBody {
  return { metadata: { annotations: { [MANAGED_BY_ANNOTATION]: owner } } };
}

/** The Services whose selectors Aviary narrows, by role, with the field that names each. */
function servicesOf(
  managed: ManagedTraffic,
): Record<Role, { name: string; path: string } | undefined> {
  const names = serviceNamesOf(managed);
  const field = strategyField(managed);
  const canary = managed.strategy === "canary";
  const at = (name: string | undefined, key: string) =>
    name === undefined ? undefined : { name, path: `${field}.${key}` };
  return {
    stable: at(names.stable, canary ? "stableService" : "activeService"),
    canary: at(names.canary, canary ? "canaryService" : "previewService"),
  };
}

function serviceList(managed: ManagedTraffic): string[] {
  const names = serviceNamesOf(managed);
  return [...new Set([names.stable, names.canary].filter((n) => n !== undefined))];
}
