import { z } from "zod";
import { POD_TEMPLATE_HASH_LABEL } from "../../api/labels.ts";
import { RolloutStatus, type Step } from "../../api/rollout.ts";

/**
 * What the live view of a Rollout shows, as data: a pure function of the Rollout, its
 * ReplicaSets and its Events, so the terminal view and a web dashboard draw the same thing.
 * Objects are read loosely (as the API server returns them): an odd field is shown as
 * missing, never a crash.
 */
export interface RolloutView {
  namespace: string;
  name: string;
  strategy: "canary" | "blueGreen" | "unknown";
  phase: string;
  message: string | undefined;
  steps: StepView[];
  /** Canary's share of traffic; undefined before the controller reports one. */
  weight: { canary: number; stable: number } | undefined;
  replicaSets: ReplicaSetView[];
  /** Undefined when the Rollout has no analysis at all. */
  analysis: AnalysisView | undefined;
  conditions: { type: string; status: string; reason: string; message: string }[];
  /** The last few, oldest first. */
  events: EventView[];
  /** The command a person runs when the release waits for them. */
  waitingFor: { why: string; command: string } | undefined;
  /** A steering command the controller has not executed yet. */
  pendingCommand: string | undefined;
}

export interface StepView {
  number: number;
  text: string;
  state: "done" | "current" | "next";
}

export interface ReplicaSetView {
  revision: number;
  hash: string;
  role: "stable" | "canary" | "active" | "preview" | "old";
  images: string[];
  ready: number;
  desired: number;
}

export interface MetricView {
  name: string;
  verdict: string;
  canary: number | undefined;
  stable: number | undefined;
  evidence: number | undefined;
  bound: number | undefined;
  /** How far the evidence is toward the bound, 0..1, on a log scale (it is a likelihood ratio). */
  evidenceShare: number | undefined;
  /** The judge's burstiness discount on the evidence, in (0, 1]; 1 or undefined: none. */
  discount: number | undefined;
  message: string | undefined;
}

export interface AnalysisView {
  verdict: string;
  samples: number;
  message: string | undefined;
  metrics: MetricView[];
}

export interface EventView {
  time: string | undefined;
  type: string;
  reason: string;
  message: string;
}

export const EVENTS_SHOWN = 5;

/** Fields other engineers add to status (the judge's discount); read when present. */
const MetricExtras = z.looseObject({ discount: z.number().optional() });

export function rolloutView(
  rollout: unknown,
  replicaSets: readonly unknown[],
  events: readonly unknown[],
): RolloutView {
  const metadata = obj(field(rollout, "metadata"));
  const spec = obj(field(rollout, "spec"));
  const strategySpec = obj(spec.strategy);
  const canary = strategySpec.canary === undefined ? undefined : obj(strategySpec.canary);
  const blueGreen = strategySpec.blueGreen === undefined ? undefined : obj(strategySpec.blueGreen);
  const rawStatus = field(rollout, "status") ?? {};
  const parsed = RolloutStatus.safeParse(rawStatus);
  const status: RolloutStatus = parsed.success ? parsed.data : {};
  const namespace = text(metadata.namespace) ?? "";
  const name = text(metadata.name) ?? "";
  const phase = status.phase ?? "Pending";
  const rawSteps = Array.isArray(canary?.steps) ? (canary.steps as Step[]) : [];
  const steps = stepViews(rawSteps, status);
  const hasAnalysis =
    canary?.analysis !== undefined ||
    blueGreen?.prePromotionAnalysis !== undefined ||
    blueGreen?.postPromotionAnalysis !== undefined;
  return {
    namespace,
    name,
    strategy: canary !== undefined ? "canary" : blueGreen !== undefined ? "blueGreen" : "unknown",
    phase,
    message: status.message,
    steps,
    weight:
      status.canaryWeight === undefined
        ? undefined
        : { canary: status.canaryWeight, stable: 100 - status.canaryWeight },
    replicaSets: replicaSetViews(replicaSets, status, blueGreen !== undefined),
    analysis: hasAnalysis ? analysisView(status, rawStatus) : undefined,
    conditions: (status.conditions ?? []).map(({ type, status: s, reason, message }) => ({
      type,
      status: s,
      reason,
      message,
    })),
    events: eventViews(events),
    waitingFor: waitingFor(status, rawSteps, blueGreen, `${name} -n ${namespace}`),
    pendingCommand:
      status.command !== undefined && status.command.id !== status.lastCommandId
        ? `${status.command.name} (id ${status.command.id})`
        : undefined,
  };
}

export function stepText(step: Step): string {
  if (step.setWeight !== undefined) return `setWeight ${step.setWeight}%`;
  if (step.pause !== undefined)
    return step.pause.duration === undefined
      ? "pause until promoted"
      : `pause ${step.pause.duration}`;
  if (step.analysis !== undefined)
    return `analysis${step.analysis.duration === undefined ? "" : ` ${step.analysis.duration}`}`;
  if (step.setHeaderRoute !== undefined) {
    const matches = step.setHeaderRoute.match
      .map(
        (m) =>
          `${m.header}${m.exact !== undefined ? `=${m.exact}` : m.prefix !== undefined ? `=${m.prefix}*` : `~${m.regex ?? ""}`}`,
      )
      .join(", ");
    return `header route ${step.setHeaderRoute.name}: ${matches}`;
  }
  if (step.setCanaryScale !== undefined) {
    const s = step.setCanaryScale;
    return `canary scale ${s.replicas !== undefined ? `${s.replicas} replicas` : s.weight !== undefined ? `${s.weight}%` : "matches traffic"}`;
  }
  return "(unknown step)";
}

function stepViews(steps: readonly Step[], status: RolloutStatus): StepView[] {
  const done = status.phase === "Healthy";
  const current = status.currentStepIndex;
  return steps.map((step, index) => ({
    number: index + 1,
    text: stepText(step),
    state:
      done || (current !== undefined && index < current)
        ? "done"
        : index === current
          ? "current"
          : "next",
  }));
}

function replicaSetViews(
  objects: readonly unknown[],
  status: RolloutStatus,
  blueGreen: boolean,
): ReplicaSetView[] {
  const byAge = [...objects].sort((a, b) =>
    (text(field(field(a, "metadata"), "creationTimestamp")) ?? "").localeCompare(
      text(field(field(b, "metadata"), "creationTimestamp")) ?? "",
    ),
  );
  const views = byAge.map((rs, index): ReplicaSetView => {
    const hash = text(obj(obj(field(rs, "metadata")).labels)[POD_TEMPLATE_HASH_LABEL]) ?? "?";
    const template = obj(obj(field(rs, "spec")).template);
    const containers = obj(template.spec).containers;
    const images = (Array.isArray(containers) ? containers : []).flatMap(
      (c: unknown) => text(field(c, "image")) ?? [],
    );
    const role =
      hash === status.stableHash
        ? blueGreen
          ? "active"
          : "stable"
        : hash === status.canaryHash
          ? blueGreen
            ? "preview"
            : "canary"
          : "old";
    return {
      revision: index + 1,
      hash,
      role,
      images,
      ready: num(field(field(rs, "status"), "readyReplicas")) ?? 0,
      desired: num(field(field(rs, "spec"), "replicas")) ?? 0,
    };
  });
  // Newest first, as people read a release: the canary above the stable.
  return views.reverse();
}

function analysisView(status: RolloutStatus, rawStatus: unknown): AnalysisView {
  const analysis = status.analysis;
  const rawMetrics = field(field(rawStatus, "analysis"), "metrics");
  const metrics = (analysis?.metrics ?? []).map((m, index): MetricView => {
    const extras = MetricExtras.safeParse(Array.isArray(rawMetrics) ? rawMetrics[index] : {});
    const discount = extras.success ? extras.data.discount : undefined;
    return {
      name: m.name,
      verdict: m.verdict,
      canary: m.canary,
      stable: m.stable,
      evidence: m.evidence,
      bound: m.bound,
      evidenceShare: evidenceShare(m.evidence, m.bound),
      discount: discount !== undefined && discount < 1 ? discount : undefined,
      message: m.message,
    };
  });
  return {
    verdict: analysis?.verdict ?? "not started",
    samples: analysis?.samples ?? 0,
    message: analysis?.message,
    metrics,
  };
}

/** log(evidence) / log(bound), clamped: 0 at no evidence (1), 1 at the bound. */
export function evidenceShare(
  evidence: number | undefined,
  bound: number | undefined,
): number | undefined {
  if (evidence === undefined || bound === undefined || !(bound > 1) || !Number.isFinite(evidence))
    return undefined;
  return Math.min(1, Math.max(0, Math.log(Math.max(evidence, 1)) / Math.log(bound)));
}

function eventViews(events: readonly unknown[]): EventView[] {
  const views = events.map((e): EventView & { sortKey: string } => {
    const time =
      text(field(e, "lastTimestamp")) ??
      text(field(e, "eventTime")) ??
      text(field(field(e, "metadata"), "creationTimestamp"));
    return {
      time,
      type: text(field(e, "type")) ?? "Normal",
      reason: text(field(e, "reason")) ?? "",
      message: text(field(e, "message")) ?? "",
      sortKey: `${time ?? ""}${text(field(field(e, "metadata"), "resourceVersion"))?.padStart(20, "0") ?? ""}`,
    };
  });
  return views
    .sort((a, b) => a.sortKey.localeCompare(b.sortKey))
    .slice(-EVENTS_SHOWN)
    .map(({ sortKey: _sortKey, ...view }) => view);
}

function waitingFor(
  status: RolloutStatus,
  steps: readonly Step[],
  blueGreen: Record<string, unknown> | undefined,
  target: string,
): RolloutView["waitingFor"] {
  if (status.manualPause === true)
    return { why: "paused by a person", command: `aviary resume ${target}` };
  if (status.phase !== "Paused") return undefined;
  const step = status.currentStepIndex === undefined ? undefined : steps[status.currentStepIndex];
  const waitsForPromote =
    (step?.pause !== undefined && step.pause.duration === undefined) ||
    (blueGreen !== undefined && blueGreen.autoPromotionEnabled === false);
  if (!waitsForPromote) return undefined;
  return { why: "the release waits for a person", command: `aviary promote ${target}` };
}

function field(object: unknown, key: string): unknown {
  return typeof object === "object" && object !== null && !Array.isArray(object)
    ? (object as Record<string, unknown>)[key]
    : undefined;
}

function obj(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}
