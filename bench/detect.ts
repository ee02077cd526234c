/**
 * bench:detect — how fast and how wrongly each judge rolls back, over seeded simulations
 * of real-looking traffic: bursty errors, shared incidents, a service that breaks its own
 * bound, latency through Istio's histogram buckets, low traffic.
 *
 *   npm run -s bench:detect [-- --runs N] [--only TEXT] [--json]
 *
 * `--only TEXT` runs only the cells whose name contains TEXT (e.g. "θ=3"); each cell keeps
 * its seeds, so its figures are the same as in a full run.
 *
 * Each run is one canary release under the project's default analysis spec (30 s
 * interval, success rate ≥ 99% and P99 ≤ 500 ms, α = 0.01): steps of 5/10/20/50% traffic
 * × 5 min, read every 30 s (40 intervals, 20 min). The same simulated counters are fed to
 * every method (paired comparison); the schedule is fixed (the bench does not model the
 * engine holding a step on Inconclusive).
 *
 * The generator, per interval and per version: requests are Poisson(rps·30 s) split by
 * the weight; the error rate is p·G, where G ~ Gamma(mean 1, CV c) is drawn anew each
 * interval, independently per version (overdispersion: bursts on the canary's pod are not
 * stable's); a shared incident adds to (or multiplies) both versions' rate for 90 s from
 * minute 12 (step 20%); latencies are log-normal (P50 40 ms, P99 200 ms unless changed),
 * counted into Istio's default buckets.
 *
 * Methods:
 * - sequential:    Aviary's sequential judge with the default spec.
 * - flagger-style: the threshold judge with the same metrics, checked once a minute (every
 *                  2nd reading, covering the last 2 intervals); the 5th failed check rolls
 *                  back; a window with no canary request is a failed check.
 * - argo-style:    the threshold judge per interval; the 3rd failure aborts.
 */
import { AnalysisSpec, type AnalysisSpec as AnalysisSpecType } from "../src/api/rollout.ts";
import type { Judge, JudgeMemory, MetricsSample, VersionCounters } from "../src/analysis/judge.ts";
import { sequentialJudge } from "../src/analysis/sequential.ts";
import { createThresholdJudge } from "../src/analysis/threshold.ts";
import { binomial, seededRandom, type Random } from "../src/sim/random.ts";
import { arrivals, LATENCY_BUCKETS_MS, splitByWeight } from "../src/sim/traffic-model.ts";

const STEPS = [5, 10, 20, 50];
const STEP_SECONDS = 300;
const INTERVAL_SECONDS = 30;
const INCIDENT_START = 12 * 60;
const INCIDENT_SECONDS = 90;
const METHODS = ["sequential", "flagger-style", "argo-style"] as const;
type Method = (typeof METHODS)[number];

const defaults = AnalysisSpec.parse({});
const setups: Record<Method, { judge: Judge; spec: AnalysisSpecType; everySeconds?: number }> = {
  sequential: { judge: sequentialJudge, spec: defaults },
  "flagger-style": {
    judge: createThresholdJudge({ noDataIsFailure: true }),
    everySeconds: 60,
    spec: AnalysisSpec.parse({
      judge: "threshold",
      minRequests: 1,
      failureLimit: 4,
      catastrophicErrorRate: 100,
    }),
  },
  "argo-style": {
    judge: createThresholdJudge(),
    spec: AnalysisSpec.parse({
      judge: "threshold",
      minRequests: 1,
      failureLimit: 2,
      catastrophicErrorRate: 100,
    }),
  },
};

/** One simulated condition. */
interface Scenario {
  name: string;
  group: "A/A" | "detect";
  rps: number;
  /** Stable's error rate; the canary's is θ·p0. */
  p0: number;
  theta: number;
  /** Coefficient of variation of each version's per-interval error rate (0: iid). */
  cv: number;
  incident?: { kind: "additive"; add: number } | { kind: "multiplicative"; factor: number };
  stableP99Ms?: number;
  canaryP99Ms?: number;
}

const S = (s: Partial<Scenario> & { name: string }): Scenario => ({
  group: "A/A",
  rps: 500,
  p0: 0.001,
  theta: 1,
  cv: 0,
  ...s,
});

const SCENARIOS: Scenario[] = [
  S({ name: "iid, p0 0.1%, 500 rps" }),
  S({ name: "iid, p0 1%, 500 rps", p0: 0.01 }),
  S({ name: "iid, p0 0.5%, 50 rps", p0: 0.005, rps: 50 }),
  S({ name: "CV 0.25, p0 0.1%, 500 rps", cv: 0.25 }),
  S({ name: "CV 0.5, p0 0.1%, 500 rps", cv: 0.5 }),
  S({ name: "CV 1, p0 0.1%, 500 rps", cv: 1 }),
  S({ name: "CV 0.25, p0 1%, 500 rps", p0: 0.01, cv: 0.25 }),
  S({ name: "CV 0.5, p0 1%, 500 rps", p0: 0.01, cv: 0.5 }),
  S({ name: "CV 1, p0 1%, 500 rps", p0: 0.01, cv: 1 }),
  S({ name: "CV 1, p0 0.5%, 50 rps", p0: 0.005, rps: 50, cv: 1 }),
  S({
    name: "shared outage +15% for 90 s, 50 rps",
    rps: 50,
    incident: { kind: "additive", add: 0.15 },
  }),
  S({
    name: "shared outage +15% for 90 s, 500 rps",
    incident: { kind: "additive", add: 0.15 },
  }),
  S({
    name: "shared incident ×10 for 90 s, p0 0.5%, 50 rps",
    p0: 0.005,
    rps: 50,
    incident: { kind: "multiplicative", factor: 10 },
  }),
  S({ name: "stable breaks min on its own (both 1.5%), 500 rps", p0: 0.015 }),
  S({ name: "stable breaks min on its own (both 1.5%), 50 rps", p0: 0.015, rps: 50 }),
  S({ name: "low traffic, p0 0.5%, 2 rps", p0: 0.005, rps: 2 }),
  S({ name: "A/A latency (P99 200 ms), CV 0.5, 200 rps", rps: 200, cv: 0.5 }),
  // Detection.
  S({ name: "θ=3, p0 0.5%, 50 rps, iid", group: "detect", p0: 0.005, rps: 50, theta: 3 }),
  S({
    name: "θ=3, p0 0.5%, 50 rps, CV 0.25",
    group: "detect",
    p0: 0.005,
    rps: 50,
    theta: 3,
    cv: 0.25,
  }),
  S({
    name: "θ=3, p0 0.5%, 50 rps, CV 0.5",
    group: "detect",
    p0: 0.005,
    rps: 50,
    theta: 3,
    cv: 0.5,
  }),
  S({ name: "θ=3, p0 0.5%, 50 rps, CV 1", group: "detect", p0: 0.005, rps: 50, theta: 3, cv: 1 }),
  S({ name: "θ=3, p0 0.1%, 500 rps, CV 0.5", group: "detect", theta: 3, cv: 0.5 }),
  S({ name: "θ=5, p0 0.1%, 50 rps, iid", group: "detect", rps: 50, theta: 5 }),
  S({ name: "θ=10, p0 0.5%, 50 rps, iid", group: "detect", p0: 0.005, rps: 50, theta: 10 }),
  S({
    name: "P99 ×1.5 (200 → 300 ms), 200 rps",
    group: "detect",
    rps: 200,
    canaryP99Ms: 300,
  }),
  S({
    name: "P99 ×1.5 (200 → 300 ms), 50 rps",
    group: "detect",
    rps: 50,
    canaryP99Ms: 300,
  }),
  S({
    name: "θ=3, p0 0.5%, 50 rps, shared outage",
    group: "detect",
    p0: 0.005,
    rps: 50,
    theta: 3,
    incident: { kind: "additive", add: 0.15 },
  }),
];

interface RunOutcome {
  rollbackAt: Partial<Record<Method, number>>;
  /** The sequential judge's rollback message, if any. */
  message?: string;
  /** Sequential: whether it said Inconclusive during the incident, and judged again after it. */
  heldInIncident: boolean;
  resumed: boolean;
}

/** Gamma(shape k, scale 1/k): mean 1, CV 1/√k (Marsaglia–Tsang, k ≥ 1). */
function gammaMeanOne(random: Random, cv: number): number {
  if (cv <= 0) return 1;
  const k = 1 / (cv * cv);
  const boost = k < 1 ? Math.pow(Math.max(random(), Number.EPSILON), 1 / k) : 1;
  const shape = k < 1 ? k + 1 : k;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      const u1 = Math.max(random(), Number.EPSILON);
      x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (Math.log(Math.max(u, Number.EPSILON)) < 0.5 * x * x + d - d * v + d * Math.log(v))
      return (boost * d * v) / k;
  }
}

const Z99 = 2.3263478740408408;
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

/** Probability of each Istio bucket (le) for a log-normal with P50 40 ms and the given P99. */
function bucketShares(p99Ms: number): number[] {
  const mu = Math.log(40);
  const sigma = (Math.log(p99Ms) - mu) / Z99;
  return LATENCY_BUCKETS_MS.map((le) => normalCdf((Math.log(le) - mu) / sigma));
}

/** Adds n requests' latencies to cumulative buckets, drawing each bucket conditionally. */
function addLatencies(random: Random, counters: VersionCounters, cdf: number[], n: number): void {
  let left = n;
  let below = 0;
  let prevCdf = 0;
  const inBucket: number[] = [];
  for (const p of cdf) {
    const share = prevCdf >= 1 ? 0 : (p - prevCdf) / (1 - prevCdf);
    const k = binomial(random, left, Math.min(1, Math.max(0, share)));
    inBucket.push(k);
    left -= k;
    prevCdf = p;
  }
  counters.latencyBuckets = counters.latencyBuckets.map((b, i) => {
    below += inBucket[i] ?? 0;
    return { le: b.le, count: b.count + below };
  });
  // Requests slower than the last bound are only in the +Inf bucket (the request counter).
}

function seedOf(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ part, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

const fresh = (): VersionCounters => ({
  requests: 0,
  errors: 0,
  latencyBuckets: LATENCY_BUCKETS_MS.map((le) => ({ le, count: 0 })),
});

function simulateRun(seed: number, s: Scenario): RunOutcome {
  const random = seededRandom(seed);
  const canary = fresh();
  const stable = fresh();
  const canaryCdf = bucketShares(s.canaryP99Ms ?? s.stableP99Ms ?? 200);
  const stableCdf = bucketShares(s.stableP99Ms ?? 200);
  const memories: Partial<Record<Method, JudgeMemory>> = {};
  const outcome: RunOutcome = { rollbackAt: {}, heldInIncident: false, resumed: false };
  const start = Date.UTC(2026, 0, 1);
  const intervals = (STEPS.length * STEP_SECONDS) / INTERVAL_SECONDS;
  for (let i = 0; i <= intervals; i++) {
    const seconds = i * INTERVAL_SECONDS;
    const inIncident =
      s.incident !== undefined &&
      seconds > INCIDENT_START &&
      seconds <= INCIDENT_START + INCIDENT_SECONDS;
    if (i > 0) {
      const weight =
        STEPS[Math.min(STEPS.length - 1, Math.floor((seconds - 1) / STEP_SECONDS))] ?? 0;
      const split = splitByWeight(random, arrivals(random, s.rps, INTERVAL_SECONDS), weight);
      const rate = (base: number): number => {
        let p = base * gammaMeanOne(random, s.cv);
        if (inIncident && s.incident?.kind === "additive") p += s.incident.add;
        if (inIncident && s.incident?.kind === "multiplicative") p *= s.incident.factor;
        return Math.min(1, p);
      };
      canary.requests += split.canary;
      canary.errors += binomial(random, split.canary, rate(s.theta * s.p0));
      stable.requests += split.stable;
      stable.errors += binomial(random, split.stable, rate(s.p0));
      addLatencies(random, canary, canaryCdf, split.canary);
      addLatencies(random, stable, stableCdf, split.stable);
    }
    const sample: MetricsSample = {
      at: new Date(start + seconds * 1000).toISOString(),
      canary: { ...canary, latencyBuckets: [...canary.latencyBuckets] },
      stable: { ...stable, latencyBuckets: [...stable.latencyBuckets] },
    };
    let alive = false;
    for (const method of METHODS) {
      if (outcome.rollbackAt[method] !== undefined) continue;
      const { judge, spec, everySeconds } = setups[method];
      alive = true;
      if (everySeconds !== undefined && seconds % everySeconds !== 0) continue;
      const judgement = judge.judge(spec, memories[method], sample);
      memories[method] = judgement.memory;
      if (judgement.verdict === "Failed") {
        outcome.rollbackAt[method] = seconds;
        if (method === "sequential") outcome.message = judgement.message;
      }
      if (method === "sequential") {
        if (inIncident && judgement.verdict === "Inconclusive") outcome.heldInIncident = true;
        if (seconds > INCIDENT_START + INCIDENT_SECONDS && judgement.verdict !== "Inconclusive")
          outcome.resumed = true;
      }
    }
    if (!alive) break;
  }
  return outcome;
}

interface Cell {
  scenario: Scenario;
  runs: number;
  rate: Record<Method, number>;
  median: Record<Method, number | null>;
  heldInIncident: number;
  resumed: number;
  messages: string[];
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? null)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function runCell(s: Scenario, index: number, runs: number): Cell {
  const outcomes = Array.from({ length: runs }, (_, run) => simulateRun(seedOf(index, run), s));
  const rate = {} as Record<Method, number>;
  const med = {} as Record<Method, number | null>;
  for (const m of METHODS) {
    const times = outcomes.flatMap((o) => (o.rollbackAt[m] === undefined ? [] : [o.rollbackAt[m]]));
    rate[m] = times.length / runs;
    med[m] = median(times);
  }
  return {
    scenario: s,
    runs,
    rate,
    median: med,
    heldInIncident: outcomes.filter((o) => o.heldInIncident).length / runs,
    resumed: outcomes.filter((o) => o.resumed).length / runs,
    messages: outcomes.flatMap((o) => (o.message === undefined ? [] : [o.message])),
  };
}

function parseArgs(argv: string[]): { json: boolean; runs: number; only: string[] } {
  let json = false;
  let runs = 200;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json") json = true;
    else if (arg === "--runs") {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) {
        console.error(
          `--runs needs a whole number of runs per cell (at least 1), got "${argv[i] ?? ""}"`,
        );
        process.exit(2);
      }
      runs = value;
    } else if (arg === "--only") {
      const text = argv[++i];
      if (text === undefined || text === "") {
        console.error("--only needs part of a cell's name, e.g. --only θ=3");
        process.exit(2);
      }
      only.push(text);
    } else {
      console.error(
        `unknown argument "${arg ?? ""}"; usage: npm run -s bench:detect -- [--json] [--runs N] [--only TEXT]`,
      );
      process.exit(2);
    }
  }
  return { json, runs, only };
}

const pct = (x: number): string => `${(100 * x).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;
const secs = (x: number | null): string => (x === null ? "—" : `${x}s`);

function table(cells: Cell[]): string {
  const lines: string[] = [];
  const width = 50;
  const head = (title: string) =>
    lines.push(
      `${title.padEnd(width)}| ${METHODS.map((m) => m.padEnd(16)).join("| ")}`,
      "-".repeat(width + 3 * 18),
    );
  head("A/A (healthy canary): false rollbacks");
  for (const c of cells.filter((c) => c.scenario.group === "A/A")) {
    const held = c.scenario.incident ? `  (held in incident ${pct(c.heldInIncident)})` : "";
    lines.push(
      `${c.scenario.name.padEnd(width)}| ${METHODS.map((m) => pct(c.rate[m]).padEnd(16)).join("| ")}${held}`,
    );
  }
  lines.push("");
  head("bad canary: detected, median time to rollback");
  for (const c of cells.filter((c) => c.scenario.group === "detect")) {
    lines.push(
      `${c.scenario.name.padEnd(width)}| ${METHODS.map((m) => `${pct(c.rate[m])} ${secs(c.median[m])}`.padEnd(16)).join("| ")}`,
    );
  }
  return lines.join("\n");
}

function powerCost(cells: Cell[]): string[] {
  const iid = cells.find((c) => c.scenario.name === "θ=3, p0 0.5%, 50 rps, iid");
  const lines = ["== power cost of overdispersion (θ=3, p0 0.5%, 50 rps, sequential) =="];
  for (const cv of [0.25, 0.5, 1]) {
    const c = cells.find((x) => x.scenario.name === `θ=3, p0 0.5%, 50 rps, CV ${cv}`);
    if (!c || !iid) continue;
    const m = c.median.sequential;
    const base = iid.median.sequential;
    lines.push(
      `CV ${cv}: detected ${pct(c.rate.sequential)} (iid ${pct(iid.rate.sequential)}), median ${secs(m)} vs ${secs(base)} iid` +
        (m !== null && base ? ` (×${(m / base).toFixed(2)})` : ""),
    );
  }
  return lines;
}

function targets(cells: Cell[]): string[] {
  const mark = (ok: boolean) => (ok ? "MET   " : "MISSED");
  const lines = ["== targets (sequential) =="];
  const aa = cells.filter((c) => c.scenario.group === "A/A");
  const worst = [...aa].sort((x, y) => y.rate.sequential - x.rate.sequential)[0];
  const pooled =
    aa.reduce((s, c) => s + c.rate.sequential * c.runs, 0) / aa.reduce((s, c) => s + c.runs, 0);
  if (worst)
    lines.push(
      `${mark(worst.rate.sequential <= 0.01)} A/A false rollbacks ≤ 1% in every cell: worst ${pct(worst.rate.sequential)} (${worst.scenario.name})`,
    );
  lines.push(
    `${mark(pooled <= 0.005)} A/A false rollbacks pooled over all cells ≤ 0.5%: ${pct(pooled)}`,
  );
  const named = (name: string) => cells.find((c) => c.scenario.name === name);
  const t3 = named("θ=3, p0 0.5%, 50 rps, iid");
  if (t3) {
    const s = t3.median.sequential;
    const f = t3.median["flagger-style"];
    lines.push(
      `${mark(s !== null && (f === null || s <= f))} θ=3, p0 0.5%, 50 rps, iid: median no slower than flagger-style: ${secs(s)} vs ${secs(f)}`,
    );
  }
  const t5 = named("θ=5, p0 0.1%, 50 rps, iid");
  if (t5)
    lines.push(
      `${mark(t5.rate.sequential >= 0.95)} θ=5, p0 0.1%, 50 rps: ≥ 95% detected: ${pct(t5.rate.sequential)}`,
    );
  const lat = named("P99 ×1.5 (200 → 300 ms), 200 rps");
  if (lat)
    lines.push(
      `${mark(lat.rate.sequential >= 0.95)} P99 ×1.5 under max (200 rps): ≥ 95% detected: ${pct(lat.rate.sequential)}`,
    );
  const shared = cells.filter((c) => c.scenario.incident !== undefined && c.scenario.theta === 1);
  const blamed = shared.reduce((s, c) => s + c.messages.length, 0);
  const resumed = shared.every((c) => c.resumed === 1);
  const held = shared.every((c) => c.heldInIncident > 0);
  lines.push(
    `${mark(blamed === 0 && resumed)} shared incidents: 0 rollbacks blamed on the canary (${blamed} of ${shared.reduce((s, c) => s + c.runs, 0)} runs); release resumes afterwards (runs judged again after the incident: ${shared.map((c) => pct(c.resumed)).join(", ")})${held ? "" : "; note: not every incident cell held"}`,
  );
  return lines;
}

function main(): void {
  const { json, runs, only } = parseArgs(process.argv.slice(2));
  const began = performance.now();
  // Seeds follow each cell's place in SCENARIOS, so a selected cell runs as in the full table.
  const cells = SCENARIOS.flatMap((s, i) =>
    only.length === 0 || only.some((text) => s.name.includes(text)) ? [runCell(s, i, runs)] : [],
  );
  const elapsed = (performance.now() - began) / 1000;
  if (json) {
    console.log(
      JSON.stringify(
        cells.map(({ messages: _m, ...c }) => c),
        null,
        2,
      ),
    );
    console.error(targets(cells).join("\n"));
    return;
  }
  console.log(
    `bench:detect — ${runs} runs per cell; default analysis spec (30 s, success ≥ 99%, P99 ≤ 500 ms, α 0.01); ` +
      `steps ${STEPS.join("/")}% × ${STEP_SECONDS / 60} min; incidents from minute ${INCIDENT_START / 60} for ${INCIDENT_SECONDS} s\n`,
  );
  console.log(table(cells));
  console.log("");
  console.log(powerCost(cells).join("\n"));
  console.log("");
  console.log(targets(cells).join("\n"));
  if (only.length > 0) console.log("(--only: the targets cover the selected cells only)");
  const blames = cells
    .filter((c) => c.scenario.group === "A/A")
    .flatMap((c) => c.messages.slice(0, 2).map((m) => `  ${c.scenario.name}: ${m}`));
  if (blames.length > 0) console.log(`\nsample false rollbacks:\n${blames.join("\n")}`);
  console.log(`\n(${elapsed.toFixed(1)} s)`);
}

main();
