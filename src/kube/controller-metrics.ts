import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Rollout } from "../api/rollout.ts";
import { Phase } from "../api/rollout.ts";

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

  record(rollout: Pick<Rollout, "metadata" | "status">): void {
    const labels = { namespace: rollout.metadata.namespace ?? "", rollout: rollout.metadata.name };
    const current = rollout.status?.phase;
    for (const phase of Phase.options)
      this.phase.set({ ...labels, phase }, phase === current ? 1 : 0);
    this.weight.set(labels, rollout.status?.canaryWeight ?? 0);
    this.step.set(labels, rollout.status?.currentStepIndex ?? 0);
  }

  forget(namespace: string, name: string): void {
    const labels = { namespace, rollout: name };
    for (const phase of Phase.options) this.phase.remove({ ...labels, phase });
    this.weight.remove(labels);
    this.step.remove(labels);
  }
}
