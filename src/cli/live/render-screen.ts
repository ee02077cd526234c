import { Chalk, type ChalkInstance } from "chalk";
import cliTruncate from "cli-truncate";
import stringWidth from "string-width";
import type { MetricView, ReplicaSetView, RolloutView, StepView } from "./rollout-view.ts";

/**
 * The live view as screen lines for a terminal `width` columns wide (and, when known,
 * `height` rows tall: long step lists fold so the screen never scrolls). Pure: the
 * caller decides where the lines go. chalk styles the text (and drops styles when color
 * is off); cli-truncate and string-width cut lines by the columns they take, styles and
 * wide characters included.
 */
export interface ScreenOptions {
  width: number;
  height?: number | undefined;
  color: boolean;
  /** What the view leaves out and why (a user who may not read ReplicaSets or Events). */
  note?: string | undefined;
}

const MIN_WIDTH = 40;
const BAR_MAX = 40;

export function renderScreen(view: RolloutView, options: ScreenOptions): string[] {
  const width = Math.max(MIN_WIDTH, options.width);
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const lines: string[] = [];
  const push = (...more: string[]) => lines.push(...more);

  push(
    `${c.bold(`${view.namespace}/${view.name}`)}  ${view.strategy}  ${phaseText(c, view.phase)}`,
  );
  if (view.message !== undefined && view.message !== "") push(c.dim(view.message));

  const stepLines = stepsBlock(c, view.steps);
  if (stepLines.length > 0) push("", c.bold("Steps"), ...stepLines);

  if (view.weight !== undefined) {
    const barWidth = Math.min(BAR_MAX, width - 32);
    push(
      "",
      `${c.bold("Traffic")}  canary ${bar(c, view.weight.canary / 100, barWidth, c.yellow)} ${pad(`${view.weight.canary}%`, 4)} stable ${view.weight.stable}%`,
    );
  }

  if (view.replicaSets.length > 0) {
    push("", c.bold("ReplicaSets"));
    push(...table(["REV", "HASH", "ROLE", "READY", "IMAGE"], view.replicaSets.map(rsRow), width));
  }

  if (view.analysis !== undefined) {
    const a = view.analysis;
    const summary = `${verdictText(c, a.verdict)}, ${a.samples} sample${a.samples === 1 ? "" : "s"}`;
    push("", `${c.bold("Analysis")}  ${summary}${a.message === undefined ? "" : `: ${a.message}`}`);
    if (a.metrics.length > 0)
      push(
        ...table(
          ["METRIC", "CANARY", "STABLE", "EVIDENCE / BOUND", "VERDICT"],
          a.metrics.map((m) => metricRow(c, m)),
          width,
        ),
      );
    for (const m of a.metrics)
      if (m.discount !== undefined)
        push(c.dim(`  ${m.name}: errors are bursty, evidence counted ×${number(m.discount)}`));
  }

  if (view.conditions.length > 0) {
    push("", c.bold("Conditions"));
    push(
      ...table(
        ["TYPE", "STATUS", "REASON", "MESSAGE"],
        view.conditions.map((k) => [k.type, k.status, k.reason, k.message]),
        width,
      ),
    );
  }

  if (view.events.length > 0) {
    push("", c.bold("Events"));
    push(
      ...table(
        ["TIME", "TYPE", "REASON", "MESSAGE"],
        view.events.map((e) => [clock(e.time), e.type, e.reason, e.message]),
        width,
      ),
    );
  }

  if (options.note !== undefined) push("", c.dim(options.note));
  if (view.pendingCommand !== undefined)
    push("", c.yellow(`requested, not executed yet: ${view.pendingCommand}`));
  if (view.waitingFor !== undefined)
    push("", `${c.bold.yellow("▶")} ${view.waitingFor.why}: ${c.bold(view.waitingFor.command)}`);

  const fitted = fitHeight(lines, options.height);
  return fitted.map((line) => cliTruncate(line, width));
}

function phaseText(c: ChalkInstance, phase: string): string {
  const style =
    phase === "Healthy"
      ? c.green
      : phase === "Degraded" || phase === "Aborted"
        ? c.red
        : phase === "Paused"
          ? c.yellow
          : c.cyan;
  return style.bold(`◆ ${phase}`);
}

function verdictText(c: ChalkInstance, verdict: string): string {
  if (verdict === "Passed") return c.green(verdict);
  if (verdict === "Failed") return c.red(verdict);
  if (verdict === "Inconclusive") return c.yellow(verdict);
  return verdict;
}

const STEP_MARK: Record<StepView["state"], string> = { done: "✔", current: "▶", next: "·" };

function stepsBlock(c: ChalkInstance, steps: readonly StepView[]): string[] {
  return steps.map((s) => {
    const line = `  ${STEP_MARK[s.state]} ${pad(String(s.number), 2)} ${s.text}`;
    return s.state === "current" ? c.bold.cyan(line) : s.state === "done" ? c.dim(line) : line;
  });
}

/** A bar of `width` cells, `share` (0..1) of them filled. */
export function bar(
  c: ChalkInstance,
  share: number,
  width: number,
  style: ChalkInstance = c.white,
): string {
  const cells = Math.max(4, width);
  const filled = Math.round(Math.min(1, Math.max(0, share)) * cells);
  return `${style("█".repeat(filled))}${c.dim("░".repeat(cells - filled))}`;
}

function rsRow(rs: ReplicaSetView): string[] {
  return [String(rs.revision), rs.hash, rs.role, `${rs.ready}/${rs.desired}`, rs.images.join(", ")];
}

function metricRow(c: ChalkInstance, m: MetricView): string[] {
  const evidence =
    m.evidence === undefined
      ? "-"
      : `${m.evidenceShare === undefined ? "" : `${bar(c, m.evidenceShare, 10, m.evidenceShare >= 1 ? c.red : c.yellow)} `}${number(m.evidence)}/${m.bound === undefined ? "-" : number(m.bound)}${m.discount === undefined ? "" : ` ×${number(m.discount)}`}`;
  return [m.name, number(m.canary), number(m.stable), evidence, verdictText(c, m.verdict)];
}

/** Columns as wide as their widest cell; the last one takes what is left of the width. */
function table(header: readonly string[], rows: readonly string[][], width: number): string[] {
  const widths = header.map((h, i) =>
    Math.max(stringWidth(h), ...rows.map((r) => stringWidth(r[i] ?? ""))),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells
      .map((cell, i) => (i === cells.length - 1 ? cell : pad(cell, widths[i] ?? 0)))
      .join("  ")}`.trimEnd();
  return [line(header), ...rows.map(line)].map((l) => cliTruncate(l, width));
}

/** When the screen is too short, done steps fold into one line first, then the tail goes. */
function fitHeight(lines: string[], height: number | undefined): string[] {
  if (height === undefined || lines.length <= height) return lines;
  const done = lines.filter((l) => l.includes(`${STEP_MARK.done} `));
  if (done.length > 1) {
    const first = lines.indexOf(done[0] ?? "");
    const folded = [
      ...lines.slice(0, first),
      `  ${STEP_MARK.done} ${done.length} steps done`,
      ...lines.slice(first + done.length),
    ];
    if (folded.length <= height) return folded;
    lines = folded;
  }
  return [...lines.slice(0, Math.max(1, height - 1)), "…"];
}

function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - stringWidth(text)));
}

export function number(value: number | undefined): string {
  if (value === undefined) return "-";
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

function clock(time: string | undefined): string {
  if (time === undefined) return "-";
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? time : date.toISOString().slice(11, 19);
}
