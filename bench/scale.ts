/**
 * How light is the controller at scale, run as production runs it? Against the harness
 * cluster (`npm run cluster:up`), for each fleet size in turn: a fresh namespace with N
 * replica-based canary Rollouts (one replica, two ClusterIP Services each), then the
 * controller as its own process, started as the image starts it (bench/scale/
 * controller-process.ts), watching that namespace. Every figure comes from the
 * controller's own /metrics:
 * - cold start: until every Rollout is Healthy;
 * - idle: after a settle period, a window in which nothing changes: RSS and heap (median of
 *   samples every 5 s), API requests per second;
 * - release: a new image on every Rollout at once, until all are promoted: API writes per
 *   step per Rollout, reconcile p50/p99, and the time it took;
 * - CPU seconds in each phase; the marginal memory per Rollout is the least-squares slope
 *   of RSS and heap over the sizes.
 *
 * Usage: npm run -s bench:scale -- [--rollouts 250,500,1000] [--settle 30] [--steady 60]
 *          [--from auto|dist|src] [--json]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WRITE_VERBS } from "../src/kube/api-requests.ts";
import { kubeConfig, kubeconfigPath } from "../test/harness/env.ts";
import { startBenchController, type BenchController } from "./scale/controller-process.ts";
import { Fleet, STEPS } from "./scale/fleet.ts";
import {
  byLabel,
  delta,
  histogram,
  linearFit,
  quantile,
  total,
  type Scrape,
} from "./scale/metrics-text.ts";

const { values: args } = parseArgs({
  options: {
    rollouts: { type: "string", default: "250,500,1000" },
    settle: { type: "string", default: "30" },
    steady: { type: "string", default: "60" },
    from: { type: "string", default: "auto" },
    json: { type: "boolean", default: false },
  },
});
const SIZES = args.rollouts.split(",").map(Number);
const SETTLE_S = Number(args.settle);
const STEADY_S = Number(args.steady);
const FROM = args.from;
if (!SIZES.every((n) => Number.isInteger(n) && n > 0))
  throw new Error("--rollouts must be positive integers, comma-separated");
if (!(SETTLE_S >= 0) || !(STEADY_S > 0)) throw new Error("--settle and --steady are seconds");
if (FROM !== "auto" && FROM !== "dist" && FROM !== "src")
  throw new Error("--from is auto, dist or src");

const REQUESTS = "aviary_kube_api_requests_total";
const RECONCILE = "aviary_reconcile_duration_seconds";
const RSS = "process_resident_memory_bytes";
const HEAP = "nodejs_heap_size_used_bytes";
const CPU = "process_cpu_seconds_total";

interface Result {
  rollouts: number;
  entry: string;
  coldStartSeconds: number;
  rssBytes: number;
  heapBytes: number;
  idleRequestsPerSecond: number;
  idleRequestsByVerb: Record<string, number>;
  releaseSeconds: number;
  releaseWritesPerStepPerRollout: number;
  releaseRequestsByVerb: Record<string, number>;
  /** Writes in the release per Rollout, by "verb resource" (`create events`). */
  releaseWritesPerRolloutByResource: Record<string, number>;
  reconcileP50Seconds: number | undefined;
  reconcileP99Seconds: number | undefined;
  reconciles: number;
  cpuSeconds: { coldStart: number; idle: number; release: number; total: number };
}

const logDir = mkdtempSync(join(tmpdir(), "aviary-bench-scale-"));

async function measure(size: number): Promise<Result> {
  const namespace = `bench-scale-${String(size)}-${Math.random().toString(36).slice(2, 7)}`;
  const fleet = new Fleet(kubeConfig(), namespace, size);
  const created = Date.now();
  let controller: BenchController | undefined;
  try {
    await fleet.create();
    log(
      `${namespace}: ${String(size)} Rollouts, ${String(2 * size)} Services in ${secs(created)} s`,
    );
    const started = Date.now();
    controller = await startBenchController({
      kubeconfig: kubeconfigPath(),
      namespace,
      logFile: join(logDir, `controller-${String(size)}.log`),
      from: FROM as "auto" | "dist" | "src",
    });
    log(`controller: ${controller.entry}`);
    const coldStartSeconds = await fleet.secondsUntil(started, (_, s) => s.phase === "Healthy");
    const cold = await controller.scrape();
    log(`all Healthy after ${coldStartSeconds.toFixed(1)} s; settling ${String(SETTLE_S)} s`);
    await sleep(SETTLE_S * 1000);

    const idleStart = await controller.scrape();
    const t0 = Date.now();
    const memory: { rss: number; heap: number }[] = [];
    while (Date.now() - t0 < STEADY_S * 1000) {
      await sleep(Math.min(5000, STEADY_S * 1000 - (Date.now() - t0)));
      const s = await controller.scrape();
      memory.push({ rss: total(s, RSS), heap: total(s, HEAP) });
    }
    const idleEnd = await controller.scrape();
    const idleSeconds = (Date.now() - t0) / 1000;
    const idleRequests = delta(
      byLabel(idleStart, REQUESTS, "verb"),
      byLabel(idleEnd, REQUESTS, "verb"),
    );
    log(`idle window of ${idleSeconds.toFixed(0)} s done; one new image on all ${String(size)}`);

    const before = await fleet.statuses();
    const releaseStart = await controller.scrape();
    const bumped = Date.now();
    await fleet.bumpImages("app:2");
    const releaseSeconds = await fleet.secondsUntil(
      bumped,
      (name, s) =>
        s.phase === "Healthy" &&
        s.stableHash !== undefined &&
        s.stableHash !== before.get(name)?.stableHash,
    );
    const releaseEnd = await controller.scrape();
    const releaseRequests = delta(
      byLabel(releaseStart, REQUESTS, "verb"),
      byLabel(releaseEnd, REQUESTS, "verb"),
    );
    const writes = WRITE_VERBS.reduce((sum, verb) => sum + (releaseRequests.get(verb) ?? 0), 0);
    const writesByResource = delta(writeKinds(releaseStart), writeKinds(releaseEnd));
    const h0 = histogram(releaseStart, RECONCILE);
    const h1 = histogram(releaseEnd, RECONCILE);
    const cpu = (s: Scrape): number => total(s, CPU);
    log(`all promoted after ${releaseSeconds.toFixed(1)} s`);
    return {
      rollouts: size,
      entry: controller.entry,
      coldStartSeconds,
      rssBytes: median(memory.map((m) => m.rss)),
      heapBytes: median(memory.map((m) => m.heap)),
      idleRequestsPerSecond: sumOf(idleRequests) / idleSeconds,
      idleRequestsByVerb: Object.fromEntries(idleRequests),
      releaseSeconds,
      releaseWritesPerStepPerRollout: writes / (size * STEPS.length),
      releaseRequestsByVerb: Object.fromEntries(releaseRequests),
      releaseWritesPerRolloutByResource: Object.fromEntries(
        [...writesByResource].map(([kind, n]) => [kind, Math.round((n / size) * 100) / 100]),
      ),
      reconcileP50Seconds: quantile(h0, h1, 0.5),
      reconcileP99Seconds: quantile(h0, h1, 0.99),
      reconciles: h1.count - h0.count,
      cpuSeconds: {
        coldStart: cpu(cold),
        idle: cpu(idleEnd) - cpu(idleStart),
        release: cpu(releaseEnd) - cpu(releaseStart),
        total: cpu(releaseEnd),
      },
    };
  } finally {
    // The controller removes its finalizers from the deleted Rollouts: stop it after.
    await fleet.delete();
    await controller?.stop();
    log(`deleted ${namespace}`);
  }
}

function report(all: Result[]): void {
  const rss = linearFit(all.map((r) => [r.rollouts, r.rssBytes]));
  const heap = linearFit(all.map((r) => [r.rollouts, r.heapBytes]));
  if (args.json) {
    const marginal = { rssBytesPerRollout: rss.slope, heapBytesPerRollout: heap.slope };
    console.log(JSON.stringify({ results: all, marginal }, null, 2));
    return;
  }
  const rows = [
    [
      "Rollouts",
      "RSS MB",
      "heap MB",
      "idle API req/s",
      "writes/step/Rollout",
      "reconcile p50",
      "reconcile p99",
      "CPU s start/idle/release",
      "cold start s",
      "release s",
    ],
    ...all.map((r) => [
      String(r.rollouts),
      mb(r.rssBytes),
      mb(r.heapBytes),
      r.idleRequestsPerSecond.toFixed(2),
      r.releaseWritesPerStepPerRollout.toFixed(2),
      ms(r.reconcileP50Seconds),
      ms(r.reconcileP99Seconds),
      [r.cpuSeconds.coldStart, r.cpuSeconds.idle, r.cpuSeconds.release]
        .map((c) => c.toFixed(1))
        .join(" / "),
      r.coldStartSeconds.toFixed(1),
      r.releaseSeconds.toFixed(1),
    ]),
  ];
  const widths = (rows[0] ?? []).map((_, i) =>
    Math.max(...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (row: string[]): string =>
    `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  console.log(`controller: ${all[0]?.entry ?? "?"}`);
  console.log(line(rows[0] ?? []));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows.slice(1)) console.log(line(row));
  if (all.length > 1)
    console.log(
      `\nmarginal memory per Rollout (least squares over ${all.map((r) => r.rollouts).join(", ")}): ` +
        `RSS ${kb(rss.slope)} KB, heap ${kb(heap.slope)} KB ` +
        `(intercepts: RSS ${mb(rss.intercept)} MB, heap ${mb(heap.intercept)} MB)`,
    );
  for (const r of all)
    console.log(
      `${String(r.rollouts)}: idle requests ${describe(r.idleRequestsByVerb)}; ` +
        `release requests ${describe(r.releaseRequestsByVerb)}; ${String(r.reconciles)} reconciles; ` +
        `writes per Rollout in the release: ${describe(r.releaseWritesPerRolloutByResource)}`,
    );
  console.log(`controller logs: ${logDir}`);
}

/** Write requests by "verb resource". */
function writeKinds(scrape: Scrape): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of scrape)
    if (s.name === REQUESTS && (WRITE_VERBS as readonly string[]).includes(s.labels.verb ?? "")) {
      const kind = `${s.labels.verb ?? ""} ${s.labels.resource ?? ""}`;
      out.set(kind, (out.get(kind) ?? 0) + s.value);
    }
  return out;
}

function describe(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? "none" : entries.map(([k, v]) => `${k} ${String(v)}`).join(", ");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function sumOf(m: Map<string, number>): number {
  return [...m.values()].reduce((a, b) => a + b, 0);
}

function log(message: string): void {
  console.error(`[bench:scale] ${message}`);
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const secs = (since: number): string => ((Date.now() - since) / 1000).toFixed(1);
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const kb = (bytes: number): string => (bytes / 1024).toFixed(1);
const ms = (s: number | undefined): string =>
  s === undefined ? "n/a" : `${(s * 1000).toFixed(1)} ms`;

const results: Result[] = [];
for (const size of SIZES) {
  const result = await measure(size);
  results.push(result);
  // Each size takes minutes: its figures are kept even if a later size fails.
  log(`result ${JSON.stringify(result)}`);
}
report(results);
