import type { AnalysisSpec, Rollout, RolloutStatus } from "../api/rollout.ts";
import type { MetricsSample } from "../analysis/judge.ts";
import { decide } from "../core/decide.ts";
import { analysisToSample } from "../core/metrics-request.ts";
import type { Action, KubeEvent, Observed, Plan, Problem } from "../core/plan.ts";

/**
 * The ports one reconcile needs. The controller implements them with the API server and
 * Prometheus; the simulator with its in-memory world. Both run the same sequence below.
 */
export interface ReconcilePorts {
  observe(rollout: Rollout): Promise<Omit<Observed, "metrics">>;
  sampleMetrics(
    rollout: Rollout,
    analysis: AnalysisSpec,
    observed: Omit<Observed, "metrics">,
    now: number,
  ): Promise<MetricsSample>;
  execute(rollout: Rollout, action: Action): Promise<void>;
  writeStatus(rollout: Rollout, status: RolloutStatus): Promise<void>;
  /**
   * The written status holds pending notifications: deliver them beside reconciling.
   * Never awaited, so a slow or failing receiver cannot hold a reconcile or a release.
   */
  deliver(rollout: Rollout, status: RolloutStatus): void;
  emit(rollout: Rollout, event: KubeEvent): Promise<void>;
}

/**
 * One level-based reconcile: observe, sample metrics when analysis asks, decide, execute.
 * Order matters for the invariants:
 * - actions run in plan order and stop at the first failure (selector before weight,
 *   weight before scale-down);
 * - a transition's notifications are pending in the status it writes (the outbox), so
 *   a crash at any point loses none; they are delivered beside reconciling, after.
 */
export async function reconcileOnce(
  ports: ReconcilePorts,
  rollout: Rollout,
  now: number,
  problems: readonly Problem[],
): Promise<Plan> {
  const seen = await ports.observe(rollout);
  let observed: Observed = seen;
  const analysis =
    problems.length === 0 ? analysisToSample(rollout, seen.templateHash, now) : undefined;
  if (analysis !== undefined) {
    // Whatever goes wrong while reading metrics is missing data, never a failed reconcile:
    // the release holds and says why, and abort still works.
    const metrics = await ports
      .sampleMetrics(rollout, analysis, seen, now)
      .catch((error: unknown): MetricsSample => ({
        at: new Date(now).toISOString(),
        error: `could not read metrics: ${error instanceof Error ? error.message : String(error)}`,
      }));
    observed = { ...seen, metrics };
  }
  const plan = decide(rollout, observed, now, problems);
  for (const action of plan.actions) await ports.execute(rollout, action);
  await ports.writeStatus(rollout, plan.status);
  if ((plan.status.notifications?.pending?.length ?? 0) > 0) ports.deliver(rollout, plan.status);
  // Events are for people reading `kubectl describe`; one that cannot be written must not
  // fail a reconcile whose status is already stored.
  for (const event of plan.events) await ports.emit(rollout, event).catch(() => undefined);
  return plan;
}
