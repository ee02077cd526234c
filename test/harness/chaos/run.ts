import { readFileSync } from "node:fs";
import { CoreV1Api, KubernetesObjectApi, type KubeConfig } from "@kubernetes/client-node";
import type { RolloutStatus } from "../../../src/api/rollout.ts";
import { seededRandom, type Random } from "../../../src/sim/random.ts";
import { compactEtcd, etcdUrlOf, restartApiServer } from "../control-plane.ts";
import { startReceiver } from "../receiver.ts";
import {
  BAD_ERROR_RATE,
  createRelease,
  rolloutStatus,
  sendCommand,
  setImage,
  type Release,
} from "./fleet.ts";
import {
  countNotifications,
  EXPECTED,
  halfRouted,
  outcomeOf,
  type NotificationCount,
  type Outcome,
} from "./outcomes.ts";
import { leaseHolder, startReplicas } from "./replicas.ts";
import { routingOf, startSampler, type Violation } from "./sampler.ts";
import { startTcpProxy } from "./tcp-proxy.ts";
import { currentResourceVersion, touch, watchIsGone } from "./gone-probe.ts";

/**
 * A chaos run: N concurrent releases (healthy, bad, manual; across Istio host-level,
 * subset-level and HTTPRoute) under two leader-elected controller replicas, while the run
 * SIGKILLs replicas at seeded random moments, compacts etcd, restarts the kube-apiserver
 * and cuts Prometheus off. It then checks each release's outcome, samples the weights
 * for traffic sent to versions without available pods, checks nothing is left
 * half-routed, and counts duplicate and lost notifications.
 */
export interface ChaosOptions {
  kubeConfig: KubeConfig;
  kubeconfigPath: string;
  prometheusUrl: string;
  prometheusTargetsFile: string;
  /** The test environment's run dir (how its API server was started, its etcd). */
  runDir: string;
  logDir: string;
  releases: number;
  seed: number;
  /** A replica is SIGKILLed every [min, max] ms (uniform, seeded)... */
  killEveryMs: [number, number];
  /** ...for this long after the releases start; then the releases must finish in calm. */
  killForMs: number;
  /** When (ms after the releases start) etcd is compacted. */
  compactAtMs: number;
  /** When the kube-apiserver is restarted, and how long it stays down. */
  apiServerRestartAtMs: number;
  apiServerDownMs: number;
  prometheusOutage: { atMs: number; forMs: number };
  requestsPerSecond: number;
  simPollMs: number;
  sampleEveryMs: number;
  /** The longest the releases may take to reach their outcomes. */
  settleTimeoutMs: number;
  log: (line: string) => void;
}

export interface Fault {
  what: string;
  /** Seconds after the releases started. */
  at: number[];
}

export interface ReleaseResult {
  release: Release;
  expected: Outcome;
  got: Outcome;
  detail: string;
  halfRouted: string | undefined;
  notifications: NotificationCount;
  /** The status as the run saw it change (seconds after the releases started). */
  history: string[];
}

export interface ChaosReport {
  faults: Fault[];
  results: ReleaseResult[];
  violations: Violation[];
  samples: number;
  failedSamples: number;
  leaderChanges: number;
  /** Watch errors the replicas logged, and how many of them said 410 Gone. */
  watchErrors: number;
  watchGone: number;
  /** Per compaction: did a watch resumed from a revision before it get 410 Gone? */
  goneProbes: boolean[];
  /** Seconds from the first new image to the last release reaching its outcome. */
  settledAfter: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  f: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(f))));
  return out;
}

/** Phase, step, weight, the analysis verdict with each metric's evidence, and the message. */
function statusLine(s: RolloutStatus): string {
  const metrics = (s.analysis?.metrics ?? [])
    .map((m) => `${m.name} ${m.verdict} e=${m.evidence?.toPrecision(3) ?? "-"}`)
    .join(", ");
  const analysis =
    s.analysis === undefined
      ? ""
      : ` analysis ${s.analysis.verdict} (${String(s.analysis.samples)} samples${metrics === "" ? "" : `; ${metrics}`})`;
  return `${s.phase ?? "-"} step ${String(s.currentStepIndex ?? "-")} weight ${String(s.canaryWeight ?? "-")}${analysis}: ${s.message ?? ""}`;
}

const tolerant = <T>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);

const between = (random: Random, [min, max]: [number, number]) => min + random() * (max - min);

export async function runChaos(
  options: ChaosOptions,
  cleanups: (() => Promise<void>)[],
): Promise<ChaosReport> {
  const { kubeConfig: kc, log } = options;
  const random = seededRandom(options.seed);
  const runId = Date.now().toString(36).slice(-5);
  const receiver = await startReceiver("/hooks/aviary");
  cleanups.push(() => receiver.close());
  const proxy = await startTcpProxy(new URL(options.prometheusUrl));
  cleanups.push(() => proxy.close());
  const leaseNamespace = `chaos-${runId}-ctl`;
  await KubernetesObjectApi.makeApiClient(kc).create({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: leaseNamespace },
  });
  cleanups.push(() =>
    kc
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: leaseNamespace })
      .then(
        () => undefined,
        () => undefined,
      ),
  );

  log(`chaos: creating ${options.releases} releases (run ${runId})`);
  const fleet = {
    kubeConfig: kc,
    prometheusUrl: options.prometheusUrl,
    prometheusTargetsFile: options.prometheusTargetsFile,
    prometheusAddress: proxy.url,
    runId,
    count: options.releases,
    requestsPerSecond: options.requestsPerSecond,
    simPollMs: options.simPollMs,
    seed: options.seed,
  };
  const releases = await inBatches(
    Array.from({ length: options.releases }, (_, i) => i),
    5,
    (i) => createRelease(fleet, i, cleanups),
  );
  const namespaces = releases.map((r) => r.namespace);
  const inScope = new Set(namespaces);
  const replicas = startReplicas({
    kubeconfigPath: options.kubeconfigPath,
    namespaces,
    leaseNamespace,
    webhookUrl: receiver.url,
    logDir: options.logDir,
    restartDelayMs: 1_000,
    lease: { duration: "15s", renewDeadline: "10s", retryPeriod: "2s" },
  });
  cleanups.push(() => replicas.stop());

  const statuses = new Map<string, RolloutStatus>();
  // Each release's status as it changed, for the report of a release that went wrong.
  const histories = new Map<string, string[]>();
  let t0 = Date.now();
  const readStatuses = async () => {
    await inBatches(releases, 10, async (r) => {
      const s = await tolerant(rolloutStatus(kc, r.namespace));
      if (s === undefined) return;
      statuses.set(r.namespace, s);
      const line = statusLine(s);
      const history = histories.get(r.namespace) ?? [];
      if (history[history.length - 1]?.endsWith(line) !== true) {
        history.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${line}`);
        histories.set(r.namespace, history);
      }
    });
  };
  const until = async (
    what: string,
    done: (r: Release, s: RolloutStatus) => boolean,
    timeoutMs: number,
  ) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await readStatuses();
      const waiting = releases.filter((r) => !done(r, statuses.get(r.namespace) ?? {}));
      if (waiting.length === 0) return;
      if (Date.now() > deadline) {
        const shown = waiting.slice(0, 5).map((r) => {
          const s = statuses.get(r.namespace) ?? {};
          return `${r.namespace} (${r.kind}, ${r.routing}): ${s.phase ?? "-"} step ${s.currentStepIndex ?? "-"} weight ${s.canaryWeight ?? "-"}: ${s.message ?? ""}`;
        });
        throw new Error(
          `chaos: ${what}: ${waiting.length} not there after ${timeoutMs / 1000}s:\n  ${shown.join("\n  ")}`,
        );
      }
      await sleep(1_000);
    }
  };
  await until(
    "v1 Healthy",
    (_r, s) => s.phase === "Healthy" && s.stableHash !== undefined,
    180_000,
  );
  for (const r of releases) r.stableHash = statuses.get(r.namespace)?.stableHash ?? "";
  log("chaos: v1 Healthy everywhere; starting the releases and the faults");

  const sampler = startSampler(kc, (ns) => inScope.has(ns), options.sampleEveryMs);
  t0 = Date.now();
  histories.clear();
  const since = (at: number) => Math.round((at - t0) / 100) / 10;
  await inBatches(releases, 10, (r) => setImage(kc, r.namespace, "api:2"));

  // Leadership as the Lease shows it.
  let holder: string | undefined;
  let leaderChanges = 0;
  let faultsOver = false;
  const leaseWatch = (async () => {
    while (!faultsOver) {
      const now = await leaseHolder(kc, leaseNamespace);
      if (now !== undefined && holder !== undefined && now !== holder) leaderChanges++;
      if (now !== undefined) holder = now;
      await sleep(500);
    }
  })();
  const killer = (async () => {
    for (;;) {
      await sleep(between(random, options.killEveryMs));
      if (faultsOver || Date.now() - t0 > options.killForMs) return;
      const running = replicas.identities();
      const leader = holder !== undefined && running.includes(holder) ? holder : undefined;
      // Mostly the leader (the kill that moves leadership), sometimes the standby.
      const victim =
        leader !== undefined && random() < 0.75
          ? leader
          : running[Math.floor(random() * running.length)];
      if (victim !== undefined) replicas.kill(victim, victim === leader);
    }
  })();
  const etcdUrl = etcdUrlOf(options.runDir);
  const compactions: number[] = [];
  const goneProbes: boolean[] = [];
  const restarts: number[] = [];
  const outage: number[] = [];
  const at = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));
  const timed = Promise.all([
    (async () => {
      await at(options.compactAtMs);
      const before = await currentResourceVersion(kc, leaseNamespace);
      await touch(kc, leaseNamespace);
      await compactEtcd(etcdUrl);
      compactions.push(Date.now());
      goneProbes.push(await watchIsGone(kc, leaseNamespace, before));
    })(),
    (async () => {
      await at(options.apiServerRestartAtMs);
      const before = await currentResourceVersion(kc, leaseNamespace);
      await touch(kc, leaseNamespace);
      restarts.push(Date.now());
      // Compacted while it is down too: every watch resumes from a compacted revision.
      await restartApiServer(options.runDir, {
        downMs: options.apiServerDownMs,
        whileDown: async () => {
          await compactEtcd(etcdUrl);
          compactions.push(Date.now());
        },
      });
      goneProbes.push(await watchIsGone(kc, leaseNamespace, before));
    })(),
    (async () => {
      await at(options.prometheusOutage.atMs);
      outage.push(Date.now());
      await proxy.off();
      await sleep(options.prometheusOutage.forMs);
      await proxy.resume();
      outage.push(Date.now());
    })(),
  ]);

  // Bad canaries start failing as soon as the controller names their hash.
  const settled = (async () => {
    const deadline = t0 + options.settleTimeoutMs;
    for (;;) {
      await readStatuses();
      for (const r of releases) {
        const s = statuses.get(r.namespace) ?? {};
        if (
          r.canaryHash === undefined &&
          s.canaryHash !== undefined &&
          s.canaryHash !== r.stableHash
        ) {
          r.canaryHash = s.canaryHash;
          if (r.kind === "bad") r.sim.setBehaviour(s.canaryHash, { errorRate: BAD_ERROR_RATE });
        }
      }
      const open = releases.filter(
        (r) => outcomeOf(r, statuses.get(r.namespace) ?? {}) === "in progress",
      );
      if (open.length === 0) return Date.now();
      if (Date.now() > deadline) return undefined;
      await sleep(1_000);
    }
  })();
  const [, settledAt] = await Promise.all([timed, settled]);
  faultsOver = true;
  await Promise.all([killer, leaseWatch]);
  log(
    `chaos: faults over at ${since(Date.now())}s; releases settled at ${settledAt === undefined ? "never" : `${since(settledAt)}s`}`,
  );

  // The outcomes under chaos; then a person promotes the manual ones.
  await sleep(3_000);
  await readStatuses();
  const outcomes = new Map(
    releases.map((r) => [r.namespace, outcomeOf(r, statuses.get(r.namespace) ?? {})]),
  );
  const manual = releases.filter(
    (r) => r.kind === "manual" && outcomes.get(r.namespace) === "waiting",
  );
  await inBatches(manual, 10, (r) => sendCommand(kc, r.namespace, "promoteFull", `chaos-${runId}`));
  await tolerant(
    until(
      "manual releases promoted",
      (r, s) =>
        r.kind !== "manual" ||
        outcomes.get(r.namespace) !== "waiting" ||
        outcomeOf({ ...r, kind: "healthy" }, s) === "promoted",
      90_000,
    ),
  );
  await tolerant(
    until("outboxes delivered", (_r, s) => (s.notifications?.pending ?? []).length === 0, 60_000),
  );
  const sampled = await sampler.stop();

  const results: ReleaseResult[] = [];
  for (const r of releases) {
    const s = statuses.get(r.namespace) ?? {};
    const routing = await routingOf(kc, r.namespace);
    results.push({
      release: r,
      expected: EXPECTED[r.kind],
      got: outcomes.get(r.namespace) ?? "in progress",
      detail: `${s.phase ?? "-"} step ${s.currentStepIndex ?? "-"}: ${s.message ?? ""}`,
      halfRouted: halfRouted(routing, s.stableHash),
      history: histories.get(r.namespace) ?? [],
      notifications: countNotifications(r, receiver.posts, t0),
    });
  }
  const watchFailures = replicas.logFiles
    .flatMap((file) => {
      try {
        return readFileSync(file, "utf8").split("\n");
      } catch {
        return [];
      }
    })
    .filter((line) => line.includes("watch failed"));
  const goneLines = watchFailures.filter((line) =>
    /\b410\b|Gone|too old resource version|expired/i.test(line),
  ).length;
  return {
    faults: [
      {
        what: "controller SIGKILL (leader)",
        at: replicas.kills.filter((k) => k.wasLeader).map((k) => since(k.at)),
      },
      {
        what: "controller SIGKILL (standby)",
        at: replicas.kills.filter((k) => !k.wasLeader).map((k) => since(k.at)),
      },
      { what: "etcd compaction", at: compactions.map(since) },
      { what: "kube-apiserver restart", at: restarts.map(since) },
      { what: "Prometheus unreachable (from, to)", at: outage.map(since) },
    ],
    results,
    violations: sampled.violations,
    samples: sampled.samples,
    failedSamples: sampled.failed,
    leaderChanges,
    watchErrors: watchFailures.length,
    watchGone: goneLines,
    goneProbes,
    settledAfter: settledAt === undefined ? NaN : since(settledAt),
  };
}
