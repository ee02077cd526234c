import type { CanaryStrategy, Step } from "../api/rollout.ts";
import { durationMs } from "../api/duration.ts";
import type { Decision } from "./context.ts";
import { foldSample, freshAnalysis, nextSampleAt } from "./analysis.ts";
import { ms, secondsBetween } from "./clock.ts";
import {
  abort,
  abortedAtMs,
  completePromotion,
  notifyDeadlineExceeded,
  returnTrafficToStable,
  startRelease,
} from "./release.ts";
import { canaryReplicasFor, describeStep, stepsCompleted, targetWeight } from "./steps.ts";
import { promoteCommand } from "./notification-details.ts";
import {
  actionHold,
  holdReason,
  reassertCompletedSteps,
  routedCanaryReplicas,
  selectCanary,
  type Capacity,
} from "./canary-traffic.ts";
import {
  firstDeploy,
  retireOldReplicaSets,
  select,
  steady,
  type ServiceNames,
} from "./workload.ts";

/** What a step is waiting for, when it is not done. `deadline` waits count toward progressDeadlineSeconds. */
type StepResult =
  { done: true } | { done: false; message: string; deadline: boolean; paused?: boolean };

const DONE: StepResult = { done: true };

export function reconcileCanary(d: Decision, s: CanaryStrategy): void {
  const services: ServiceNames = { stable: s.stableService, canary: s.canaryService };
  const st = d.status;
  const hash = d.observed.templateHash;
  if (st.stableHash === undefined) {
    firstDeploy(d, services);
  } else if (hash === st.stableHash) {
    if (st.canaryHash !== undefined && st.canaryHash !== st.stableHash) {
      // The template went back to stable mid-release: withdraw the canary, no verdict needed.
      if (returnTrafficToStable(d, services, st.canaryHash, 0, d.now)) {
        d.event(
          "Normal",
          "ReleaseWithdrawn",
          `template is back to stable ${st.stableHash}; canary ${st.canaryHash} withdrawn`,
        );
        delete st.canaryHash;
        delete st.abortedAt;
        delete st.abortReason;
      } else {
        d.phase("Progressing", "template is back to stable: returning traffic to stable");
      }
    }
    if (st.canaryHash === undefined) steady(d, services);
  } else {
    if (st.canaryHash !== hash) {
      startRelease(d, hash, s.abortScaleDownDelaySeconds);
      if (s.steps.length === 0)
        d.event(
          "Normal",
          "NoSteps",
          "spec.strategy.canary.steps is empty: the new version is promoted as soon as its pods are available, with no traffic steps or analysis",
        );
    }
    if (st.abortedAt !== undefined) rollback(d, s, services, hash);
    else progress(d, s, services, hash);
  }
  retireOldReplicaSets(d);
}

function rollback(d: Decision, s: CanaryStrategy, services: ServiceNames, hash: string): void {
  const back = returnTrafficToStable(
    d,
    services,
    hash,
    s.abortScaleDownDelaySeconds,
    abortedAtMs(d),
  );
  const degraded =
    d.status.conditions?.find((c) => c.type === "Progressing")?.reason === "RolledBack";
  const reason = d.status.abortReason ?? "aborted";
  d.phase(
    degraded ? "Degraded" : "Aborted",
    back ? reason : `${reason} (returning traffic to stable)`,
  );
}

function progress(d: Decision, s: CanaryStrategy, services: ServiceNames, hash: string): void {
  const st = d.status;
  const steps = s.steps;
  const replicas = d.spec.replicas;
  const routing = d.observed.routes !== undefined;
  let index = Math.min(st.currentStepIndex ?? 0, steps.length);
  const promoting = st.promoteFull === true || index >= steps.length;

  // Size both versions for the weight we are heading to, never below what the weight the
  // router sends the canary right now needs (a lower weight is confirmed first).
  const heading = promoting ? 100 : targetWeight(steps, index);
  const routedNeeds = routedCanaryReplicas(d, hash);
  const canaryWanted = Math.max(
    promoting ? replicas : canaryReplicasFor(replicas, heading, st.canaryScale),
    routedNeeds,
  );
  d.scale(hash, canaryWanted, "canary");
  const canaryAvailable = d.available(hash);
  const stableWanted = routing
    ? replicas
    : Math.max(0, replicas - Math.min(canaryAvailable, canaryWanted));
  if (st.stableHash !== undefined && !promoting) d.scale(st.stableHash, stableWanted, "stable");

  // The canary Service moves to the new pods before any weight does, and only once no
  // traffic goes through it (it may still point at a replaced canary); until then no canary weight.
  const canarySelected = canaryAvailable > 0 && selectCanary(d, services, hash);
  if (!canarySelected) d.weight(0);

  if (runAnalysis(d, s)) return;

  const hold = holdReason(d, s);
  if (canarySelected && !promoting) reassertCompletedSteps(d, steps, index, canaryAvailable);
  let result: StepResult = DONE;
  if (promoting) {
    result = promote(d, s, services, hash, hold);
  } else {
    const completedNow: number[] = [];
    while (index < steps.length) {
      const capacity = {
        canarySelected,
        canaryAvailable,
        canaryWanted,
        hold: actionHold(d, s, hold),
      };
      result = runStep(d, s, steps[index], capacity);
      if (!result.done) break;
      if (hold !== undefined) {
        result = {
          done: false,
          message: `${describeStep(steps[index])} done; ${hold}`,
          deadline: false,
          paused: true,
        };
        break;
      }
      index++;
      st.currentStepIndex = index;
      st.stepStartedAt = d.nowIso;
      st.lastProgressAt = d.nowIso;
      st.stepAnalysisBaseSeconds = st.analysis?.conclusiveSeconds ?? 0;
      completedNow.push(index);
      const completed = `step ${index}/${steps.length} completed (${describeStep(steps[index - 1])})`;
      d.notify({
        id: `${hash}:stepCompleted:${index}`,
        kind: "stepCompleted",
        severity: "info",
        title: `${d.rollout.metadata.name}: ${completed}`,
        message: `Canary ${hash}: ${completed}.`,
      });
    }
    if (completedNow.length > 0)
      d.event("Normal", "StepCompleted", stepsCompleted(steps, completedNow));
    if (index >= steps.length && result.done) result = promote(d, s, services, hash, hold);
    else if (st.canaryScale !== undefined)
      d.scale(
        hash,
        Math.max(
          canaryReplicasFor(replicas, targetWeight(steps, index), st.canaryScale),
          routedNeeds,
        ),
        "canary",
      );
  }
  st.canaryWeight =
    d.observed.routes?.canaryWeight ?? Math.round((100 * canaryAvailable) / Math.max(1, replicas));
  if (result.done) return;
  // A hold (inconclusive analysis, manual pause, window) is what a person needs to see, even mid-step.
  if (hold !== undefined && !result.message.includes(hold))
    result = {
      ...result,
      message: `${result.message}; held: ${hold}`,
      paused: true,
      deadline: false,
    };
  report(d, s, result);
}

function runStep(
  d: Decision,
  s: CanaryStrategy,
  step: Step | undefined,
  cap: Capacity,
): StepResult {
  const st = d.status;
  const started = ms(st.stepStartedAt) ?? d.now;
  if (step === undefined) return DONE;
  if (step.setWeight !== undefined) {
    // Sized for this step's weight: a step reached within this reconcile may need more pods than the last one.
    const wanted = canaryReplicasFor(d.spec.replicas, step.setWeight, st.canaryScale);
    if (st.canaryHash !== undefined)
      d.scale(st.canaryHash, Math.max(wanted, cap.canaryWanted), "canary");
    if (cap.canaryAvailable < wanted || !cap.canarySelected) {
      return {
        done: false,
        message: `waiting for the canary: ${cap.canaryAvailable}/${wanted} replicas available`,
        deadline: true,
      };
    }
    const current = d.observed.routes?.canaryWeight ?? 0;
    if (cap.hold !== undefined && step.setWeight > current)
      return { done: false, message: `holding at ${current}%`, deadline: false, paused: true };
    d.weight(step.setWeight);
    const pending = d.observed.routes?.pending;
    if (pending !== undefined)
      return { done: false, message: `waiting for the route: ${pending}`, deadline: true };
    if (d.observed.routes === undefined || d.observed.routes.canaryWeight === step.setWeight)
      return DONE;
    d.wakeAtMs(d.now + 1_000);
    return { done: false, message: `setting canary weight to ${step.setWeight}%`, deadline: true };
  }
  if (step.pause !== undefined) {
    if (step.pause.duration === undefined) {
      d.notify({
        id: `${st.canaryHash ?? ""}:paused:${st.currentStepIndex ?? 0}`,
        kind: "paused",
        severity: "info",
        title: `${d.rollout.metadata.name} is paused`,
        message: `Waiting for \`${promoteCommand(d)}\` at step ${(st.currentStepIndex ?? 0) + 1}.`,
      });
      return {
        done: false,
        message: "paused: waiting for `aviary promote`",
        deadline: false,
        paused: true,
      };
    }
    const end = started + durationMs(step.pause.duration);
    if (d.now >= end) return DONE;
    d.wakeAtMs(end);
    return {
      done: false,
      message: `paused for ${step.pause.duration}, until ${new Date(end).toISOString()}`,
      deadline: false,
      paused: true,
    };
  }
  if (step.analysis !== undefined) {
    const analysis = st.analysis;
    if (analysis?.verdict === "Passed") return DONE;
    const wanted =
      step.analysis.duration !== undefined
        ? durationMs(step.analysis.duration) / 1000
        : (5 * durationMs(s.analysis?.interval ?? "30s")) / 1000;
    const gathered = (analysis?.conclusiveSeconds ?? 0) - (st.stepAnalysisBaseSeconds ?? 0);
    if (gathered >= wanted) return DONE;
    return {
      done: false,
      message: `analysing: ${Math.floor(gathered)}s of ${wanted}s of conclusive data`,
      deadline: false,
    };
  }
  if (step.setHeaderRoute !== undefined) {
    const { name, match } = step.setHeaderRoute;
    if (!cap.canarySelected)
      return {
        done: false,
        message: "waiting for a canary pod before adding the header route",
        deadline: true,
      };
    if (cap.hold !== undefined && d.observed.routes?.headerRoutes.includes(name) !== true)
      return {
        done: false,
        message: `header route ${name} not added yet`,
        deadline: false,
        paused: true,
      };
    st.headerRoutes = [...new Set([...(st.headerRoutes ?? []), name])];
    if (d.observed.routes?.headerRoutes.includes(name) === true) return DONE;
    d.act({ kind: "setHeaderRoute", name, match });
    d.wakeAtMs(d.now + 1_000);
    return { done: false, message: `adding header route ${name}`, deadline: true };
  }
  if (step.setCanaryScale !== undefined) {
    const scale = step.setCanaryScale;
    if (scale.matchTrafficWeight === true) delete st.canaryScale;
    else
      st.canaryScale =
        scale.replicas !== undefined ? { replicas: scale.replicas } : { weight: scale.weight ?? 0 };
    return DONE;
  }
  return DONE;
}

/** After the last step: the canary becomes stable. Selector first, then weights, then the old version leaves. */
function promote(
  d: Decision,
  s: CanaryStrategy,
  services: ServiceNames,
  hash: string,
  hold: string | undefined,
): StepResult {
  const st = d.status;
  const replicas = d.spec.replicas;
  if (d.available(hash) < replicas) {
    return {
      done: false,
      message: `promoting: waiting for ${d.available(hash)}/${replicas} canary replicas`,
      deadline: true,
    };
  }
  // Once the stable Service has moved, the promotion is in flight: finish it whatever holds.
  const inFlight = d.observed.selectors?.stable === hash;
  if (hold !== undefined && st.promoteFull !== true && !inFlight)
    return { done: false, message: `ready to promote; ${hold}`, deadline: false, paused: true };
  if (!select(d, services, "stable", hash))
    return {
      done: false,
      message: "promoting: moving the stable Service to the new version",
      deadline: true,
    };
  d.weight(0);
  const routed = d.observed.routes?.headerRoutes ?? [];
  for (const name of routed) d.act({ kind: "removeHeaderRoute", name });
  if (
    d.observed.routes !== undefined &&
    (d.observed.routes.canaryWeight !== 0 || routed.length > 0)
  ) {
    d.wakeAtMs(d.now + 1_000);
    return {
      done: false,
      message: "promoting: returning weights to the stable route",
      deadline: true,
    };
  }
  st.headerRoutes = [];
  st.currentStepIndex = s.steps.length;
  completePromotion(d, services, hash, s.scaleDownDelaySeconds);
  return DONE;
}

/** Folds a metrics reading; rolls back on a failed verdict. Returns true when it aborted. */
function runAnalysis(d: Decision, s: CanaryStrategy): boolean {
  const spec = s.analysis;
  const st = d.status;
  if (spec === undefined || st.promoteFull === true) return false;
  st.analysis ??= freshAnalysis(d.nowIso);
  if (d.observed.metrics !== undefined)
    st.analysis = foldSample(spec, st.analysis, d.observed.metrics);
  if (st.analysis.verdict === "Failed") {
    abort(d, `analysis failed: ${st.analysis.message ?? "a metric failed"}`, true);
    rollback(d, s, { stable: s.stableService, canary: s.canaryService }, st.canaryHash ?? "");
    return true;
  }
  d.wakeAtMs(nextSampleAt(spec, st.analysis, d.now));
  return false;
}

/** Writes phase, message and the progress deadline for a release that is waiting. */
function report(d: Decision, s: CanaryStrategy, result: Exclude<StepResult, { done: true }>): void {
  const st = d.status;
  const index = st.currentStepIndex ?? 0;
  const where =
    index < s.steps.length
      ? `step ${index + 1}/${s.steps.length} (${describeStep(s.steps[index])})`
      : "promotion";
  const message = `${where}: ${result.message}`;
  if (result.paused === true) {
    d.phase("Paused", message);
    d.condition("Paused", "True", "Paused", message);
  } else {
    d.phase("Progressing", message);
    d.condition("Paused", "False", "Running", "not paused");
  }
  // The deadline counts only waits that should end on their own (pods, routers). Other
  // waits clear the clock rather than restamp it, so a held Rollout's status stays still.
  if (!result.deadline) {
    delete st.lastProgressAt;
    return;
  }
  st.lastProgressAt ??= d.nowIso;
  const since = ms(st.lastProgressAt) ?? d.now;
  const waited = secondsBetween(since, d.now);
  if (waited <= d.spec.progressDeadlineSeconds) {
    d.wakeAtMs(since + d.spec.progressDeadlineSeconds * 1000 + 1000);
    d.condition("Progressing", "True", "ReplicaSetUpdated", message);
    return;
  }
  const reason = `progress deadline exceeded: no progress for ${Math.round(waited)}s (progressDeadlineSeconds ${d.spec.progressDeadlineSeconds}) at ${message}`;
  if (d.spec.progressDeadlineAbort) {
    abort(d, reason, true, true);
    rollback(d, s, { stable: s.stableService, canary: s.canaryService }, st.canaryHash ?? "");
  } else {
    d.condition("Progressing", "False", "ProgressDeadlineExceeded", reason);
    d.phase("Degraded", reason);
    notifyDeadlineExceeded(d, reason);
  }
}
