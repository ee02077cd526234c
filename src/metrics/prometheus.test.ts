import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connectionFor, createPrometheusProvider, DEFAULT_TIMEOUT_MS } from "./prometheus.ts";

// Talking to Prometheus is tested against a real one in test/e2e/prometheus.test.ts.

describe("connectionFor", () => {
  test("the Rollout's address and timeout win over the controller's default", () => {
    const auth = { bearerToken: "t" };
    assert.deepEqual(
      connectionFor(
        { address: "http://prom:9090", timeout: "2s" },
        { address: "http://default:9090", auth },
      ),
      {
        address: "http://prom:9090",
        auth,
        timeoutMs: 2000,
      },
    );
    assert.deepEqual(connectionFor(undefined, { address: "http://default:9090" }), {
      address: "http://default:9090",
      auth: undefined,
      timeoutMs: DEFAULT_TIMEOUT_MS,
    });
  });
});

describe("createPrometheusProvider", () => {
  test("without an address every query is inconclusive and says what to set", async () => {
    const outcome = await createPrometheusProvider(connectionFor(undefined, {})).instantQuery(
      "up",
      new Date(),
    );
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure.kind, "bad-address");
    assert.match(outcome.failure.message, /analysis\.prometheus\.address/);
  });

  test("an address that is not an http(s) URL is inconclusive, never a throw", async () => {
    for (const address of ["prometheus:9090", "ftp://prometheus", "http://"]) {
      const outcome = await createPrometheusProvider({ address }).instantQuery("up", new Date());
      assert.ok(!outcome.ok, address);
      assert.equal(outcome.failure.kind, "bad-address");
      assert.match(outcome.failure.message, /not an http\(s\) URL/);
    }
  });
});
