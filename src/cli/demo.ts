import { readFile } from "node:fs/promises";
import { parseRolloutText } from "../api/load.ts";
import { DEFAULT_SIMULATION, simulate } from "../sim/simulate.ts";
import type { ScenarioName } from "../sim/scenarios.ts";
import { formatSimulation } from "./format.ts";

/**
 * `npm run demo`: three simulated releases from examples/, no cluster needed —
 * a healthy canary that promotes, a canary with 5% errors that rolls back by itself,
 * and a blue/green switch.
 */
const runs: { file: string; scenario: ScenarioName; title: string }[] = [
  {
    file: "examples/istio-canary.yaml",
    scenario: "healthy",
    title: "A healthy canary is promoted step by step",
  },
  {
    file: "examples/istio-canary.yaml",
    scenario: "errors",
    title: "A canary failing 5% of requests (stable: 0.5%) is rolled back",
  },
  {
    file: "examples/bluegreen.yaml",
    scenario: "healthy",
    title: "A blue/green release switches after 60 s of preview",
  },
];

for (const { file, scenario, title } of runs) {
  const parsed = parseRolloutText(
    await readFile(new URL(`../../${file}`, import.meta.url), "utf8"),
    file,
  );
  if (!parsed.ok)
    throw new Error(
      `${file} is invalid: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    );
  const result = await simulate(parsed.rollout, [], { ...DEFAULT_SIMULATION, scenario });
  process.stdout.write(
    `\n=== ${title}\n    aviary simulate ${file} --scenario ${scenario}\n\n${formatSimulation(result)}\n`,
  );
}
