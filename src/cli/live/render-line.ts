import type { EventView, RolloutView } from "./rollout-view.ts";
import { number } from "./render-screen.ts";

/**
 * The live view for a log (stdout not a terminal): one line per change of what matters,
 * and one per new Event, so a CI log reads as the release's history.
 */
export function summaryLine(view: RolloutView): string {
  const current = view.steps.find((s) => s.state === "current");
  const parts = [view.phase];
  if (view.steps.length > 0)
    parts.push(
      `step ${current?.number ?? (view.phase === "Healthy" ? view.steps.length : "-")}/${view.steps.length}${current === undefined ? "" : ` (${current.text})`}`,
    );
  if (view.weight !== undefined) parts.push(`weight ${view.weight.canary}%`);
  for (const rs of view.replicaSets)
    if (rs.role !== "old" || rs.desired > 0)
      parts.push(`${rs.role} ${rs.hash} ${rs.ready}/${rs.desired}`);
  if (view.analysis !== undefined) {
    const metrics = view.analysis.metrics
      .map(
        (m) =>
          `${m.name} ${m.verdict}${m.evidence === undefined ? "" : ` ${number(m.evidence)}/${number(m.bound)}`}${m.discount === undefined ? "" : ` ×${number(m.discount)}`}`,
      )
      .join(", ");
    parts.push(`analysis ${view.analysis.verdict}${metrics === "" ? "" : ` [${metrics}]`}`);
  }
  const message = view.message === undefined || view.message === "" ? "" : `: ${view.message}`;
  const waiting = view.waitingFor === undefined ? "" : ` (run: ${view.waitingFor.command})`;
  return `${parts.join(" | ")}${message}${waiting}`;
}

export function eventLine(event: EventView): string {
  return `event ${event.type} ${event.reason}: ${event.message}`;
}

export function eventKey(event: EventView): string {
  return `${event.time ?? ""} ${event.reason} ${event.message}`;
}
