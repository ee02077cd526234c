import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { podView, releaseStart, rolloutRow, sortRows, statusOf } from "./model.ts";
import { chartWindow } from "./release-charts.ts";
import { requestRefusal } from "./http-guards.ts";

const replicaSet = (hash: string, image: string, created: string) => ({
  metadata: {
    name: `api-${hash}`,
    creationTimestamp: created,
    labels: { "aviary.dev/pod-template-hash": hash },
  },
  spec: { template: { spec: { containers: [{ name: "api", image }] } } },
});

const rollout = (status: Record<string, unknown>) => ({
  metadata: { name: "api", namespace: "shop" },
  spec: { strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }] } } },
  status,
});

const sets = [
  replicaSet("old1", "api:1", "2026-01-01T00:00:00Z"),
  replicaSet("new2", "api:2", "2026-01-01T01:00:00Z"),
];

describe("dashboard list rows", () => {
  test("a release in progress shows its step, weight, both versions and the canary's age", () => {
    const row = rolloutRow(
      rollout({
        phase: "Paused",
        currentStepIndex: 1,
        canaryWeight: 20,
        stableHash: "old1",
        canaryHash: "new2",
      }),
      sets,
    );
    assert.deepEqual(
      {
        step: row.step,
        weight: row.weight,
        stable: row.stableImages,
        canary: row.canaryImages,
        started: row.releaseStartedAt,
        releasing: row.releasing,
      },
      {
        step: "2/3",
        weight: 20,
        stable: ["api:1"],
        canary: ["api:2"],
        started: "2026-01-01T01:00:00Z",
        releasing: true,
      },
    );
  });

  test("a Healthy Rollout shows all steps done, only the stable version, and its age", () => {
    const row = rolloutRow(
      rollout({ phase: "Healthy", stableHash: "new2", canaryHash: "new2", canaryWeight: 0 }),
      sets,
    );
    assert.equal(row.step, "3/3");
    assert.deepEqual(row.stableImages, ["api:2"]);
    assert.deepEqual(row.canaryImages, []);
    assert.equal(row.releasing, false);
  });

  test("an odd object is shown as Pending with nothing known, never a crash", () => {
    const row = rolloutRow({ status: { phase: 42 } }, [{}]);
    assert.equal(row.phase, "Pending");
    assert.equal(row.releaseStartedAt, undefined);
    assert.deepEqual(statusOf(null), {});
  });

  test("releases in progress come first, then by namespace and name", () => {
    const base = rolloutRow(rollout({}), []);
    const rows = sortRows([
      { ...base, namespace: "b", name: "x" },
      { ...base, namespace: "a", name: "y" },
      { ...base, namespace: "z", name: "z", releasing: true },
    ]);
    assert.deepEqual(
      rows.map((r) => r.name),
      ["z", "y", "x"],
    );
  });

  test("a release starts when its canary ReplicaSet was created", () => {
    assert.equal(
      releaseStart({ canaryHash: "new2", stableHash: "old1" }, sets),
      "2026-01-01T01:00:00Z",
    );
    assert.equal(releaseStart({}, sets), undefined);
    const typed = {
      ...sets[1],
      metadata: { ...sets[1]?.metadata, creationTimestamp: new Date(0) },
    };
    assert.equal(releaseStart({ canaryHash: "new2" }, [typed]), "1970-01-01T00:00:00.000Z");
  });

  test("pods show ready from their Ready condition", () => {
    const pod = podView({
      metadata: { name: "api-new2-a", labels: { "aviary.dev/pod-template-hash": "new2" } },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    });
    assert.deepEqual(pod, { name: "api-new2-a", hash: "new2", phase: "Running", ready: true });
  });
});

describe("dashboard chart window", () => {
  test("spans the release, at most 240 points, at least 30 seconds", () => {
    const now = Date.parse("2026-01-01T01:30:00Z");
    assert.deepEqual(chartWindow("2026-01-01T01:00:00Z", now), {
      start: now / 1000 - 1800,
      end: now / 1000,
      step: 8,
    });
    assert.equal(chartWindow("2026-01-01T01:29:50Z", now).start, now / 1000 - 30);
    assert.equal(chartWindow(undefined, now).start, now / 1000 - 600);
  });
});

describe("dashboard request checks", () => {
  const post = (headers: Record<string, string>) => ({ method: "POST", headers });
  const json = { "content-type": "application/json" };

  test("a same-origin JSON POST on loopback is let through", () => {
    assert.equal(
      requestRefusal(
        post({ host: "127.0.0.1:3100", origin: "http://127.0.0.1:3100", ...json }),
        "127.0.0.1",
        3100,
      ),
      undefined,
    );
  });

  test("a POST from another origin, or with none, is refused", () => {
    for (const origin of ["http://evil.example", undefined]) {
      const refusal = requestRefusal(
        post({ host: "127.0.0.1:3100", ...(origin === undefined ? {} : { origin }), ...json }),
        "127.0.0.1",
        3100,
      );
      assert.equal(refusal?.status, 403, String(origin));
    }
  });

  test("a cross-site fetch is refused even when it forges nothing else", () => {
    const refusal = requestRefusal(
      post({
        host: "localhost:3100",
        origin: "http://localhost:3100",
        "sec-fetch-site": "cross-site",
        ...json,
      }),
      "127.0.0.1",
      3100,
    );
    assert.equal(refusal?.status, 403);
  });

  test("a form POST (not JSON) is refused", () => {
    const refusal = requestRefusal(
      post({ host: "127.0.0.1:3100", origin: "http://127.0.0.1:3100" }),
      "127.0.0.1",
      3100,
    );
    assert.equal(refusal?.status, 415);
  });

  test("a DNS-rebound name is refused on loopback, even for GET", () => {
    const refusal = requestRefusal(
      { method: "GET", headers: { host: "evil.example:3100" } },
      "127.0.0.1",
      3100,
    );
    assert.equal(refusal?.status, 421);
  });
});
