import { RolloutStatus, type MetricStatus } from "../api/rollout.ts";

/**
 * Rendering of Rollouts as the API server returns them, for `aviary status` and
 * `aviary list`. Objects are read loosely: a Rollout with an odd status is still shown.
 */

export interface RolloutView {
  namespace: string;
  name: string;
  strategy: "canary" | "blueGreen" | "unknown";
  steps: number | undefined;
  created: string | undefined;
  /** Whether the spec asks for analysis at all; without it, status says nothing about analysis. */
  hasAnalysis: boolean;
  status: RolloutStatus;
}

export function viewOf(object: unknown): RolloutView {
  const metadata = field(object, "metadata");
  const strategy = field(field(object, "spec"), "strategy");
  const canary = field(strategy, "canary");
  const steps = field(canary, "steps");
  const blueGreen = field(strategy, "blueGreen");
  const parsedStatus = RolloutStatus.safeParse(field(object, "status") ?? {});
  return {
    namespace: text(field(metadata, "namespace")) ?? "",
    name: text(field(metadata, "name")) ?? "",
    strategy:
      canary !== undefined
        ? "canary"
        : field(strategy, "blueGreen") !== undefined
          ? "blueGreen"
          : "unknown",
    steps: Array.isArray(steps) ? steps.length : canary !== undefined ? 0 : undefined,
    created: text(field(metadata, "creationTimestamp")),
    hasAnalysis:
      field(canary, "analysis") !== undefined ||
      field(blueGreen, "prePromotionAnalysis") !== undefined ||
      field(blueGreen, "postPromotionAnalysis") !== undefined,
    status: parsedStatus.success ? parsedStatus.data : {},
  };
}

export function stepText(view: RolloutView): string {
  const index = view.status.currentStepIndex;
  if (view.steps === undefined) return "-";
  // People count steps from 1, as the status message does ("step 2/5 (pause 2m)").
  return `${index === undefined ? "-" : String(Math.min(index + 1, view.steps))}/${view.steps}`;
}

export function weightText(view: RolloutView): string {
  const weight = view.status.canaryWeight;
  return weight === undefined ? "-" : `${weight}%`;
}

/** Everything `aviary status` shows: where the release is and what analysis thinks. */
export function formatStatus(view: RolloutView): string {
  const s = view.status;
  const lines = [
    `Rollout ${view.namespace}/${view.name} (${view.strategy})`,
    ...pairs([
      ["phase", s.phase ?? "(not reconciled yet)"],
      ["step", stepText(view)],
      ["weight", weightText(view)],
      ["stable", s.stableHash ?? "-"],
      ["canary", s.canaryHash ?? "-"],
      ["message", s.message ?? ""],
      ["pending", pendingCommand(s)],
      ["notify", notificationProblem(s)],
    ]),
  ];
  const analysis = s.analysis;
  if (!view.hasAnalysis) lines.push("", "Analysis: none (the Rollout has no analysis)");
  else if (analysis !== undefined) {
    const summary = `${analysis.verdict}, ${analysis.samples} sample${analysis.samples === 1 ? "" : "s"}`;
    lines.push(
      "",
      `Analysis: ${summary}${analysis.message === undefined ? "" : ` — ${analysis.message}`}`,
    );
    if (analysis.metrics.length > 0)
      lines.push(...indent(table(metricHeader, analysis.metrics.map(metricRow))));
  }
  return lines.join("\n");
}

/** One line per change while watching: enough for a CI log. */
export function formatProgressLine(view: RolloutView): string {
  const s = view.status;
  const message = s.message === undefined || s.message === "" ? "" : `: ${s.message}`;
  return `${s.phase ?? "Pending"} step ${stepText(view)} weight ${weightText(view)}${message}`;
}

export function formatList(
  views: readonly RolloutView[],
  now: Date,
  options: { namespaces?: boolean } = {},
): string {
  if (views.length === 0) return "No Rollouts found.";
  const namespaces = options.namespaces === true;
  const header = [
    ...(namespaces ? ["NAMESPACE"] : []),
    "NAME",
    "STRATEGY",
    "PHASE",
    "STEP",
    "WEIGHT",
    "AGE",
  ];
  const rows = views.map((view) => [
    ...(namespaces ? [view.namespace] : []),
    view.name,
    view.strategy,
    view.status.phase ?? "-",
    stepText(view),
    weightText(view),
    age(view.created, now),
  ]);
  return table(header, rows).join("\n");
}

const metricHeader = ["METRIC", "CANARY", "STABLE", "EVIDENCE/BOUND", "VERDICT", "NOTE"];

function metricRow(metric: MetricStatus): string[] {
  const evidence =
    metric.evidence === undefined
      ? "-"
      : `${number(metric.evidence)}/${metric.bound === undefined ? "-" : number(metric.bound)}`;
  // The judge discounts bursty evidence; show by how much, so a slow verdict is explained.
  const discount =
    metric.discount !== undefined && metric.discount < 1 ? ` ×${number(metric.discount)}` : "";
  return [
    metric.name,
    number(metric.canary),
    number(metric.stable),
    `${evidence}${discount}`,
    metric.verdict,
    metric.message ?? "",
  ];
}

function pendingCommand(status: RolloutStatus): string {
  const command = status.command;
  if (command === undefined || command.id === status.lastCommandId) return "";
  const by = command.requestedBy === undefined ? "" : ` by ${command.requestedBy}`;
  return `${command.name} (id ${command.id}${by}), not executed yet`;
}

/** A notification that could not be delivered (the NotificationFailed condition), if any. */
function notificationProblem(status: RolloutStatus): string {
  const failed = status.conditions?.find((c) => c.type === "NotificationFailed");
  return failed?.status === "True" ? `failing (${failed.reason}): ${failed.message}` : "";
}

function pairs(entries: [string, string][]): string[] {
  const shown = entries.filter(([, value]) => value !== "");
  const width = Math.max(...shown.map(([key]) => key.length)) + 1;
  return shown.map(([key, value]) => `  ${`${key}:`.padEnd(width)} ${value}`);
}

function table(header: readonly string[], rows: readonly string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function indent(lines: string[]): string[] {
  return lines.map((line) => `  ${line}`);
}

function number(value: number | undefined): string {
  if (value === undefined) return "-";
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

function age(created: string | undefined, now: Date): string {
  if (created === undefined) return "-";
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(created)) / 1000));
  if (!Number.isFinite(seconds)) return "-";
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

function field(object: unknown, key: string): unknown {
  return typeof object === "object" && object !== null && !Array.isArray(object)
    ? (object as Record<string, unknown>)[key]
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
