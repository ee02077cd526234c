import { test } from "node:test";
import assert from "node:assert/strict";
import type { RolloutStatus } from "../api/rollout.ts";
import { ControllerMetrics } from "./controller-metrics.ts";

const metadata = { name: "api", namespace: "shop" };
const rolledBack: RolloutStatus = {
  phase: "Degraded",
  abortedAt: "2026-01-01T00:00:00Z",
  conditions: [
    {
      type: "Progressing",
      status: "False",
      reason: "RolledBack",
      message: "analysis failed",
      lastTransitionTime: "2026-01-01T00:00:00Z",
    },
  ],
};

async function series(metrics: ControllerMetrics, name: string): Promise<string[]> {
  const text = await metrics.registry.metrics();
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

test("an abort is counted once, under its reason, from a series that starts at 0", async () => {
  const metrics = new ControllerMetrics();
  metrics.record({ metadata, status: { phase: "Progressing" } });
  assert.deepEqual(await series(metrics, "aviary_rollout_aborts_total"), [
    'aviary_rollout_aborts_total{namespace="shop",rollout="api",reason="RolledBack"} 0',
    'aviary_rollout_aborts_total{namespace="shop",rollout="api",reason="Aborted"} 0',
  ]);
  metrics.record({ metadata, status: rolledBack });
  metrics.record({ metadata, status: rolledBack });
  assert.ok(
    (await series(metrics, "aviary_rollout_aborts_total")).includes(
      'aviary_rollout_aborts_total{namespace="shop",rollout="api",reason="RolledBack"} 1',
    ),
  );
});

test("a Rollout first seen already aborted (a restart) is not counted again", async () => {
  const metrics = new ControllerMetrics();
  metrics.record({ metadata, status: rolledBack });
  assert.ok((await series(metrics, "aviary_rollout_aborts_total")).every((l) => l.endsWith(" 0")));
});

test("evidence and bound per metric; a metric no longer judged disappears", async () => {
  const metrics = new ControllerMetrics();
  const analysis = (names: string[]) => ({
    verdict: "Running" as const,
    startedAt: "2026-01-01T00:00:00Z",
    conclusiveSeconds: 0,
    samples: 1,
    metrics: names.map((name) => ({
      name,
      verdict: "Running" as const,
      evidence: 2.5,
      bound: 100,
    })),
  });
  metrics.record({ metadata, status: { analysis: analysis(["success-rate", "latency"]) } });
  assert.equal((await series(metrics, "aviary_analysis_evidence")).length, 2);
  assert.ok(
    (await series(metrics, "aviary_analysis_evidence_bound")).includes(
      'aviary_analysis_evidence_bound{namespace="shop",rollout="api",metric="latency"} 100',
    ),
  );
  metrics.record({ metadata, status: { analysis: analysis(["success-rate"]) } });
  assert.deepEqual(await series(metrics, "aviary_analysis_evidence"), [
    'aviary_analysis_evidence{namespace="shop",rollout="api",metric="success-rate"} 2.5',
  ]);
});

test("a replica that stops leading reports leader 0 and no per-Rollout series", async () => {
  const metrics = new ControllerMetrics();
  metrics.setLeader(true);
  metrics.record({ metadata, status: { phase: "Healthy", canaryWeight: 0 } });
  assert.deepEqual(await series(metrics, "aviary_controller_leader"), [
    "aviary_controller_leader 1",
  ]);
  metrics.setLeader(false);
  assert.deepEqual(await series(metrics, "aviary_controller_leader"), [
    "aviary_controller_leader 0",
  ]);
  assert.deepEqual(await series(metrics, "aviary_rollout_phase"), []);
  assert.deepEqual(await series(metrics, "aviary_rollout_canary_weight"), []);
});

test("process metrics are on the registry only when asked for", async () => {
  const plain = new ControllerMetrics();
  assert.deepEqual(await series(plain, "process_resident_memory_bytes"), []);
  const own = new ControllerMetrics();
  own.collectProcessMetrics();
  for (const name of [
    "process_resident_memory_bytes",
    "process_cpu_seconds_total",
    "nodejs_heap_size_used_bytes",
  ])
    assert.equal((await series(own, name)).length, 1, name);
});
