/**
 * How long the engine takes to simulate whole releases (virtual time vs wall time).
 * The issue's bar: a 1-hour rollout simulates in well under a second.
 * Run: npm run bench:simulate
 */
import { readFileSync } from "node:fs";
import { parseRolloutText } from "../src/api/load.ts";
import { DEFAULT_SIMULATION, simulate } from "../src/sim/simulate.ts";
import type { ScenarioName } from "../src/sim/scenarios.ts";

const oneHour = `apiVersion: aviary.dev/v1alpha1
kind: Rollout
metadata: {name: one-hour}
spec:
  replicas: 10
  selector: {matchLabels: {app: x}}
  template: {metadata: {labels: {app: x}}, spec: {containers: [{name: x, image: "x:2"}]}}
  strategy:
    canary:
      stableService: x-stable
      canaryService: x-canary
      trafficRouting: {istio: {virtualService: {name: x}}}
      analysis: {interval: 15s}
      steps:
${[5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99].map((w) => `        - setWeight: ${w}\n        - pause: {duration: 5m}`).join("\n")}
`;

const cases: { name: string; text: string; scenario: ScenarioName }[] = [
  { name: "1-hour canary, 12 steps, healthy", text: oneHour, scenario: "healthy" },
  { name: "1-hour canary, 12 steps, 5% errors", text: oneHour, scenario: "errors" },
  {
    name: "examples/istio-canary.yaml, healthy",
    text: readFileSync("examples/istio-canary.yaml", "utf8"),
    scenario: "healthy",
  },
];

const rows: string[][] = [
  ["case", "outcome", "virtual time", "wall time (median of 5)", "speed-up"],
];
for (const c of cases) {
  const parsed = parseRolloutText(c.text, c.name);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const times: number[] = [];
  let result;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    result = await simulate(parsed.rollout, [], { ...DEFAULT_SIMULATION, scenario: c.scenario });
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const wall = times[2] ?? 0;
  const virtual = result?.durationSeconds ?? 0;
  rows.push([
    c.name,
    result?.outcome ?? "?",
    `${(virtual / 60).toFixed(1)} min`,
    `${wall.toFixed(0)} ms`,
    `${Math.round((virtual * 1000) / wall)}×`,
  ]);
}
const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  "));
