import type { VersionBehaviour } from "./traffic-model.ts";

export const SCENARIOS = ["healthy", "errors", "latency", "no-traffic"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Scenario {
  rps: number;
  stable: VersionBehaviour;
  canary: VersionBehaviour;
}

const STABLE: VersionBehaviour = { errorRate: 0.005, latencyP50Ms: 40, latencyP99Ms: 200 };

/** Named traffic situations for `aviary simulate`: what each version does under load. */
export function scenario(name: ScenarioName): Scenario {
  switch (name) {
    case "healthy":
      return { rps: 50, stable: STABLE, canary: STABLE };
    case "errors":
      return { rps: 50, stable: STABLE, canary: { ...STABLE, errorRate: 0.05 } };
    case "latency":
      return {
        rps: 50,
        stable: STABLE,
        canary: { errorRate: STABLE.errorRate, latencyP50Ms: 150, latencyP99Ms: 1500 },
      };
    case "no-traffic":
      return { rps: 0, stable: STABLE, canary: STABLE };
  }
}
