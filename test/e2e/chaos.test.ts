import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  kubeConfig,
  kubeconfigPath,
  prometheusUrl,
  runDir,
  ENV_PROM_TARGETS_FILE,
  STATE_FILE,
} from "../harness/env.ts";
import { runChaos } from "../harness/chaos/run.ts";
import { chaosProblems, chaosTables } from "../harness/chaos/table.ts";
import { readFileSync } from "node:fs";

/**
 * The short chaos run (`npm run bench:chaos` is the long one): nine releases, one of each
 * kind (healthy, bad, manual) on each routing (Istio host-level, subset-level, HTTPRoute),
 * under two leader-elected controller processes, one SIGKILLed every 5–20 s for a minute, with an
 * etcd compaction, a kube-apiserver restart and 20 s without Prometheus on the way.
 */
function targetsFile(): string {
  const fromEnv = process.env[ENV_PROM_TARGETS_FILE];
  if (fromEnv !== undefined) return fromEnv;
  return (JSON.parse(readFileSync(STATE_FILE, "utf8")) as { prometheusTargetsFile: string })
    .prometheusTargetsFile;
}

test(
  "chaos: every release reaches its outcome, no weight goes to a version without pods, nothing is lost",
  { timeout: 480_000 },
  async (t) => {
    const cleanups: (() => Promise<void>)[] = [];
    t.after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    });
    const dir = runDir();
    const report = await runChaos(
      {
        kubeConfig: kubeConfig(),
        kubeconfigPath: kubeconfigPath(),
        prometheusUrl: prometheusUrl(),
        prometheusTargetsFile: targetsFile(),
        runDir: dir,
        logDir: join(dir, "logs"),
        releases: 9,
        seed: 14,
        killEveryMs: [5_000, 20_000],
        killForMs: 60_000,
        compactAtMs: 8_000,
        apiServerRestartAtMs: 40_000,
        apiServerDownMs: 3_000,
        prometheusOutage: { atMs: 12_000, forMs: 20_000 },
        requestsPerSecond: 100,
        simPollMs: 1_000,
        sampleEveryMs: 1_000,
        settleTimeoutMs: 240_000,
        log: (line) => t.diagnostic(line),
      },
      cleanups,
    );
    for (const line of chaosTables(report).split("\n")) t.diagnostic(line);
    assert.deepEqual(chaosProblems(report), []);
    assert.ok(report.samples > 0, "the weights were sampled");
    const kills = report.faults.filter((f) => f.what.startsWith("controller SIGKILL"));
    assert.ok(kills.reduce((n, f) => n + f.at.length, 0) > 0, "a controller was killed");
    assert.deepEqual(
      report.results
        .filter((r) => r.notifications.lost.length > 0)
        .map((r) => [r.release.namespace, r.notifications.lost]),
      [],
      "no notification was lost",
    );
  },
);
