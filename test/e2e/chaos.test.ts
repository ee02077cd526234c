import { after, describe, test } from "node:test";
import { join } from "node:path";
import assert from "node:assert/strict";
import { runChaos } from "../harness/chaos/run.ts";
import { chaosProblems, chaosTables } from "../harness/chaos/table.ts";
import {
  kubeConfig,
  kubeconfigPath,
  prometheusTargetsFile,
  prometheusUrl,
  runDir,
} from "../harness/env.ts";

/**
 * The short chaos run (`npm run bench:chaos` is the long one): a few concurrent releases
 * of each class (healthy, bad, manual) across Istio host-level, subset-level and HTTPRoute,
 * under two leader-elected controller replicas that are SIGKILLed at seeded moments, while
 * etcd is compacted (watches resume into 410 Gone), the kube-apiserver restarts and
 * Prometheus is unreachable for a while. It restarts the shared API server, which the
 * other files then find up again on the same address.
 */
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

describe("chaos: releases survive controller kills, an API server restart, 410 Gone and a Prometheus outage", () => {
  test(
    "each release reaches its outcome, with no weight on a canary without pods and no notification lost",
    { timeout: 600_000 },
    async () => {
      const report = await runChaos(
        {
          kubeConfig: kubeConfig(),
          kubeconfigPath: kubeconfigPath(),
          prometheusUrl: prometheusUrl(),
          prometheusTargetsFile: prometheusTargetsFile(),
          runDir: runDir(),
          logDir: join(runDir(), "logs"),
          releases: 9,
          seed: 7,
          killEveryMs: [5_000, 20_000],
          killForMs: 60_000,
          compactAtMs: 10_000,
          apiServerRestartAtMs: 45_000,
          apiServerDownMs: 3_000,
          prometheusOutage: { atMs: 15_000, forMs: 20_000 },
          requestsPerSecond: 100,
          simPollMs: 1_000,
          sampleEveryMs: 1_000,
          settleTimeoutMs: 300_000,
          log: (line) => console.log(`# ${line}`),
        },
        cleanups,
      );
      console.log(chaosTables(report));
      const injected = (what: string) =>
        report.faults.filter((f) => f.what.startsWith(what)).flatMap((f) => f.at).length;
      assert.ok(injected("controller SIGKILL") > 0, "the replicas were killed");
      assert.equal(injected("kube-apiserver restart"), 1);
      assert.ok(report.goneProbes.some(Boolean), "a watch from before a compaction got 410 Gone");
      assert.equal(injected("Prometheus unreachable"), 2, "Prometheus went away and came back");
      assert.deepEqual(chaosProblems(report), []);
      for (const r of report.results)
        assert.deepEqual(r.notifications.lost, [], `${r.release.namespace}: notifications lost`);
      // Delivery is at least once: a leader killed between a POST and the status write that
      // records it sends that one again (with the same id, for the receiver to drop). More
      // repeats than leader kills would mean something else re-sends.
      const duplicates = report.results.reduce((n, r) => n + r.notifications.duplicates, 0);
      assert.ok(
        duplicates <= injected("controller SIGKILL (leader)"),
        `${String(duplicates)} duplicate notifications`,
      );
    },
  );
});
