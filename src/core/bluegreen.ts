import type { BlueGreenStrategy } from "../api/rollout.ts";
import { durationMs } from "../api/duration.ts";
import type { Decision } from "./context.ts";
import { foldSample, freshAnalysis, nextSampleAt } from "./analysis.ts";
import { ms } from "./clock.ts";
import {
  abort,
  abortedAtMs,
  notifyDeadlineExceeded,
  completePromotion,
  returnTrafficToStable,
  startRelease,
} from "./release.ts";
import { checkPromotionWindows } from "./windows.ts";
import { promoteCommand } from "./notification-details.ts";
import {
  firstDeploy,
  retireOldReplicaSets,
  select,
  steady,
  type ServiceNames,
} from "./workload.ts";

type Wait = { message: string; paused: boolean; deadline: boolean } | undefined;

/**
 * Blue/green: the new version runs at full size behind the preview Service; promotion
 * switches the active Service (or, with traffic routing, the weight 0 → 100), and the old
 * version leaves after scaleDownDelaySeconds, once post-promotion analysis has passed.
 */
export function reconcileBlueGreen(d: Decision, s: BlueGreenStrategy): void {
  const services: ServiceNames = { stable: s.activeService, canary: s.previewService };
  const st = d.status;
  const hash = d.observed.templateHash;
  if (st.stableHash === undefined) {
    firstDeploy(d, services);
  } else if (hash === st.stableHash) {
    if (st.canaryHash !== undefined && returnTrafficToStable(d, services, st.canaryHash, 0, d.now))
      delete st.canaryHash;
    if (st.canaryHash === undefined) steady(d, services);
  } else {
    if (st.canaryHash !== hash) startRelease(d, hash, s.abortScaleDownDelaySeconds);
    const wait =
      st.abortedAt !== undefined ? rollback(d, s, services, hash) : release(d, s, services, hash);
    if (wait !== undefined) report(d, wait);
  }
  retireOldReplicaSets(d);
}

function rollback(d: Decision, s: BlueGreenStrategy, services: ServiceNames, hash: string): Wait {
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
    back ? reason : `${reason} (returning traffic to the active version)`,
  );
  return undefined;
}

function release(d: Decision, s: BlueGreenStrategy, services: ServiceNames, hash: string): Wait {
  const st = d.status;
  const replicas = d.spec.replicas;
  d.scale(hash, replicas, "canary");
  if (st.stableHash !== undefined) d.scale(st.stableHash, replicas, "stable");
  const available = d.available(hash);
  if (available < replicas)
    return {
      message: `preview ${available}/${replicas} replicas available`,
      paused: false,
      deadline: true,
    };
  if (!select(d, services, "canary", hash))
    return {
      message: "pointing the preview Service at the new version",
      paused: false,
      deadline: true,
    };
  st.previewReadyAt ??= d.nowIso;

  if (st.promotedAt === undefined) {
    const pre = analyse(d, s.prePromotionAnalysis, "pre-promotion");
    if (pre !== "done") return pre;
    const gate = promotionGate(d, s);
    if (gate !== undefined) return gate;
    if (d.observed.routes !== undefined) {
      d.weight(100);
      const pending = d.observed.routes.pending;
      if (pending !== undefined)
        return { message: `waiting for the route: ${pending}`, paused: false, deadline: true };
      if (d.observed.routes.canaryWeight !== 100)
        return { message: "switching traffic to the preview", paused: false, deadline: true };
    } else if (!select(d, services, "stable", hash)) {
      return {
        message: "switching the active Service to the new version",
        paused: false,
        deadline: true,
      };
    }
    st.promotedAt = d.nowIso;
    st.lastProgressAt = d.nowIso;
    st.analysis = freshAnalysis(d.nowIso);
    d.event("Normal", "Switched", `traffic switched to ${hash}`);
    if (s.postPromotionAnalysis !== undefined && st.promoteFull !== true) {
      // This reconcile's reading was taken for the pre-promotion test; the next one starts the post-promotion test.
      d.wakeAtMs(d.now + 1_000);
      return {
        message: "switched; post-promotion analysis starts",
        paused: false,
        deadline: false,
      };
    }
  }

  const post = analyse(d, s.postPromotionAnalysis, "post-promotion");
  if (post !== "done") return post;

  // Finalise: the active Service takes the new version, then routing returns to it.
  if (!select(d, services, "stable", hash))
    return {
      message: "moving the active Service to the new version",
      paused: false,
      deadline: true,
    };
  d.weight(0);
  if (d.observed.routes !== undefined && d.observed.routes.canaryWeight !== 0) {
    return { message: "returning the route to the active Service", paused: false, deadline: true };
  }
  completePromotion(d, services, hash, s.scaleDownDelaySeconds);
  return undefined;
}

type Analysed = "done" | Wait;

/** Runs a pre- or post-promotion analysis until it has `duration` of conclusive data, or passes early. */
function analyse(
  d: Decision,
  spec: BlueGreenStrategy["prePromotionAnalysis"],
  label: string,
): Analysed {
  const st = d.status;
  if (spec === undefined || st.promoteFull === true) return "done";
  st.analysis ??= freshAnalysis(d.nowIso);
  if (d.observed.metrics !== undefined)
    st.analysis = foldSample(spec, st.analysis, d.observed.metrics);
  const verdict = st.analysis.verdict;
  if (verdict === "Failed") {
    abort(d, `${label} analysis failed: ${st.analysis.message ?? "a metric failed"}`, true);
    return undefined;
  }
  const wanted = durationMs(spec.duration) / 1000;
  if (verdict === "Passed" || st.analysis.conclusiveSeconds >= wanted) return "done";
  d.wakeAtMs(nextSampleAt(spec, st.analysis, d.now));
  if (verdict === "Inconclusive") {
    return {
      message: `${label} analysis inconclusive: ${st.analysis.message ?? "no data"}`,
      paused: true,
      deadline: false,
    };
  }
  return {
    message: `${label} analysis: ${Math.floor(st.analysis.conclusiveSeconds)}s of ${wanted}s`,
    paused: false,
    deadline: false,
  };
}

/** What keeps a ready preview from being promoted. */
function promotionGate(d: Decision, s: BlueGreenStrategy): Wait {
  const st = d.status;
  if (st.promoteFull === true || st.promoteRequested === true) return undefined;
  if (st.manualPause === true)
    return { message: "paused by `aviary pause`", paused: true, deadline: false };
  if (!s.autoPromotionEnabled) {
    d.notify({
      id: `${st.canaryHash ?? ""}:paused:preview`,
      kind: "paused",
      severity: "info",
      title: `${d.rollout.metadata.name} is paused`,
      message: `The preview of ${st.canaryHash ?? "the new version"} is ready. Waiting for \`${promoteCommand(d)}\`.`,
    });
    return {
      message: "preview ready: waiting for `aviary promote`",
      paused: true,
      deadline: false,
    };
  }
  if (s.autoPromotionSeconds !== undefined) {
    const at = (ms(st.previewReadyAt) ?? d.now) + s.autoPromotionSeconds * 1000;
    if (d.now < at) {
      d.wakeAtMs(at);
      return {
        message: `preview ready: promoting on its own at ${new Date(at).toISOString()}`,
        paused: true,
        deadline: false,
      };
    }
  }
  const window = checkPromotionWindows(s.promotionWindows, d.now);
  if (!window.open) {
    d.wakeAtMs(window.opensAt);
    return {
      message: "preview ready: outside the promotion windows",
      paused: true,
      deadline: false,
    };
  }
  return undefined;
}

function report(d: Decision, wait: NonNullable<Wait>): void {
  const st = d.status;
  if (st.abortedAt !== undefined) return;
  d.phase(wait.paused ? "Paused" : "Progressing", wait.message);
  d.condition(
    "Paused",
    wait.paused ? "True" : "False",
    wait.paused ? "Paused" : "Running",
    wait.message,
  );
  // As for canaries: only waits that should end on their own count toward the deadline.
  if (!wait.deadline) {
    delete st.lastProgressAt;
    return;
  }
  st.lastProgressAt ??= d.nowIso;
  const since = ms(st.lastProgressAt) ?? d.now;
  if (d.now - since <= d.spec.progressDeadlineSeconds * 1000) {
    d.wakeAtMs(since + d.spec.progressDeadlineSeconds * 1000 + 1000);
    return;
  }
  const reason = `progress deadline exceeded after ${d.spec.progressDeadlineSeconds}s: ${wait.message}`;
  if (d.spec.progressDeadlineAbort) abort(d, reason, true, true);
  else {
    d.phase("Degraded", reason);
    notifyDeadlineExceeded(d, reason);
  }
}
