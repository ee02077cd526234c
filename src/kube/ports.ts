import {
  AppsV1Api,
  CoreV1Api,
  CoreV1Event,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import type { AnalysisSpec, Rollout, RolloutStatus } from "../api/rollout.ts";
import { GROUP, ROLLOUT_PLURAL, VERSION } from "../api/rollout.ts";
import { METRIC_TEMPLATE_PLURAL, type MetricTemplate } from "../api/metric-template.ts";
import { parseMetricTemplate } from "../api/load.ts";
import type { MetricsSample } from "../analysis/judge.ts";
import type { Action, KubeEvent, NotifyDefaults, Observed, Problem, Role } from "../core/plan.ts";
import { templateHash } from "../core/template-hash.ts";
import { analysisSpecProblems, observeMetrics } from "../metrics/observe.ts";
import { connectionFor, createPrometheusProvider } from "../metrics/prometheus.ts";
import type { ReconcilePorts } from "../runtime/reconcile-once.ts";
import { RoutingProblem, type TrafficRouter } from "../traffic/router.ts";
import { isConflict, isNotFound, orNotFound, StaleRolloutError } from "./api-errors.ts";
import { namespaceOf, ReplicaSets } from "./replica-sets.ts";
import { ServiceSelectors } from "./service-selectors.ts";
import type { ClusterCache } from "./watches.ts";
import { resolvePrometheusAuth } from "./prometheus-auth.ts";
import { statusChanges, statusMergePatch } from "./status-patch.ts";
import { containerImages } from "../core/template-images.ts";

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export interface KubePortsOptions {
  kubeConfig: KubeConfig;
  /** The traffic router for a Rollout, or undefined when it routes by replicas only. */
  routerFor: (rollout: Rollout) => TrafficRouter | undefined;
  /** Told when a written status holds pending notifications (the outbox); never awaited. */
  onPendingNotifications?: ((rollout: Rollout) => void) | undefined;
  /** Notification targets with a controller-wide default, handed to decide(). */
  notifyDefaults?: NotifyDefaults | undefined;
  /** Prometheus address for Rollouts that do not name one. */
  prometheusAddress?: string | undefined;
  /** Name written as the Events' reporting component. */
  component?: string | undefined;
  /** The watch cache ReplicaSets and Services are read from. */
  cache: ClusterCache;
  /** Told the Rollout each status write returned, so the next read need not wait for the watch. */
  onStatusWritten?: ((rollout: Rollout, written: unknown) => void) | undefined;
}

type PodTemplate = Record<string, unknown>;

/**
 * The ReconcilePorts on a real cluster. Observes and executes only: every release rule
 * is in core/decide(). Writes diff before writing, so a reconcile that changes nothing
 * sends nothing.
 */
export class KubePorts implements ReconcilePorts {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly replicaSets: ReplicaSets;
  private readonly services: ServiceSelectors;
  private readonly unchanged = new WeakSet<Rollout>();
  private readonly routers = new WeakMap<Rollout, TrafficRouter | undefined>();
  /** The desired template per Rollout object, read in observe() and used to create ReplicaSets. */
  private readonly templates = new WeakMap<Rollout, { hash: string; template: PodTemplate }>();
  /** The referenced Deployment's replicas, read while resolving spec.workloadRef. */
  private readonly workloads = new WeakMap<Rollout, { replicas: number }>();

  constructor(private readonly options: KubePortsOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.apps = options.kubeConfig.makeApiClient(AppsV1Api);
    this.custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.replicaSets = new ReplicaSets(options.kubeConfig, options.cache);
    this.services = new ServiceSelectors(options.kubeConfig, options.cache);
  }

  async observe(rollout: Rollout): Promise<Omit<Observed, "metrics">> {
    const problems: Problem[] = [];
    const desired = await this.desiredTemplate(rollout, problems);
    const hash =
      desired === undefined
        ? (rollout.status?.canaryHash ?? rollout.status?.stableHash ?? "")
        : templateHash(desired);
    if (desired !== undefined) this.templates.set(rollout, { hash, template: desired });
    const replicaSets = this.replicaSets.observe(rollout);
    const router = this.router(rollout);
    const selectors = await this.observeSelectors(rollout, router, problems);
    let routes: Observed["routes"];
    if (router !== undefined) {
      try {
        routes = await router.observe();
      } catch (error) {
        if (!(error instanceof RoutingProblem)) throw error;
        problems.push(error.problem);
      }
    }
    // Checking templates must never block a reconcile (abort must always work): if the
    // check itself fails, the reading fails later and analysis holds with the reason.
    problems.push(...(await this.analysisProblems(rollout).catch((): Problem[] => [])));
    return {
      templateHash: hash,
      workload: this.workloads.get(rollout),
      replicaSets,
      selectors,
      routes,
      problems: problems.length > 0 ? problems : undefined,
      templateImages: desired === undefined ? undefined : containerImages(desired),
      notifyDefaults: this.options.notifyDefaults,
    };
  }

  async sampleMetrics(
    rollout: Rollout,
    analysis: AnalysisSpec,
    observed: Omit<Observed, "metrics">,
    now: number,
  ): Promise<MetricsSample> {
    const auth = await resolvePrometheusAuth(this.core, namespaceOf(rollout), analysis.prometheus);
    if (!auth.ok) return { at: new Date(now).toISOString(), error: auth.error };
    const provider = createPrometheusProvider(
      connectionFor(analysis.prometheus, {
        address: this.options.prometheusAddress,
        auth: auth.auth,
      }),
    );
    const hashes = {
      canaryHash: rollout.status?.canaryHash ?? observed.templateHash,
      stableHash: rollout.status?.stableHash ?? observed.templateHash,
    };
    const templates = await this.metricTemplates(rollout, analysis);
    return observeMetrics(rollout, hashes, provider, new Date(now), { analysis, templates });
  }

  async execute(rollout: Rollout, action: Action): Promise<void> {
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
      case "setServiceSelector":
        await this.setServiceSelector(rollout, action.service, action.role, action.hash);
        return;
      case "setWeight":
        await this.requireRouter(rollout).setWeight(action.canaryWeight);
        return;
      case "setHeaderRoute":
        await this.requireRouter(rollout).setHeaderRoute(action.name, action.match);
        return;
      case "removeHeaderRoute":
        await this.requireRouter(rollout).removeHeaderRoute(action.name);
        return;
      case "scaleWorkload":
        await this.scaleWorkload(rollout, action.replicas);
        return;
    }
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
        },
        MERGE_PATCH,
      );
      this.options.onStatusWritten?.(rollout, written);
    } catch (error) {
      if (isConflict(error))
        throw new StaleRolloutError(`${namespaceOf(rollout)}/${rollout.metadata.name}`);
      throw error;
    }
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
    });
  }

  private router(rollout: Rollout): TrafficRouter | undefined {
    if (!this.routers.has(rollout)) this.routers.set(rollout, this.options.routerFor(rollout));
    return this.routers.get(rollout);
  }

  private requireRouter(rollout: Rollout): TrafficRouter {
    const router = this.router(rollout);
    if (router === undefined)
      throw new Error(
        "the plan changes traffic weights but the Rollout declares no trafficRouting",
      );
    return router;
  }

  /** spec.template, or the template of the Deployment named by spec.workloadRef. */
  private async desiredTemplate(
    rollout: Rollout,
    problems: Problem[],
  ): Promise<PodTemplate | undefined> {
    if (rollout.spec.template !== undefined) return rollout.spec.template;
    const ref = rollout.spec.workloadRef;
    if (ref === undefined) return undefined;
    const deployment = await orNotFound(
      this.apps.readNamespacedDeployment({ name: ref.name, namespace: namespaceOf(rollout) }),
    );
    if (deployment?.spec?.template === undefined) {
      problems.push({
        path: "spec.workloadRef.name",
        message: `Deployment "${ref.name}" was not found in namespace "${namespaceOf(rollout)}": create it or fix the name`,
      });
      return undefined;
    }
    this.workloads.set(rollout, { replicas: deployment.spec.replicas ?? 1 });
    return JSON.parse(JSON.stringify(deployment.spec.template)) as PodTemplate;
  }

  private async scaleWorkload(rollout: Rollout, replicas: number): Promise<void> {
    const ref = rollout.spec.workloadRef;
    if (ref === undefined) return;
    await this.apps.patchNamespacedDeployment(
      { name: ref.name, namespace: namespaceOf(rollout), body: { spec: { replicas } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  private async observeSelectors(
    rollout: Rollout,
    router: TrafficRouter | undefined,
    problems: Problem[],
  ): Promise<Observed["selectors"]> {
    if (router?.subsets !== undefined) {
      try {
        return await router.subsets.observe();
      } catch (error) {
        if (!(error instanceof RoutingProblem)) throw error;
        problems.push(error.problem);
        return {};
      }
    }
    return this.services.observe(rollout, problems);
  }

  private async setServiceSelector(
    rollout: Rollout,
    service: string,
    role: Role,
    hash: string,
  ): Promise<void> {
    const router = this.router(rollout);
    if (router?.subsets !== undefined) {
      await router.subsets.select(role, hash);
      return;
    }
    await this.services.select(rollout, service, hash);
  }

  /**
   * MetricTemplates that are missing or use unknown variables: InvalidSpec, found before
   * any reading is attempted. Only Rollouts that reference templates pay for the LIST.
   */
  private async analysisProblems(rollout: Rollout): Promise<Problem[]> {
    const { canary, blueGreen } = rollout.spec.strategy;
    const analyses: [string, AnalysisSpec | undefined][] = [
      ["spec.strategy.canary.analysis", canary?.analysis],
      ["spec.strategy.blueGreen.prePromotionAnalysis", blueGreen?.prePromotionAnalysis],
      ["spec.strategy.blueGreen.postPromotionAnalysis", blueGreen?.postPromotionAnalysis],
    ];
    const problems: Problem[] = [];
    for (const [path, analysis] of analyses) {
      if (analysis === undefined || !analysis.metrics.some((m) => m.templateRef !== undefined))
        continue;
      const templates = await this.metricTemplates(rollout, analysis);
      for (const problem of analysisSpecProblems(rollout, templates, analysis)) {
        problems.push({ path: problem.field.replace(/^analysis/, path), message: problem.message });
      }
    }
    return problems;
  }

  private async metricTemplates(
    rollout: Rollout,
    analysis: AnalysisSpec,
  ): Promise<Record<string, MetricTemplate>> {
    if (!analysis.metrics.some((m) => m.templateRef !== undefined)) return {};
    try {
      const list = (await this.custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: namespaceOf(rollout),
        plural: METRIC_TEMPLATE_PLURAL,
      })) as { items?: unknown[] };
      const templates: Record<string, MetricTemplate> = {};
      for (const item of list.items ?? []) {
        const parsed = parseMetricTemplate(item);
        if (parsed.ok) templates[parsed.template.metadata.name] = parsed.template;
      }
      return templates;
    } catch (error) {
      if (isNotFound(error)) return {};
      throw error;
    }
  }
}
