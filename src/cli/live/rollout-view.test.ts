import { describe, test } from "node:test";
import assert from "node:assert/strict";
import stringWidth from "string-width";
import { rolloutView } from "./rollout-view.ts";
import { renderScreen } from "./render-screen.ts";
import { summaryLine } from "./render-line.ts";

const rollout = {
  metadata: { name: "api-service", namespace: "production" },
  spec: {
    strategy: {
      canary: {
        analysis: { mesh: "istio" },
        steps: [
          {
            setHeaderRoute: {
              name: "beta",
              match: [{ header: "x-user-group", exact: "beta-testers" }],
            },
          },
          { setWeight: 10 },
          { pause: {} },
          { setWeight: 50 },
        ],
      },
    },
  },
  status: {
    phase: "Paused",
    message: "step 3/4 (pause): paused: waiting for `aviary promote`",
    currentStepIndex: 2,
    canaryWeight: 10,
    stableHash: "old1",
    canaryHash: "new2",
    analysis: {
      verdict: "Running",
      startedAt: "2026-01-01T00:00:00Z",
      samples: 12,
      metrics: [
        {
          name: "success-rate",
          verdict: "Running",
          canary: 99.1,
          stable: 99.8,
          evidence: 10,
          bound: 100,
          discount: 0.12,
        },
        {
          name: "p99-latency",
          verdict: "Running",
          canary: 120,
          stable: 118,
          evidence: 1,
          bound: 100,
        },
      ],
    },
    conditions: [
      {
        type: "Progressing",
        status: "True",
        reason: "ReplicaSetUpdated",
        message: "step 2/4 done",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      },
    ],
  },
};

const rs = (hash: string, created: string, image: string, ready: number, replicas: number) => ({
  metadata: { labels: { "aviary.dev/pod-template-hash": hash }, creationTimestamp: created },
  spec: { replicas, template: { spec: { containers: [{ name: "api", image }] } } },
  status: { readyReplicas: ready },
});
const replicaSets = [
  rs("new2", "2026-01-02T00:00:00Z", "api:2.0.0", 1, 1),
  rs("old1", "2026-01-01T00:00:00Z", "api:1.0.0", 4, 4),
];
const events = Array.from({ length: 7 }, (_, i) => ({
  type: "Normal",
  reason: `Step${i}`,
  message: `event ${i}`,
  lastTimestamp: `2026-01-02T00:00:0${i}Z`,
}));

describe("the live view model", () => {
  const view = rolloutView(rollout, replicaSets, events);

  test("marks steps done, current and next", () => {
    assert.deepEqual(
      view.steps.map((s) => [s.number, s.state, s.text]),
      [
        [1, "done", "header route beta: x-user-group=beta-testers"],
        [2, "done", "setWeight 10%"],
        [3, "current", "pause until promoted"],
        [4, "next", "setWeight 50%"],
      ],
    );
  });

  test("weights, ReplicaSets newest first with their role, the last five Events", () => {
    assert.deepEqual(view.weight, { canary: 10, stable: 90 });
    assert.deepEqual(
      view.replicaSets.map((r) => [
        r.revision,
        r.hash,
        r.role,
        `${r.ready}/${r.desired}`,
        r.images,
      ]),
      [
        [2, "new2", "canary", "1/1", ["api:2.0.0"]],
        [1, "old1", "stable", "4/4", ["api:1.0.0"]],
      ],
    );
    assert.deepEqual(
      view.events.map((e) => e.reason),
      ["Step2", "Step3", "Step4", "Step5", "Step6"],
    );
  });

  test("analysis per metric, the evidence as a share of the bound (log scale) and the discount when the judge has one", () => {
    const [success, latency] = view.analysis?.metrics ?? [];
    assert.equal(success?.evidenceShare, 0.5);
    assert.equal(success?.discount, 0.12);
    assert.equal(latency?.evidenceShare, 0);
    assert.equal(latency?.discount, undefined);
  });

  test("the command to promote when the release waits for a person", () => {
    assert.deepEqual(view.waitingFor, {
      why: "the release waits for a person",
      command: "aviary promote api-service -n production",
    });
  });

  test("a Rollout without analysis has no analysis in its view", () => {
    const plain = structuredClone(rollout);
    delete (plain.spec.strategy.canary as { analysis?: unknown }).analysis;
    assert.equal(rolloutView(plain, [], []).analysis, undefined);
  });
});

describe("the live view on screen", () => {
  const view = rolloutView(rollout, replicaSets, events);

  for (const width of [80, 60, 40])
    test(`every line fits ${width} columns, color or not`, () => {
      for (const color of [true, false])
        for (const line of renderScreen(view, { width, color }))
          assert.ok(stringWidth(line) <= width, `${stringWidth(line)} > ${width}: ${line}`);
    });

  test("shows the weight bar, the evidence bar with its discount and the promote command", () => {
    const screen = renderScreen(view, { width: 80, color: false }).join("\n");
    assert.match(screen, /^Traffic {2}canary (█{4})(░{36}) 10% {2}stable 90%$/m);
    assert.match(screen, /success-rate {2}99\.1 {4}99\.8 {4}█{5}░{5} 10\/100 ×0\.12/);
    assert.match(screen, /success-rate: errors are bursty, evidence counted ×0\.12/);
    assert.match(
      screen,
      /▶ the release waits for a person: aviary promote api-service -n production$/m,
    );
  });

  test("a short screen folds the done steps instead of scrolling", () => {
    const lines = renderScreen(view, { width: 80, height: 30, color: false });
    assert.ok(lines.length <= 30);
    assert.ok(lines.includes("  ✔ 2 steps done"), lines.join("\n"));
  });

  test("one line per change for a log", () => {
    assert.equal(
      summaryLine(view),
      "Paused | step 3/4 (pause until promoted) | weight 10% | canary new2 1/1 | stable old1 4/4 | analysis Running [success-rate Running 10/100 ×0.12, p99-latency Running 1/100]: step 3/4 (pause): paused: waiting for `aviary promote` (run: aviary promote api-service -n production)",
    );
  });
});
