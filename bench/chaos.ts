/**
 * Chaos: N concurrent releases (healthy, bad, manual; Istio host-level, Istio
 * subset-level, Gateway API HTTPRoute) under two leader-elected controller replicas
 * (separate processes), while the bench SIGKILLs a replica every 5–20 s (seeded) for 3 minutes,
 * compacts etcd, restarts the kube-apiserver (compacting etcd while it is down, so
 * watches resume into 410 Gone) and makes Prometheus unreachable for a minute. Prints
 * the faults injected and, per class, the outcomes, sampled instants with weight on a
 * version without available pods, half-routed Rollouts, and duplicate/lost notifications.
 *
 * Starts its own test environment (the e2e harness: etcd, kube-apiserver, kwok,
 * Prometheus), since it restarts the API server.
 *
 * Usage: npm run bench:chaos -- [--releases 50] [--seed 1] [--json]
 */
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { runChaos } from "../test/harness/chaos/run.ts";
import { chaosProblems, chaosTables } from "../test/harness/chaos/table.ts";
import { startTestEnv } from "../test/harness/testenv.ts";

const { values: args } = parseArgs({
  options: {
    releases: { type: "string", default: "50" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});

const log = (line: string) => console.error(`# ${line}`);
const env = await startTestEnv({ tieToThisProcess: true, log });
const cleanups: (() => Promise<void>)[] = [];
let failed: boolean;
try {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(env.kubeconfigPath);
  const report = await runChaos(
    {
      kubeConfig,
      kubeconfigPath: env.kubeconfigPath,
      prometheusUrl: env.prometheusUrl,
      prometheusTargetsFile: env.prometheusTargetsFile,
      runDir: env.runDir,
      logDir: env.logDir,
      releases: Number(args.releases),
      seed: Number(args.seed),
      killEveryMs: [5_000, 20_000],
      killForMs: 180_000,
      compactAtMs: 20_000,
      apiServerRestartAtMs: 100_000,
      apiServerDownMs: 5_000,
      prometheusOutage: { atMs: 30_000, forMs: 60_000 },
      requestsPerSecond: 100,
      simPollMs: 1_000,
      sampleEveryMs: 1_000,
      settleTimeoutMs: 600_000,
      log,
    },
    cleanups,
  );
  if (args.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(
      `bench:chaos — ${args.releases} releases, seed ${args.seed}, 2 controller replicas\n`,
    );
    console.log(chaosTables(report));
  }
  const problems = chaosProblems(report);
  for (const problem of problems) console.error(`PROBLEM: ${problem}`);
  failed = problems.length > 0;
} finally {
  // The replicas (pushed last) stop first; the rest is undone at once: one release after
  // another, each waiting for its namespace's deletion to reach its Rollout, took minutes.
  const [replicas, ...rest] = cleanups.reverse();
  await replicas?.().catch(() => undefined);
  await Promise.all(rest.map((cleanup) => cleanup().catch(() => undefined)));
  await env.stop();
}
process.exit(failed ? 1 : 0);
