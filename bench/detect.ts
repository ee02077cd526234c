/**
 * bench:detect — how fast and how wrongly each judge rolls back, over seeded simulations.
 *
 *   npm run bench:detect [-- --json] [--runs N]
 *
 * Each run is one canary release: steps of 5/10/20/50% traffic × 5 min, read every 15 s
 * (80 intervals, 20 min). Stable fails with probability p0, the canary with θ·p0. A run
 * that no judge call fails is "promoted". The same simulated counters are fed to every
 * method (paired comparison), and the schedule is fixed: the bench does not model the
 * engine holding a step on Inconclusive or promoting early on Passed (the sequential
 * judge's early passes are shown in their own column).
 *
 * Methods:
 * - sequential:    Aviary's sequential judge with its defaults (α = 0.01, minRequests 20,
 *                  catastrophic guard 20%).
 * - flagger-style: canary success rate ≥ 99% over a 1-minute window, checked once a
 *                  minute (Flagger's `interval: 1m`, whose built-in query window is the
 *                  interval; so every 4th reading, covering the last 4 intervals); the
 *                  5th failed check rolls back; like Flagger, a window with no canary
 *                  request ("no values found") is a failed check.
 * - argo-style:    success rate ≥ 99% per interval; failureLimit 2 (the 3rd failure
 *                  aborts); an interval with no canary request is inconclusive.
 * The two baselines have no minimum sample size and no catastrophic guard, like the tools.
 */
import { AnalysisSpec, type AnalysisSpec as AnalysisSpecType } from "../src/api/rollout.ts";
import type { Judge, JudgeMemory, MetricsSample, VersionCounters } from "../src/analysis/judge.ts";
import { sequentialJudge } from "../src/analysis/sequential.ts";
import { createThresholdJudge } from "../src/analysis/threshold.ts";
import { seededRandom, type Random } from "../src/sim/random.ts";
import { arrivals, splitByWeight } from "../src/sim/traffic-model.ts";

const STEPS = [5, 10, 20, 50];
const STEP_SECONDS = 300;
const INTERVAL_SECONDS = 15;
const P0S = [0.001, 0.005, 0.01];
const THETAS = [1, 1.5, 2, 3, 5, 10];
const RPS = [1, 10, 50, 100];
const METHODS = ["sequential", "flagger-style", "argo-style"] as const;
type Method = (typeof METHODS)[number];

const successOnly = [{ name: "success-rate", builtin: "successRate" as const, min: 99 }];
const setups: Record<Method, { judge: Judge; spec: AnalysisSpecType; everySeconds?: number }> = {
  sequential: { judge: sequentialJudge, spec: AnalysisSpec.parse({ metrics: successOnly }) },
  "flagger-style": {
    judge: createThresholdJudge({ noDataIsFailure: true }),
    everySeconds: 60,
    spec: AnalysisSpec.parse({
      judge: "threshold",
      metrics: successOnly,
      minRequests: 1,
      failureLimit: 4,
      catastrophicErrorRate: 100,
    }),
  },
  "argo-style": {
    judge: createThresholdJudge(),
    spec: AnalysisSpec.parse({
      judge: "threshold",
      metrics: successOnly,
      minRequests: 1,
      failureLimit: 2,
      catastrophicErrorRate: 100,
    }),
  },
};

interface Row {
  method: Method;
  p0: number;
  theta: number;
  rps: number;
  runs: number;
  rollbackRate: number;
  medianSecondsToRollback: number | null;
}

interface RunOutcome {
  rollbackAt: Partial<Record<Method, number>>;
  /** Seconds at which the sequential judge first said Passed before any rollback. */
  passedAt?: number;
}

/**
 * Binomial draw that stays exact when the mean is small (inversion), where a normal
 * approximation would distort rare errors; normal approximation only for large variance.
 */
function binomialCount(random: Random, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const variance = n * p * (1 - p);
  if (variance > 50) {
    const u1 = Math.max(random(), Number.EPSILON);
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random());
    return Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(variance) * z)));
  }
  const u = random();
  let k = 0;
  let pk = Math.pow(1 - p, n);
  let cdf = pk;
  while (u > cdf && k < n) {
    pk *= ((n - k) / (k + 1)) * (p / (1 - p));
    k++;
    cdf += pk;
  }
  return k;
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

function simulateRun(seed: number, p0: number, theta: number, rps: number): RunOutcome {
  const random = seededRandom(seed);
  const canary: VersionCounters = { requests: 0, errors: 0, latencyBuckets: [] };
  const stable: VersionCounters = { requests: 0, errors: 0, latencyBuckets: [] };
  const memories: Partial<Record<Method, JudgeMemory>> = {};
  const outcome: RunOutcome = { rollbackAt: {} };
  const start = Date.UTC(2026, 0, 1);
  const intervals = (STEPS.length * STEP_SECONDS) / INTERVAL_SECONDS;
  for (let i = 0; i <= intervals; i++) {
    const seconds = i * INTERVAL_SECONDS;
    if (i > 0) {
      const weight =
        STEPS[Math.min(STEPS.length - 1, Math.floor((seconds - 1) / STEP_SECONDS))] ?? 0;
      const split = splitByWeight(random, arrivals(random, rps, INTERVAL_SECONDS), weight);
      canary.requests += split.canary;
      canary.errors += binomialCount(random, split.canary, Math.min(1, theta * p0));
      stable.requests += split.stable;
      stable.errors += binomialCount(random, split.stable, p0);
    }
    const sample: MetricsSample = {
      at: new Date(start + seconds * 1000).toISOString(),
      canary: { ...canary },
      stable: { ...stable },
    };
    let alive = false;
    for (const method of METHODS) {
      if (outcome.rollbackAt[method] !== undefined) continue;
      const { judge, spec, everySeconds } = setups[method];
      alive = true;
      if (everySeconds !== undefined && seconds % everySeconds !== 0) continue;
      const judgement = judge.judge(spec, memories[method], sample);
      memories[method] = judgement.memory;
      if (judgement.verdict === "Failed") outcome.rollbackAt[method] = seconds;
      if (
        method === "sequential" &&
        judgement.verdict === "Passed" &&
        outcome.passedAt === undefined
      ) {
        outcome.passedAt = seconds;
      }
    }
    if (!alive) break;
  }
  return outcome;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? null)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function parseArgs(argv: string[]): { json: boolean; runs: number } {
  let json = false;
  let runs = 200;
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
    } else {
      console.error(
        `unknown argument "${arg ?? ""}"; usage: npm run -s bench:detect -- [--json] [--runs N]`,
      );
      process.exit(2);
    }
  }
  return { json, runs };
}

function main(): void {
  const { json, runs } = parseArgs(process.argv.slice(2));
  const began = performance.now();
  const rows: Row[] = [];
  const earlyPass = new Map<string, number>();
  P0S.forEach((p0, pi) => {
    THETAS.forEach((theta, ti) => {
      RPS.forEach((rps, ri) => {
        const outcomes = Array.from({ length: runs }, (_, run) =>
          simulateRun(seedOf(pi, ti, ri, run), p0, theta, rps),
        );
        for (const method of METHODS) {
          const times = outcomes.flatMap((o) =>
            o.rollbackAt[method] === undefined ? [] : [o.rollbackAt[method]],
          );
          rows.push({
            method,
            p0,
            theta,
            rps,
            runs,
            rollbackRate: times.length / runs,
            medianSecondsToRollback: median(times),
          });
        }
        earlyPass.set(
          cellKey(p0, theta, rps),
          outcomes.filter((o) => o.passedAt !== undefined).length / runs,
        );
      });
    });
  });
  const elapsed = (performance.now() - began) / 1000;
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    console.error(targets(rows).join("\n"));
    return;
  }
  console.log(
    `bench:detect — ${runs} runs per cell; steps ${STEPS.join("/")}% × ${STEP_SECONDS / 60} min; ${INTERVAL_SECONDS} s intervals`,
  );
  console.log(
    "Each cell: rollback rate (false rollbacks when θ = 1, detections otherwise), median time to rollback,",
  );
  console.log("and that median as a multiple of flagger-style's in the same cell.\n");
  for (const method of METHODS)
    console.log(table(method, rows, method === "sequential" ? earlyPass : undefined));
  console.log(targets(rows).join("\n"));
  console.log(`\n(${elapsed.toFixed(1)} s)`);
}

const cellKey = (p0: number, theta: number, rps: number) => `${p0}/${theta}/${rps}`;

function find(
  rows: Row[],
  method: Method,
  p0: number,
  theta: number,
  rps: number,
): Row | undefined {
  return rows.find((r) => r.method === method && r.p0 === p0 && r.theta === theta && r.rps === rps);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;
}

function table(method: Method, rows: Row[], earlyPass: Map<string, number> | undefined): string {
  const lines = [`== ${method} ==`];
  const width = 22;
  for (const p0 of P0S) {
    lines.push(`p0 = ${p0 * 100}%`);
    lines.push(["θ".padEnd(5), ...RPS.map((r) => `${r} rps`.padEnd(width))].join("| "));
    for (const theta of THETAS) {
      const cells = RPS.map((rps) => {
        const row = find(rows, method, p0, theta, rps);
        const flagger = find(rows, "flagger-style", p0, theta, rps);
        if (!row) return "".padEnd(width);
        const m = row.medianSecondsToRollback;
        const ratio =
          m !== null && flagger?.medianSecondsToRollback
            ? ` ×${(m / flagger.medianSecondsToRollback).toFixed(2)}`
            : "";
        const pass = earlyPass ? ` p${pct(earlyPass.get(cellKey(p0, theta, rps)) ?? 0)}` : "";
        return `${pct(row.rollbackRate)} ${m === null ? "—" : `${m}s`}${method === "flagger-style" ? "" : ratio}${pass}`.padEnd(
          width,
        );
      });
      lines.push([String(theta).padEnd(5), ...cells].join("| "));
    }
  }
  if (earlyPass)
    lines.push(
      "(pN% = runs in which the judge reported Passed, i.e. would have allowed early promotion)",
    );
  return lines.join("\n") + "\n";
}

function targets(rows: Row[]): string[] {
  const mark = (ok: boolean) => (ok ? "MET   " : "MISSED");
  const lines = ["== targets =="];
  const aa = rows.filter((r) => r.method === "sequential" && r.theta === 1);
  const pooled =
    aa.reduce((s, r) => s + r.rollbackRate * r.runs, 0) / aa.reduce((s, r) => s + r.runs, 0);
  const worst = [...aa].sort((x, y) => y.rollbackRate - x.rollbackRate)[0];
  if (!worst) return lines;
  lines.push(
    `${mark(pooled <= 0.01)} A/A false rollbacks ≤ 1% (sequential, all p0 and rps pooled): ${pct(pooled)}`,
  );
  lines.push(
    `${mark(worst.rollbackRate <= 0.01)} A/A false rollbacks ≤ 1% in every cell: worst ${pct(worst.rollbackRate)} at p0 ${worst.p0 * 100}%, ${worst.rps} rps`,
  );
  const compare = (theta: number, factor: number, label: string) => {
    const s = find(rows, "sequential", 0.005, theta, 50)?.medianSecondsToRollback ?? null;
    const f = find(rows, "flagger-style", 0.005, theta, 50)?.medianSecondsToRollback ?? null;
    const ok = s !== null && f !== null && s <= factor * f;
    lines.push(
      `${mark(ok)} θ = ${theta}, p0 0.5%, 50 rps: ${label}: sequential ${s ?? "—"} s vs flagger-style ${f ?? "—"} s${s !== null && f ? ` (×${(s / f).toFixed(2)})` : ""}`,
    );
  };
  compare(5, 0.5, "median ≤ 0.5× flagger-style");
  compare(3, 1, "median no slower than flagger-style");
  const low = find(rows, "sequential", 0.001, 5, 50)?.rollbackRate ?? 0;
  lines.push(`${mark(low >= 0.95)} θ = 5, p0 0.1%, 50 rps detected ≥ 95%: ${pct(low)}`);
  return lines;
}

main();
