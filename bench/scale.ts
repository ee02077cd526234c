/**
 * How light is the controller at scale? Against the harness cluster (`npm run cluster:up`),
 * creates N replica-based canary Rollouts (1 replica, two Services each) in a fresh
 * namespace, runs the controller in-process and prints:
 * - time until all N are Healthy from a cold start;
 * - in a steady-state window: reconciles/s, API requests/s made by the controller,
 *   p50/p99 reconcile duration, heap and RSS per Rollout;
 * - after a new image on every template: time until all N are promoted, and the
 *   controller's API requests/s meanwhile.
 *
 * API requests are counted in the controller's KubeConfig: client-node 2.x calls
 * `applySecurityAuthentication` once for every request it sends (generated clients, the
 * generic object API and watches alike), so a subclass that counts there sees them all.
 *
 * Usage: npm run bench:scale -- [--rollouts 200] [--steady 60] [--json]
 * (node --expose-gc is passed by the script so heap figures follow a forced GC).
 */
import { parseArgs } from "node:util";
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { pino } from "pino";
import type { RolloutStatus } from "../src/api/rollout.ts";
import { startController } from "../src/kube/controller.ts";
import { kubeConfig } from "../test/harness/env.ts";

type SecurityContext = Parameters<KubeConfig["applySecurityAuthentication"]>[0];

/** A KubeConfig that counts every request sent through it, by method. */
class CountingKubeConfig extends KubeConfig {
  readonly counts = new Map<string, number>();

  override async applySecurityAuthentication(context: SecurityContext): Promise<void> {
    const method = context.getHttpMethod();
    this.counts.set(method, (this.counts.get(method) ?? 0) + 1);
    await super.applySecurityAuthentication(context);
  }

  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  snapshot(): Map<string, number> {
    return new Map(this.counts);
  }
}

const { values: args } = parseArgs({
  options: {
    rollouts: { type: "string", default: "200" },
    steady: { type: "string", default: "60" },
    json: { type: "boolean", default: false },
  },
});
const N = Number(args.rollouts);
const STEADY_S = Number(args.steady);
if (!Number.isInteger(N) || N < 1) throw new Error("--rollouts must be a positive integer");
if (!(STEADY_S > 0)) throw new Error("--steady must be a positive number of seconds");

const admin = kubeConfig();
const objects = KubernetesObjectApi.makeApiClient(admin);
const custom = admin.makeApiClient(CustomObjectsApi);
const core = admin.makeApiClient(CoreV1Api);
const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const namespace = `bench-scale-${Math.random().toString(36).slice(2, 8)}`;
const names = Array.from({ length: N }, (_, i) => `r${String(i).padStart(5, "0")}`);

function template(name: string, image: string): Record<string, unknown> {
  return {
    metadata: { labels: { app: name } },
    spec: { containers: [{ name: "app", image }] },
  };
}

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
}

async function statuses(): Promise<Map<string, RolloutStatus>> {
  const list = (await custom.listNamespacedCustomObject({
    group: "aviary.dev",
    version: "v1alpha1",
    namespace,
    plural: "rollouts",
  })) as { items: { metadata: { name: string }; status?: RolloutStatus }[] };
  return new Map(list.items.map((o) => [o.metadata.name, o.status ?? {}]));
}

/** Seconds until `done` holds for every Rollout's status (polled each second, 15 min cap). */
async function secondsUntil(
  since: number,
  done: (name: string, s: RolloutStatus) => boolean,
): Promise<number> {
  for (;;) {
    const all = await statuses();
    const count = names.filter((n) => done(n, all.get(n) ?? {})).length;
    if (count === N) return (Date.now() - since) / 1000;
    if (Date.now() - since > 15 * 60_000)
      throw new Error(`only ${count}/${N} Rollouts got there within 15 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function memory(): { heap: number; rss: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

interface HistogramState {
  count: number;
  buckets: Map<number, number>;
}

async function main(): Promise<void> {
  const setupStart = Date.now();
  await objects.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  try {
    await inParallel(names, 16, async (name) => {
      for (const role of ["stable", "canary"]) {
        await objects.create({
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: `${name}-${role}`, namespace },
          // Headless: the harness's Service CIDR is a /24, too small for thousands of cluster IPs.
          spec: {
            clusterIP: "None",
            selector: { app: name },
            ports: [{ port: 80, targetPort: 8080 }],
          },
        });
      }
      await objects.create({
        apiVersion: "aviary.dev/v1alpha1",
        kind: "Rollout",
        metadata: { name, namespace },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: template(name, "app:1"),
          strategy: {
            canary: {
              stableService: `${name}-stable`,
              canaryService: `${name}-canary`,
              steps: [{ setWeight: 50 }, { pause: { duration: "1s" } }],
            },
          },
        },
      });
    });
    log(`created ${N} Rollouts and ${2 * N} Services in ${namespace} in ${secs(setupStart)} s`);
    await run();
  } finally {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    log(`deleted namespace ${namespace}`);
  }
}

async function run(): Promise<void> {
  const counting = new CountingKubeConfig();
  counting.loadFromString(admin.exportConfig());
  const baseline = memory();
  const started = Date.now();
  const controller = await startController({
    kubeConfig: counting,
    namespace,
    leaderElection: false,
    metricsPort: undefined,
    log: pino({ level: process.env.AVIARY_BENCH_LOG ?? "silent" }),
  });
  try {
    const toHealthy = await secondsUntil(started, (_, s) => s.phase === "Healthy");
    log(`all ${N} Healthy after ${toHealthy.toFixed(1)} s; steady window of ${STEADY_S} s`);

    const histogram = async (): Promise<HistogramState> => {
      const values = (await controller.metrics.reconcileSeconds.get()).values;
      const buckets = new Map<number, number>();
      let count = 0;
      for (const v of values) {
        if (v.metricName?.endsWith("_bucket") === true) {
          const le = v.labels.le;
          buckets.set(le === "+Inf" ? Infinity : Number(le), v.value);
        }
        if (v.metricName?.endsWith("_count") === true) count = v.value;
      }
      return { count, buckets };
    };
    const h0 = await histogram();
    const r0 = counting.snapshot();
    const t0 = Date.now();
    await new Promise((resolve) => setTimeout(resolve, STEADY_S * 1000));
    const seconds = (Date.now() - t0) / 1000;
    const h1 = await histogram();
    const r1 = counting.snapshot();
    const mem = memory();
    const steadyRequests = diff(r0, r1);

    const before = await statuses();
    const releaseStart = Date.now();
    const rq0 = counting.total();
    await inParallel(names, 16, (name) =>
      custom.patchNamespacedCustomObject(
        {
          group: "aviary.dev",
          version: "v1alpha1",
          namespace,
          plural: "rollouts",
          name,
          body: { spec: { template: template(name, "app:2") } },
        },
        MERGE,
      ),
    );
    const toPromoted = await secondsUntil(
      releaseStart,
      (name, s) =>
        s.phase === "Healthy" &&
        s.stableHash !== undefined &&
        s.stableHash !== before.get(name)?.stableHash,
    );
    const releaseRate = (counting.total() - rq0) / toPromoted;

    const reconciles = h1.count - h0.count;
    const rows: [string, string][] = [
      ["rollouts", String(N)],
      ["time until all Healthy (cold start)", `${toHealthy.toFixed(1)} s`],
      ["steady: reconciles / s", (reconciles / seconds).toFixed(2)],
      ["steady: API requests / s", (sum(steadyRequests) / seconds).toFixed(2)],
      ["steady: API requests by method", describeMethods(steadyRequests)],
      ["steady: reconcile p50", ms(quantile(h0, h1, 0.5))],
      ["steady: reconcile p99", ms(quantile(h0, h1, 0.99))],
      [
        "heap used after GC (whole process)",
        `${mb(mem.heap)} MB (before the controller: ${mb(baseline.heap)} MB)`,
      ],
      ["heap per Rollout (whole heap / N)", `${kb(mem.heap / N)} KB`],
      ["RSS (whole process)", `${mb(mem.rss)} MB (before the controller: ${mb(baseline.rss)} MB)`],
      ["time until all promoted (new image)", `${toPromoted.toFixed(1)} s`],
      ["release: API requests / s", releaseRate.toFixed(2)],
    ];
    print(rows);
  } finally {
    await controller.stop();
  }
}

function diff(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of b) if (v - (a.get(k) ?? 0) > 0) out.set(k, v - (a.get(k) ?? 0));
  return out;
}

function sum(m: Map<string, number>): number {
  return [...m.values()].reduce((a, b) => a + b, 0);
}

function describeMethods(m: Map<string, number>): string {
  return [...m].map(([k, v]) => `${k} ${String(v)}`).join(", ") || "none";
}

/** A quantile of the observations made between two histogram states, interpolated within its bucket. */
function quantile(h0: HistogramState, h1: HistogramState, q: number): number | undefined {
  const total = h1.count - h0.count;
  if (total <= 0) return undefined;
  const bounds = [...h1.buckets.keys()].sort((a, b) => a - b);
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const cumulative = (h1.buckets.get(le) ?? 0) - (h0.buckets.get(le) ?? 0);
    if (cumulative >= rank) {
      if (le === Infinity) return lower;
      const inBucket = cumulative - below;
      return lower + (le - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket);
    }
    lower = le;
    below = cumulative;
  }
  return lower;
}

function print(rows: [string, string][]): void {
  if (args.json) {
    console.log(JSON.stringify(Object.fromEntries(rows), null, 2));
    return;
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`| ${"measure".padEnd(width)} | value |`);
  console.log(`|${"-".repeat(width + 2)}|-------|`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
}

function log(message: string): void {
  console.error(`[bench:scale] ${message}`);
}
const secs = (since: number): string => ((Date.now() - since) / 1000).toFixed(1);
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const kb = (bytes: number): string => (bytes / 1024).toFixed(1);
const ms = (s: number | undefined): string =>
  s === undefined ? "n/a" : `${(s * 1000).toFixed(1)} ms`;

await main();
