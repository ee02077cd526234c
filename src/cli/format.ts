import type { SimulationResult, TimelineRow } from "../sim/simulate.ts";

/** Human-readable rendering of a simulation: a timeline table and the outcome. */
export function formatSimulation(result: SimulationResult): string {
  const header = [
    "time",
    "phase",
    "step",
    "weight",
    "canary ok%",
    "stable ok%",
    "canary p99",
    "stable p99",
    "verdict",
  ];
  const rows = result.timeline.map((row) => [
    clock(row.t),
    row.phase,
    row.step,
    `${row.canaryWeight}%`,
    pct(row.canary.successRate),
    pct(row.stable.successRate),
    ms(row.canary.p99Ms),
    ms(row.stable.p99Ms),
    row.verdict,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const outcome = {
    promoted: "PROMOTED",
    rolledBack: "ROLLED BACK",
    paused: "PAUSED",
    unfinished: "UNFINISHED",
  }[result.outcome];
  return [
    `Rollout ${result.rollout}: releasing ${result.canaryHash} over stable ${result.stableHash} (scenario: ${result.scenario})`,
    "",
    line(header),
    ...rows.map(line),
    "",
    `${outcome} after ${clock(result.durationSeconds)}: ${result.reason}`,
    ...messages(result.timeline),
    ...notifications(result),
  ].join("\n");
}

/** What a controller with a default Slack webhook would have posted. */
function notifications(result: SimulationResult): string[] {
  if (result.notifications.length === 0) return [];
  const width = Math.max(...result.notifications.map((n) => n.kind.length));
  return [
    "",
    "notifications:",
    ...result.notifications.map((n) => `  ${clock(n.t)}  ${n.kind.padEnd(width)}  ${n.title}`),
  ];
}

function messages(timeline: readonly TimelineRow[]): string[] {
  const last = timeline.at(-1);
  return last === undefined || last.message === "" ? [] : [`last status: ${last.message}`];
}

function clock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

function pct(value: number | undefined): string {
  return value === undefined ? "-" : value.toFixed(2);
}

function ms(value: number | undefined): string {
  return value === undefined ? "-" : `${Math.round(value)}ms`;
}
