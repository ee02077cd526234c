import { FINALIZER } from "../api/labels.ts";
import type { AnalysisSpec, Rollout } from "../api/rollout.ts";
import type { MetricsSample } from "../analysis/judge.ts";
import type { Notification, Problem } from "../core/plan.ts";
import { DEFAULT_RETRY_POLICY, recordAttempt } from "../core/outbox-delivery.ts";
import { templateHash } from "../core/template-hash.ts";
import { containerImages } from "../core/template-images.ts";
import { describeStep } from "../core/steps.ts";
import { reconcileOnce, type ReconcilePorts } from "../runtime/reconcile-once.ts";
import { applyMergePatch } from "../runtime/merge-patch.ts";
import { statusMergePatch } from "../kube/status-patch.ts";
import { SimWorld } from "./world.ts";
import { scenario, type ScenarioName } from "./scenarios.ts";
import type { VersionBehaviour } from "./traffic-model.ts";

export interface SimulationOptions {
  scenario: ScenarioName;
  rps?: number | undefined;
  canaryErrorRate?: number | undefined;
  stableErrorRate?: number | undefined;
  seed: number;
  /** Seconds a new pod takes to become available. */
  podReadySeconds: number;
  /** Virtual seconds after which the simulation gives up. */
  maxSeconds: number;
  /** Act as a person who runs `aviary promote` this many seconds after an indefinite pause. */
  promoteAfterSeconds: number | undefined;
  start: number;
  /** Called after every reconcile with the world as it now is (tests check invariants here). */
  onReconcile?: ((world: SimWorld, status: Rollout["status"]) => void) | undefined;
}

export const DEFAULT_SIMULATION: Omit<SimulationOptions, "scenario"> = {
  seed: 1,
  podReadySeconds: 10,
  maxSeconds: 6 * 3600,
  promoteAfterSeconds: 60,
  start: Date.parse("2026-01-05T10:00:00Z"),
};

/** A release held by inconclusive analysis this long is reported as paused (it would wait forever). */
const HELD_GIVE_UP_MS = 30 * 60_000;

export interface VersionReading {
  successRate?: number | undefined;
  p99Ms?: number | undefined;
}

export interface TimelineRow {
  /** Seconds since the release started. */
  t: number;
  phase: string;
  step: string;
  canaryWeight: number;
  canary: VersionReading;
  stable: VersionReading;
  verdict: string;
  message: string;
}

export type Outcome = "promoted" | "rolledBack" | "paused" | "unfinished";

export interface SimulationResult {
  rollout: string;
  scenario: ScenarioName;
  outcome: Outcome;
  reason: string;
  durationSeconds: number;
  stableHash: string;
  canaryHash: string;
  timeline: TimelineRow[];
  /** What a controller with a default Slack webhook would have posted, `t` seconds into the release. */
  notifications: SimulatedNotification[];
}

export type SimulatedNotification = Notification & { t: number };

/**
 * Releases the Rollout's template over a running previous version in a simulated
 * cluster and mesh, driving the release engine exactly as the controller does.
 */
export async function simulate(
  input: Rollout,
  problems: readonly Problem[],
  options: SimulationOptions,
): Promise<SimulationResult> {
  const base = scenario(options.scenario);
  const behaviours = {
    stable: withErrorRate(base.stable, options.stableErrorRate),
    canary: withErrorRate(base.canary, options.canaryErrorRate),
  };
  const newTemplate = input.spec.template ?? { workloadRef: input.spec.workloadRef };
  const previousTemplate = { ...newTemplate, simulatedPrevious: true };
  const canaryHash = templateHash(newTemplate);
  const stableHash = templateHash(previousTemplate);
  const routed =
    (input.spec.strategy.canary ?? input.spec.strategy.blueGreen)?.trafficRouting !== undefined;
  const world = new SimWorld(
    {
      seed: options.seed,
      rps: options.rps ?? base.rps,
      podReadySeconds: options.podReadySeconds,
      behaviour: (hash) => (hash === canaryHash ? behaviours.canary : behaviours.stable),
      routed,
      headerShare: 0.05,
    },
    options.start,
  );
  let currentHash = stableHash;
  let releaseStart = world.now;
  const notifications: SimulatedNotification[] = [];
  const ports: ReconcilePorts = {
    observe: (_r, managed) =>
      Promise.resolve({
        templateHash: currentHash,
        managed,
        replicaSets: world.observeReplicaSets(),
        selectors: { ...world.selectors },
        routes: routed
          ? { canaryWeight: world.canaryWeight, headerRoutes: [...world.headerRoutes] }
          : undefined,
        templateImages: containerImages(currentHash === canaryHash ? newTemplate : undefined),
        // As if the controller had a default Slack webhook: every Rollout shows what it would post.
        notifyDefaults: { slack: true },
      }),
    sampleMetrics: (_r: Rollout, _a: AnalysisSpec, seen): Promise<MetricsSample> =>
      Promise.resolve({
        at: new Date(world.now).toISOString(),
        canary: world.counterFor(
          seen.selectors?.canary === seen.selectors?.stable ? undefined : seen.selectors?.canary,
        ),
        stable: world.counterFor(seen.selectors?.stable),
      }),
    execute: (r, action) => {
      // The finalizer lives on the Rollout itself, not in the simulated cluster.
      if (action.kind === "setFinalizer") r.metadata.finalizers = action.present ? [FINALIZER] : [];
      else world.execute(action);
      return Promise.resolve();
    },
    describeFailure: (error) => (error instanceof Error ? error.message : String(error)),
    // Stored through the same merge patch the controller sends, so every reconcile starts
    // from exactly what a restarted controller would read back.
    writeStatus: (r, status) =>
      Promise.resolve(
        void (r.status = applyMergePatch(
          r.status,
          statusMergePatch(r.status, status),
        ) as Rollout["status"]),
      ),
    // The outbox delivered at once: each pending notification is "posted" and marked sent.
    deliver: (r) => {
      for (const entry of r.status?.notifications?.pending ?? []) {
        const { id, kind, severity, title, message } = entry;
        notifications.push({
          t: Math.round((world.now - releaseStart) / 1000),
          id,
          kind,
          severity,
          title,
          message,
        });
        for (const { target } of entry.deliveries)
          r.status = recordAttempt(
            r.status ?? {},
            id,
            target,
            { ok: true },
            world.now,
            DEFAULT_RETRY_POLICY,
            0,
          ).status;
      }
    },
    emit: () => Promise.resolve(),
  };

  // Bring the previous version up as stable, as it would be on a real cluster.
  const rollout: Rollout = structuredClone(input);
  delete rollout.status;
  const healthy = (): boolean => rollout.status?.phase === "Healthy";
  for (let i = 0; i < 100 && !healthy(); i++) {
    await reconcileOnce(ports, rollout, world.now, problems);
    if (problems.length > 0) break;
    world.advance(1);
  }
  notifications.length = 0;

  currentHash = canaryHash;
  releaseStart = world.now;
  const timeline: TimelineRow[] = [];
  let pausedSince: number | undefined;
  let heldSince: number | undefined;
  let commandCount = 0;
  let outcome: Outcome = "unfinished";
  let reason = `no outcome after ${options.maxSeconds}s`;
  while (world.now - releaseStart <= options.maxSeconds * 1000) {
    const plan = await reconcileOnce(ports, rollout, world.now, problems);
    const status = plan.status;
    options.onReconcile?.(world, rollout.status);
    record(timeline, rollout, (world.now - releaseStart) / 1000);
    if (problems.length > 0) {
      outcome = "paused";
      reason = status.message ?? "invalid spec";
      break;
    }
    if (status.stableHash === canaryHash && status.phase === "Healthy") {
      outcome = "promoted";
      reason = `${canaryHash} promoted to stable`;
      break;
    }
    if (
      status.abortedAt !== undefined &&
      world.canaryWeight === 0 &&
      world.headerRoutes.length === 0
    ) {
      outcome = "rolledBack";
      reason = status.abortReason ?? "rolled back";
      break;
    }
    const waitingForPerson =
      status.phase === "Paused" && (status.message ?? "").includes("aviary promote");
    pausedSince = waitingForPerson ? (pausedSince ?? world.now) : undefined;
    if (pausedSince !== undefined) {
      if (options.promoteAfterSeconds === undefined) {
        outcome = "paused";
        reason = status.message ?? "paused";
        break;
      }
      if (world.now - pausedSince >= options.promoteAfterSeconds * 1000) {
        rollout.status = {
          ...status,
          command: { name: "promote", id: `sim-${++commandCount}`, requestedBy: "simulated user" },
        };
        pausedSince = undefined;
      }
    }
    heldSince =
      status.phase === "Paused" && (status.message ?? "").includes("inconclusive")
        ? (heldSince ?? world.now)
        : undefined;
    if (heldSince !== undefined && world.now - heldSince > HELD_GIVE_UP_MS) {
      outcome = "paused";
      reason = status.message ?? "analysis inconclusive";
      break;
    }
    world.advance(Math.min(plan.requeueAfter ?? 5, 5));
  }
  return {
    rollout: input.metadata.name,
    scenario: options.scenario,
    outcome,
    reason,
    durationSeconds: Math.round((world.now - releaseStart) / 1000),
    stableHash,
    canaryHash,
    timeline,
    notifications,
  };
}

function withErrorRate(
  behaviour: VersionBehaviour,
  errorRate: number | undefined,
): VersionBehaviour {
  return errorRate === undefined ? behaviour : { ...behaviour, errorRate };
}

/** Appends a timeline row when something a person would notice changed. */
function record(timeline: TimelineRow[], rollout: Rollout, t: number): void {
  const st = rollout.status ?? {};
  const steps = rollout.spec.strategy.canary?.steps ?? [];
  const index = st.currentStepIndex ?? 0;
  const metric = (name: "successRate" | "latencyP99") =>
    st.analysis?.metrics.find((m) =>
      name === "successRate" ? /success/i.test(m.name) : /p99|latency/i.test(m.name),
    );
  const success = metric("successRate");
  const latency = metric("latencyP99");
  const row: TimelineRow = {
    t: Math.round(t),
    phase: st.phase ?? "",
    step:
      steps.length === 0
        ? "-"
        : `${Math.min(index + 1, steps.length)}/${steps.length} ${describeStep(steps[index])}`,
    canaryWeight: st.canaryWeight ?? 0,
    canary: { successRate: success?.canary, p99Ms: latency?.canary },
    stable: { successRate: success?.stable, p99Ms: latency?.stable },
    verdict: st.analysis?.verdict ?? "-",
    message: st.message ?? "",
  };
  const last = timeline.at(-1);
  const changed =
    last === undefined ||
    last.phase !== row.phase ||
    last.step !== row.step ||
    last.canaryWeight !== row.canaryWeight ||
    last.verdict !== row.verdict ||
    row.t - last.t >= 300;
  if (changed) timeline.push(row);
}
