import type { AnalysisSpec, ManagedTraffic, Rollout, RolloutStatus } from "../api/rollout.ts";
import type { MetricsSample } from "../analysis/judge.ts";
import { decide } from "../core/decide.ts";
import { managedFromSpec, sameManaged } from "../core/managed.ts";
import { analysisToSample } from "../core/metrics-request.ts";
import type { Action, KubeEvent, Observed, Plan, Problem } from "../core/plan.ts";
import { withWriteFailure } from "../core/write-failure.ts";

/**
 * The ports one reconcile needs. The controller implements them with the API server and
 * Prometheus; the simulator with its in-memory world. Both run the same sequence below.
 */
export interface ReconcilePorts {
  /**
   * What the cluster holds for this Rollout. Selectors, routes and claims are read through
   * `managed` (the spec's objects, or what status.managed recorded); undefined when the
   * Rollout names none that can be read. `specValid` false: the spec must not be read.
   */
  observe(
    rollout: Rollout,
    managed: ManagedTraffic | undefined,
    specValid: boolean,
  ): Promise<Omit<Observed, "metrics">>;
  sampleMetrics(
    rollout: Rollout,
    analysis: AnalysisSpec,
    observed: Omit<Observed, "metrics">,
    now: number,
  ): Promise<MetricsSample>;
  /** Executes one action; weights, routes and selectors go through `managed` (what was observed). */
  execute(
    rollout: Rollout,
    action: WriteAction,
    managed: ManagedTraffic | undefined,
  ): Promise<void>;
  writeStatus(rollout: Rollout, status: RolloutStatus): Promise<void>;
  /**
   * The written status holds pending notifications: deliver them beside reconciling.
   * Never awaited, so a slow or failing receiver cannot hold a reconcile or a release.
   */
  deliver(rollout: Rollout, status: RolloutStatus): void;
  emit(rollout: Rollout, event: KubeEvent): Promise<void>;
  /** The API server's reason for a failed write, in a sentence with no secrets. */
  describeFailure(error: unknown): string;
}

export type WriteAction = Action;

/** A write the plan needed failed; its status is stored, and the reconcile is retried with backoff. */
export class WriteFailedError extends Error {
  constructor(
    message: string,
    readonly action: WriteAction,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * One level-based reconcile: observe, sample metrics when analysis asks, decide, execute.
 * Order matters for the invariants:
 * - actions run in plan order and stop at the first failure (selector before weight,
 *   weight before scale-down); a failure is written to status with the API server's
 *   reason, and the reconcile is retried with backoff;
 * - a transition's notifications are pending in the status it writes (the outbox), so
 *   a crash at any point loses none; they are delivered beside reconciling, after.
 */
export async function reconcileOnce(
  ports: ReconcilePorts,
  rollout: Rollout,
  now: number,
  problems: readonly Problem[],
): Promise<Plan> {
  const seen = await observeTraffic(ports, rollout, problems.length === 0);
  let observed: Observed = seen;
  const analysis =
    problems.length === 0 && seen.problems === undefined
      ? analysisToSample(rollout, seen.templateHash, now)
      : undefined;
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
  let failure: WriteFailedError | undefined;
  for (const action of plan.actions) {
    try {
      await ports.execute(rollout, action, observed.managed);
    } catch (error) {
      failure = new WriteFailedError(ports.describeFailure(error), action, { cause: error });
      break;
    }
  }
  const status =
    failure === undefined
      ? plan.status
      : withWriteFailure(
          rollout.status,
          plan.status,
          failure.action,
          failure.message,
          new Date(now).toISOString(),
        );
  await ports.writeStatus(rollout, status);
  if ((status.notifications?.pending?.length ?? 0) > 0) ports.deliver(rollout, status);
  // Events are for people reading `kubectl describe`; one that cannot be written must not
  // fail a reconcile whose status is already stored.
  const events: KubeEvent[] =
    failure === undefined
      ? plan.events
      : [...plan.events, { type: "Warning", reason: "WriteFailed", message: status.message ?? "" }];
  for (const event of events) await ports.emit(rollout, event).catch(() => undefined);
  if (failure !== undefined) throw failure;
  return { ...plan, status };
}

/**
 * Observes through the spec's objects when the spec is valid. When that shows problems
 * (a route renamed to a typo, a Service that is gone) or the spec is invalid, selectors
 * and routes are read through what Aviary last managed instead, so an abort or a deletion
 * can still put traffic back there; the problems are kept.
 */
async function observeTraffic(
  ports: ReconcilePorts,
  rollout: Rollout,
  specValid: boolean,
): Promise<Omit<Observed, "metrics">> {
  const recorded = rollout.status?.managed;
  const deleting = rollout.metadata.deletionTimestamp !== undefined;
  const fromSpec = specValid ? managedFromSpec(rollout) : undefined;
  const first = deleting && recorded !== undefined ? recorded : (fromSpec ?? recorded);
  const seen = await ports.observe(rollout, first, specValid);
  if (seen.problems === undefined || recorded === undefined || sameManaged(first, recorded))
    return seen;
  const fallback = await ports.observe(rollout, recorded, specValid);
  return { ...fallback, problems: seen.problems, claims: seen.claims };
}
