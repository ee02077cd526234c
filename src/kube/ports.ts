import { FIELD_MANAGER } from "../api/labels.ts";
import {
  CoreV1Api,
  CoreV1Event,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import type { AnalysisSpec, ManagedTraffic, Rollout, RolloutStatus } from "../api/rollout.ts";
import { GROUP, ROLLOUT_PLURAL, VERSION } from "../api/rollout.ts";
import type { MetricsSample } from "../analysis/judge.ts";
import { templateLabels } from "../core/pod-selection.ts";
import type { KubeEvent, NotifyDefaults, Observed, ObservedClaim, Problem } from "../core/plan.ts";
import { templateHash } from "../core/template-hash.ts";
import type { ReconcilePorts, WriteAction } from "../runtime/reconcile-once.ts";
import { RoutingProblem, type TrafficRouter } from "../traffic/router.ts";
import { AnalysisSource } from "./analysis-source.ts";
import {
  describeApiError,
  isConflict,
  isNotFound,
  orNotFound,
  StaleRolloutError,
} from "./api-errors.ts";
import { RolloutFinalizer } from "./finalizer.ts";
import { PodTemplateSource, type PodTemplate } from "./pod-template-source.ts";
import { namespaceOf, ReplicaSets } from "./replica-sets.ts";
import { ServiceSelectors } from "./service-selectors.ts";
import type { ClusterCache } from "./watches.ts";
import { statusChanges, statusMergePatch } from "./status-patch.ts";
import { containerImages } from "../core/template-images.ts";

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export interface KubePortsOptions {
  kubeConfig: KubeConfig;
  /** The traffic router for what a Rollout manages, or undefined when it routes by replicas only. */
  routerFor: (managed: ManagedTraffic, namespace: string) => TrafficRouter | undefined;
  /** Told when a written status holds pending notifications (the outbox); never awaited. */
  onPendingNotifications?: ((rollout: Rollout) => void) | undefined;
  /** Notification targets with a controller-wide default, handed to decide(). */
  notifyDefaults?: NotifyDefaults | undefined;
  /** Prometheus address for Rollouts that do not name one. */
  prometheusAddress?: string | undefined;
  /** Name written as the Events' reporting component. */
  component?: string | undefined;
  /** The watch cache ReplicaSets, Services and Rollouts are read from. */
  cache: ClusterCache;
  /** Told the Rollout each status write returned, so the next read need not wait for the watch. */
  onStatusWritten?: ((rollout: Rollout, written: unknown) => void) | undefined;
}

/**
 * The ReconcilePorts on a real cluster. Observes and executes only: every release rule
 * is in core/decide(). Writes diff before writing, so a reconcile that changes nothing
 * sends nothing. Routers are built per Rollout object (one reconcile) and per target, so
 * routes and claims come from one read.
 */
export class KubePorts implements ReconcilePorts {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly replicaSets: ReplicaSets;
  private readonly services: ServiceSelectors;
  private readonly pods: PodTemplateSource;
  private readonly analysis: AnalysisSource;
  private readonly finalizer: RolloutFinalizer;
  private readonly unchanged = new WeakSet<Rollout>();
  private readonly routers = new WeakMap<Rollout, Map<string, TrafficRouter | undefined>>();
  /** The desired template per Rollout object, read in observe() and used to create ReplicaSets. */
  private readonly templates = new WeakMap<Rollout, { hash: string; template: PodTemplate }>();

  constructor(private readonly options: KubePortsOptions) {
    const { kubeConfig } = options;
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.replicaSets = new ReplicaSets(kubeConfig, options.cache);
    this.services = new ServiceSelectors(kubeConfig, options.cache);
    this.pods = new PodTemplateSource(kubeConfig, options.cache);
    this.analysis = new AnalysisSource(kubeConfig, options.prometheusAddress, (namespace) =>
      options.cache.metricTemplates(namespace),
    );
    this.finalizer = new RolloutFinalizer(kubeConfig);
  }

  async observe(
    rollout: Rollout,
    managed: ManagedTraffic | undefined,
    specValid: boolean,
  ): Promise<Omit<Observed, "metrics">> {
    const problems: Problem[] = [];
    const namespace = namespaceOf(rollout);
    const desired = specValid ? await this.pods.desired(rollout, problems) : undefined;
    const hash =
      desired === undefined
        ? (rollout.status?.canaryHash ?? rollout.status?.stableHash ?? "")
        : templateHash(desired.template);
    if (desired !== undefined) this.templates.set(rollout, { hash, template: desired.template });
    const observed: Omit<Observed, "metrics"> = {
      templateHash: hash,
      workload: desired?.workload,
      podLabels: desired === undefined ? undefined : templateLabels(desired.template),
      replicaSets: this.replicaSets.observe(rollout),
      managed,
    };
    if (managed !== undefined) await this.observeTraffic(rollout, managed, observed, problems);
    // Checking templates must never block a reconcile (abort must always work): if the
    // check itself fails, the reading fails later and analysis holds with the reason.
    if (specValid)
      problems.push(...(await this.analysis.problems(rollout).catch((): Problem[] => [])));
    if (observed.claims !== undefined) this.markStaleOwners(namespace, observed.claims);
    observed.notifyDefaults = this.options.notifyDefaults;
    if (desired !== undefined) observed.templateImages = containerImages(desired.template);
    return problems.length > 0 ? { ...observed, problems } : observed;
  }

  /** Selectors, routes and claims, read through `managed`; what is missing becomes a problem. */
  private async observeTraffic(
    rollout: Rollout,
    managed: ManagedTraffic,
    observed: Omit<Observed, "metrics">,
    problems: Problem[],
  ): Promise<void> {
    const router = this.router(rollout, managed);
    const claims: ObservedClaim[] = [];
    const asProblem = (error: unknown): void => {
      if (!(error instanceof RoutingProblem)) throw error;
      problems.push(error.problem);
    };
    if (router?.subsets !== undefined) {
      try {
        observed.selectors = await router.subsets.observe();
        observed.selectorLabels = await router.subsets.labels();
      } catch (error) {
        asProblem(error);
        observed.selectors = {};
      }
    } else {
      const services = this.services.observe(namespaceOf(rollout), managed, problems);
      observed.selectors = services.selectors;
      observed.selectorLabels = services.selectorLabels;
      claims.push(...services.claims);
    }
    if (router !== undefined) {
      try {
        observed.routes = await router.observe();
        claims.push(...(await router.claims()));
      } catch (error) {
        asProblem(error);
      }
    }
    observed.claims = claims;
  }

  /** A claim naming a Rollout that no longer exists holds nothing. */
  private markStaleOwners(namespace: string, claims: readonly ObservedClaim[]): void {
    for (const claim of claims as ObservedClaim[]) {
      if (claim.owner !== undefined)
        claim.ownerExists = this.options.cache.rollout(namespace, claim.owner) !== undefined;
    }
  }

  sampleMetrics(
    rollout: Rollout,
    analysis: AnalysisSpec,
    observed: Omit<Observed, "metrics">,
    now: number,
  ): Promise<MetricsSample> {
    return this.analysis.sample(rollout, analysis, observed, now);
  }

  async execute(
    rollout: Rollout,
    action: WriteAction,
    managed: ManagedTraffic | undefined,
  ): Promise<void> {
    const namespace = namespaceOf(rollout);
    const me = rollout.metadata.name;
    switch (action.kind) {
      case "scaleReplicaSet": {
        const desired = this.templates.get(rollout);
        const template = desired?.hash === action.hash ? desired.template : undefined;
        await this.replicaSets.scale(rollout, action.hash, action.replicas, template);
        return;
      }
      case "deleteReplicaSet":
        await this.replicaSets.delete(rollout, action.hash);
        return;
      case "setServiceSelector": {
        const subsets = managed === undefined ? undefined : this.router(rollout, managed)?.subsets;
        if (subsets !== undefined) await subsets.select(action.role, action.hash);
        else if (action.service !== undefined)
          await this.services.select(namespace, action.service, action.hash);
        else throw new Error(`no Service or subset to point the ${action.role} side at`);
        return;
      }
      case "setWeight":
        await this.requireRouter(rollout, managed).setWeight(action.canaryWeight);
        return;
      case "setHeaderRoute":
        await this.requireRouter(rollout, managed).setHeaderRoute(action.name, action.match);
        return;
      case "removeHeaderRoute":
        await this.requireRouter(rollout, managed).removeHeaderRoute(action.name);
        return;
      case "scaleWorkload":
        await this.pods.scaleWorkload(rollout, action.replicas);
        return;
      case "claim":
        await this.services.claim(namespace, action.managed, me, true);
        await this.router(rollout, action.managed)?.claim(me);
        return;
      case "release":
        await this.services.claim(namespace, action.managed, me, false);
        await this.router(rollout, action.managed)?.release(me);
        return;
      case "resetRouting":
        // Best effort (see the Action): the Rollout moves on whatever the old object says.
        try {
          await this.router(rollout, action.managed)?.reset(action.headerRoutes);
        } catch (error) {
          await this.emit(rollout, {
            type: "Warning",
            reason: "OldRouteNotReset",
            message: `could not put the traffic of the routing object this Rollout no longer names back on stable (${describeApiError(error)}); set its weights by hand`,
          }).catch(() => undefined);
        }
        return;
      case "restoreSelectors":
        await this.services.restore(namespace, action.managed);
        await this.router(rollout, action.managed)?.subsets?.restore();
        return;
      case "setFinalizer":
        await this.finalizer.set(rollout, action.present);
        return;
    }
  }

  describeFailure(error: unknown): string {
    if (error instanceof RoutingProblem) return `${error.problem.path}: ${error.problem.message}`;
    return describeApiError(error);
  }

  /**
   * Merge patch of the status subresource, conditional on the resourceVersion we read:
   * if the Rollout changed meanwhile (a new command, a spec edit), the whole reconcile is
   * re-run on fresh data rather than writing a status computed from stale input.
   */
  async writeStatus(rollout: Rollout, status: RolloutStatus): Promise<void> {
    const patch = statusMergePatch(rollout.status, status);
    if (!statusChanges(rollout.status, patch)) {
      this.unchanged.add(rollout);
      return;
    }
    const body = { metadata: { resourceVersion: rollout.metadata.resourceVersion }, status: patch };
    try {
      const written: unknown = await this.custom.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace: namespaceOf(rollout),
          plural: ROLLOUT_PLURAL,
          name: rollout.metadata.name,
          body,
          fieldManager: FIELD_MANAGER,
        },
        MERGE_PATCH,
      );
      this.options.onStatusWritten?.(rollout, written);
    } catch (error) {
      // Changed meanwhile (409), or deleted since the cache saw it (its namespace is going,
      // say): the next read goes to the API server and finds what is there. A 404 counts as
      // deleted only when a GET agrees: a CRD without the status subresource answers 404 too,
      // and must stay an error that backs off, not a re-read at once, again and again.
      if (isConflict(error) || (isNotFound(error) && (await this.rolloutGone(rollout))))
        throw new StaleRolloutError(`${namespaceOf(rollout)}/${rollout.metadata.name}`);
      throw error;
    }
  }

  private async rolloutGone(rollout: Rollout): Promise<boolean> {
    const found = await orNotFound(
      this.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: namespaceOf(rollout),
        plural: ROLLOUT_PLURAL,
        name: rollout.metadata.name,
      }) as Promise<unknown>,
    ).catch(() => "unknown");
    return found === undefined;
  }

  /** Forgets what was written for a Rollout that is gone. */
  forget(namespace: string, name: string): void {
    this.replicaSets.forget(namespace, name);
  }

  /** Delivery runs beside reconciling (src/notify/delivery.ts): this only wakes it. */
  deliver(rollout: Rollout): void {
    this.options.onPendingNotifications?.(rollout);
  }

  /** Events mark transitions: a reconcile that changed no status has none to tell. */
  async emit(rollout: Rollout, event: KubeEvent): Promise<void> {
    if (this.unchanged.has(rollout)) return;
    const namespace = namespaceOf(rollout);
    const now = new Date();
    const body = {
      metadata: { generateName: `${rollout.metadata.name}.`, namespace },
      involvedObject: {
        apiVersion: rollout.apiVersion,
        kind: rollout.kind,
        name: rollout.metadata.name,
        namespace,
        ...(rollout.metadata.uid === undefined ? {} : { uid: rollout.metadata.uid }),
        ...(rollout.metadata.resourceVersion === undefined
          ? {}
          : { resourceVersion: rollout.metadata.resourceVersion }),
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.options.component ?? "aviary-controller" },
      reportingComponent: this.options.component ?? "aviary-controller",
    };
    // The generated client types models as classes; the API takes the plain JSON shape.
    await this.core.createNamespacedEvent({
      namespace,
      body: Object.assign(new CoreV1Event(), body),
      fieldManager: FIELD_MANAGER,
    });
  }

  private router(rollout: Rollout, managed: ManagedTraffic): TrafficRouter | undefined {
    let byTarget = this.routers.get(rollout);
    if (byTarget === undefined)
      this.routers.set(rollout, (byTarget = new Map<string, TrafficRouter | undefined>()));
    const key = JSON.stringify(managed);
    if (!byTarget.has(key))
      byTarget.set(key, this.options.routerFor(managed, namespaceOf(rollout)));
    return byTarget.get(key);
  }

  private requireRouter(rollout: Rollout, managed: ManagedTraffic | undefined): TrafficRouter {
    const router = managed === undefined ? undefined : this.router(rollout, managed);
    if (router === undefined)
      throw new Error(
        "the plan changes traffic weights but the Rollout declares no trafficRouting",
      );
    return router;
  }
}
