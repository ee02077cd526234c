import type { Logger } from "pino";
import { parseRollout } from "../api/load.ts";
import { RolloutStatus, type Rollout } from "../api/rollout.ts";
import { reconcileOnce } from "../runtime/reconcile-once.ts";
import { StaleRolloutError } from "./api-errors.ts";
import type { ControllerMetrics } from "./controller-metrics.ts";
import type { KubePorts } from "./ports.ts";
import type { RolloutReader } from "./rollout-reader.ts";
import type { WorkResult } from "./workqueue.ts";

/**
 * A Rollout that is not Healthy is re-run at least this often even when decide() asks for
 * nothing (level-based safety net). A Healthy one waits for a watch event or the slow
 * full resync: at thousands of Rollouts, a timer each would be most of the load.
 */
const MAX_REQUEUE_SECONDS = 60;

/**
 * One reconcile of one Rollout key, from the watch cache: an invalid Rollout gets its
 * InvalidSpec status and nothing else moves; a valid one runs the shared reconcile.
 */
export class Reconciler {
  constructor(
    private readonly reader: RolloutReader,
    private readonly ports: KubePorts,
    private readonly metrics: ControllerMetrics,
    private readonly log: Logger,
  ) {}

  async reconcile(key: string): Promise<WorkResult | undefined> {
    const [namespace = "", name = ""] = key.split("/");
    const timer = this.metrics.reconcileSeconds.startTimer();
    try {
      const raw = await this.reader.read(namespace, name);
      if (raw === undefined) {
        this.metrics.forget(namespace, name);
        this.reader.forget(namespace, name);
        this.ports.forget(namespace, name);
        return undefined;
      }
      const parsed = parseRollout(raw);
      // An invalid Rollout still goes through the same reconcile: nothing moves forward,
      // but its commands run and an abort puts traffic back through status.managed.
      const rollout = parsed.ok ? parsed.rollout : shellOf(raw);
      const problems = parsed.ok ? [] : parsed.problems;
      const plan = await reconcileOnce(this.ports, rollout, Date.now(), problems);
      this.metrics.record({ metadata: rollout.metadata, status: plan.status });
      this.log.debug(
        {
          rollout: key,
          phase: plan.status.phase,
          step: plan.status.currentStepIndex,
          weight: plan.status.canaryWeight,
          actions: plan.actions.length,
        },
        "reconciled",
      );
      if (!parsed.ok) return { requeueAfter: MAX_REQUEUE_SECONDS };
      if (plan.requeueAfter !== undefined)
        return { requeueAfter: Math.min(plan.requeueAfter, MAX_REQUEUE_SECONDS) };
      return { requeueAfter: plan.status.phase === "Healthy" ? undefined : MAX_REQUEUE_SECONDS };
    } catch (error) {
      if (error instanceof StaleRolloutError) {
        this.reader.markStale(namespace, name);
        return { requeueAfter: 0 };
      }
      this.metrics.reconcileErrors.inc({ namespace, rollout: name });
      throw error;
    } finally {
      timer();
    }
  }
}

/**
 * A Rollout that failed validation, reduced to what the reconcile of an invalid spec reads:
 * identity, metadata and the stored status (if that still parses). Its spec is never read.
 */
function shellOf(raw: unknown): Rollout {
  const object = raw as { metadata?: Rollout["metadata"]; status?: unknown };
  const status = RolloutStatus.safeParse(object.status ?? {});
  return {
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: object.metadata ?? { name: "" },
    spec: {} as Rollout["spec"],
    status: status.success ? status.data : {},
  };
}
