import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Rollout } from "../api/rollout.ts";
import { Phase } from "../api/rollout.ts";

const ABORT_REASONS = ["RolledBack", "Aborted"] as const;

/** The controller's own metrics, on a registry of its own (two controllers in one test process never clash). */
export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly phase = new Gauge({
    name: "aviary_rollout_phase",
    help: "1 for the Rollout's current phase, 0 for the others",
    labelNames: ["namespace", "rollout", "phase"],
    registers: [this.registry],
  });
  private readonly weight = new Gauge({
    name: "aviary_rollout_canary_weight",
    help: "Percent of traffic the canary receives",
    labelNames: ["namespace", "rollout"],
    registers: [this.registry],
  });
  private readonly step = new Gauge({
    name: "aviary_rollout_step_index",
    help: "Index of the current canary step",
    labelNames: ["namespace", "rollout"],
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: "aviary_reconcile_duration_seconds",
    help: "Time one reconcile of one Rollout takes",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: "aviary_reconcile_errors_total",
    help: "Reconciles that failed and were retried with backoff",
    labelNames: ["namespace", "rollout"],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "aviary_workqueue_depth",
    help: "Rollouts waiting to be reconciled",
    registers: [this.registry],
  });
  private readonly aborts = new Counter({
    name: "aviary_rollout_aborts_total",
    help: "Releases that ended aborted: reason RolledBack (analysis or deadline) or Aborted (a person)",
    labelNames: ["namespace", "rollout", "reason"],
    registers: [this.registry],
  });
  private readonly evidence = new Gauge({
    name: "aviary_analysis_evidence",
    help: "Sequential judge: the evidence against the canary so far, per metric (rolled back at the bound)",
    labelNames: ["namespace", "rollout", "metric"],
    registers: [this.registry],
  });
  private readonly bound = new Gauge({
    name: "aviary_analysis_evidence_bound",
    help: "Sequential judge: the evidence at which the canary is rolled back (1/alpha), per metric",
    labelNames: ["namespace", "rollout", "metric"],
    registers: [this.registry],
  });
  private readonly leader = new Gauge({
    name: "aviary_controller_leader",
    help: "1 while this replica holds the leader Lease (or runs without election), else 0",
    registers: [this.registry],
  });
  /**
   * Every request to the API server, by Kubernetes verb (get, list, watch, create, update,
   * patch, delete) and resource (`events`, `rollouts/status`): which kind a write load is.
   */
  readonly apiRequests = new Counter({
    name: "aviary_kube_api_requests_total",
    help: "Requests the controller sent to the Kubernetes API server, by verb and resource",
    labelNames: ["verb", "resource"],
    registers: [this.registry],
  });
  /** Per Rollout: the abort last seen (so one abort counts once) and the metrics reported. */
  private readonly seen = new Map<string, { abortedAt: string | undefined; metrics: string[] }>();

  /**
   * Adds prom-client's process metrics (RSS, heap, CPU seconds, event-loop lag, GC) to this
   * registry. Only the controller's own process does: in-process controllers in tests
   * would each add timers and observers for the same process.
   */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * A replica that stops leading stops reconciling: it drops its per-Rollout series, so only
   * the leader reports them and dashboards need not pick among replicas.
   */
  setLeader(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
    if (leading) return;
    for (const gauge of [this.phase, this.weight, this.step, this.evidence, this.bound])
      gauge.reset();
    this.seen.clear();
  }

  record(rollout: Pick<Rollout, "metadata" | "status">): void {
    const labels = { namespace: rollout.metadata.namespace ?? "", rollout: rollout.metadata.name };
    const current = rollout.status?.phase;
    for (const phase of Phase.options)
      this.phase.set({ ...labels, phase }, phase === current ? 1 : 0);
    this.weight.set(labels, rollout.status?.canaryWeight ?? 0);
    this.step.set(labels, rollout.status?.currentStepIndex ?? 0);

    const key = `${labels.namespace}/${labels.rollout}`;
    const before = this.seen.get(key);
    const abortedAt = rollout.status?.abortedAt;
    // Series start at 0, so increase() over the first abort sees it (a counter born at 1 is not).
    if (before === undefined)
      for (const reason of ABORT_REASONS) this.aborts.inc({ ...labels, reason }, 0);
    // A Rollout first seen already aborted (a restart, a new leader) was counted before.
    if (before !== undefined && abortedAt !== undefined && abortedAt !== before.abortedAt) {
      const progressing = rollout.status?.conditions?.find((c) => c.type === "Progressing");
      const reason = progressing?.reason === "RolledBack" ? "RolledBack" : "Aborted";
      this.aborts.inc({ ...labels, reason });
    }
    const judged = (rollout.status?.analysis?.metrics ?? []).filter(
      (m) => m.evidence !== undefined,
    );
    for (const name of before?.metrics ?? [])
      if (!judged.some((m) => m.name === name)) this.forgetMetric(labels, name);
    for (const m of judged) {
      this.evidence.set({ ...labels, metric: m.name }, m.evidence ?? 0);
      if (m.bound !== undefined) this.bound.set({ ...labels, metric: m.name }, m.bound);
    }
    this.seen.set(key, { abortedAt, metrics: judged.map((m) => m.name) });
  }

  private forgetMetric(labels: { namespace: string; rollout: string }, metric: string): void {
    this.evidence.remove({ ...labels, metric });
    this.bound.remove({ ...labels, metric });
  }

  forget(namespace: string, name: string): void {
    const labels = { namespace, rollout: name };
    for (const phase of Phase.options) this.phase.remove({ ...labels, phase });
    this.weight.remove(labels);
    this.step.remove(labels);
    const key = `${namespace}/${name}`;
    for (const metric of this.seen.get(key)?.metrics ?? []) this.forgetMetric(labels, metric);
    for (const reason of ABORT_REASONS) this.aborts.remove({ ...labels, reason });
    this.seen.delete(key);
  }
}
