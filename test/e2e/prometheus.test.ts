import { describe, test } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { CustomObjectsApi, KubernetesObjectApi } from "@kubernetes/client-node";
import { kubeConfig, prometheusUrl, startMeshSim, testNamespace } from "../harness/env.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../../src/api/labels.ts";
import { Rollout } from "../../src/api/rollout.ts";
import { MetricTemplate } from "../../src/api/metric-template.ts";
import type { MetricsSample } from "../../src/analysis/judge.ts";
import { renderQuery } from "../../src/analysis/template.ts";
import type { TemplateContext } from "../../src/analysis/template.ts";
import { createPrometheusProvider } from "../../src/metrics/prometheus.ts";
import type { PrometheusConnection } from "../../src/metrics/prometheus.ts";
import { observeMetrics } from "../../src/metrics/observe.ts";
import type { ObserveOptions } from "../../src/metrics/observe.ts";

/**
 * The Prometheus provider and observeMetrics against the real Prometheus of the harness,
 * scraping the mesh simulator; and against servers that misbehave in every way we know.
 */

const hashes = { canaryHash: "c4n4ry7", stableHash: "st4bl35" };

function rollout(
  namespace: string,
  routing: "host" | "subset" | "linkerd",
  analysis: object = {},
): Rollout {
  const istio = {
    virtualService: { name: "api" },
    ...(routing === "subset"
      ? { destinationRule: { name: "api", stableSubset: "stable", canarySubset: "canary" } }
      : {}),
  };
  return Rollout.parse({
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "api", namespace },
    spec: {
      selector: { matchLabels: { app: "api" } },
      template: {},
      strategy: {
        canary: {
          canaryService: "api-canary",
          stableService: "api-stable",
          trafficRouting:
            routing === "linkerd" ? { gatewayAPI: { httpRoute: { name: "api" } } } : { istio },
          analysis:
            routing === "linkerd"
              ? { mesh: "gatewayapi", metricsFrom: "linkerd", ...analysis }
              : { mesh: "istio", ...analysis },
        },
      },
    },
  });
}

function template(name: string, query: string, variables?: Record<string, string>): MetricTemplate {
  return MetricTemplate.parse({
    apiVersion: "aviary.dev/v1alpha1",
    kind: "MetricTemplate",
    metadata: { name },
    spec: { query, ...(variables ? { variables } : {}) },
  });
}

/** Two Services selecting canary and stable by hash, and a VirtualService sending 30% to the canary. */
async function createMesh(namespace: string): Promise<void> {
  const kc = kubeConfig();
  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (const [name, hash] of [
    ["api-canary", hashes.canaryHash],
    ["api-stable", hashes.stableHash],
  ] as const) {
    const service = {
      selector: { app: "api", [POD_TEMPLATE_HASH_LABEL]: hash },
      ports: [{ port: 80 }],
    };
    await objects.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace },
      spec: service,
    });
  }
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: "networking.istio.io",
    version: "v1",
    namespace,
    plural: "virtualservices",
    body: {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "api" },
      spec: {
        hosts: ["api"],
        http: [
          {
            name: "primary",
            route: [
              { destination: { host: "api-stable" }, weight: 70 },
              { destination: { host: "api-canary" }, weight: 30 },
            ],
          },
        ],
      },
    },
  });
}

/** Reading a few seconds in the past, so every query of a reading sees the same scrapes. */
const SETTLE_MS = 3000;
const settled = () => new Date(Date.now() - SETTLE_MS);

function delta(
  now: MetricsSample,
  before: MetricsSample,
  version: "canary" | "stable",
  counter: "requests" | "errors",
): number {
  return (now[version]?.[counter] ?? 0) - (before[version]?.[counter] ?? 0);
}

/** Reads until `done` holds (Prometheus scrapes every second), or fails with the last sample. */
async function readUntil(
  read: () => Promise<MetricsSample>,
  done: (sample: MetricsSample) => boolean,
  what: string,
): Promise<MetricsSample> {
  let last: MetricsSample | undefined;
  for (let attempt = 0; attempt < 120; attempt++) {
    last = await read();
    if (done(last)) return last;
    await sleep(500);
  }
  assert.fail(`${what} never happened; last sample: ${JSON.stringify(last)}`);
}

describe("observeMetrics with the real Prometheus and the mesh simulator", () => {
  test("canary and stable counters come back separately, the same through every mesh's metrics", async (t) => {
    const namespace = await testNamespace(t, "prom");
    await createMesh(namespace);
    const sim = await startMeshSim(t, {
      namespace,
      route: { kind: "VirtualService", name: "api" },
      requestsPerSecond: 400,
      seed: 7,
    });
    sim.setBehaviour(hashes.canaryHash, { errorRate: 0.2, latencyP50Ms: 200, latencyP99Ms: 900 });
    sim.setBehaviour(hashes.stableHash, { errorRate: 0.01, latencyP50Ms: 20, latencyP99Ms: 80 });
    const provider = createPrometheusProvider({ address: prometheusUrl() });
    const host = rollout(namespace, "host");

    // Counters are cumulative and traffic before setBehaviour had no errors, so compare
    // deltas from a baseline read after it, as the judge does.
    await sleep(SETTLE_MS + 1000);
    const base = await observeMetrics(host, hashes, provider, settled());
    assert.equal(base.error, undefined);
    const last = await readUntil(
      () => observeMetrics(host, hashes, provider, settled()),
      (s) =>
        delta(s, base, "canary", "requests") >= 500 && delta(s, base, "stable", "requests") >= 500,
      "500 more requests on each version",
    );
    const at = new Date(last.at);
    const [subset, linkerd] = await Promise.all([
      observeMetrics(rollout(namespace, "subset"), hashes, provider, at),
      observeMetrics(rollout(namespace, "linkerd"), hashes, provider, at),
    ]);
    assert.deepEqual(
      subset,
      last,
      "Istio subset-level (canonical revision) reads the same counters",
    );
    assert.deepEqual(linkerd, last, "Linkerd (pod_template_hash) reads the same counters");

    const requests = {
      canary: delta(last, base, "canary", "requests"),
      stable: delta(last, base, "stable", "requests"),
    };
    const canaryShare = requests.canary / (requests.canary + requests.stable);
    assert.ok(
      canaryShare > 0.2 && canaryShare < 0.4,
      `canary share ${canaryShare} should be near the 30% weight`,
    );
    const canaryErrors = delta(last, base, "canary", "errors") / requests.canary;
    const stableErrors = delta(last, base, "stable", "errors") / requests.stable;
    assert.ok(
      canaryErrors > 0.12 && canaryErrors < 0.3,
      `canary error rate ${canaryErrors} should be near 20%`,
    );
    assert.ok(stableErrors < 0.05, `stable error rate ${stableErrors} should be near 1%`);
    // The histogram is cumulative and its buckets tell the slow canary from the fast stable.
    for (const counters of [last.canary, last.stable]) {
      const counts = counters?.latencyBuckets.map((b) => b.count) ?? [];
      assert.ok(counts.length > 5, "the histogram has its buckets");
      assert.deepEqual(
        counts,
        [...counts].sort((a, b) => a - b),
        "bucket counts never decrease",
      );
      assert.ok((counts.at(-1) ?? 0) <= (counters?.requests ?? 0));
    }
    const fastShare = (version: "canary" | "stable") => {
      const under = (s: MetricsSample) =>
        s[version]?.latencyBuckets.find((b) => b.le === 100)?.count ?? 0;
      return (under(last) - under(base)) / requests[version];
    };
    assert.ok(fastShare("stable") > 0.95, `stable answers within 100 ms (${fastShare("stable")})`);
    assert.ok(
      fastShare("canary") < 0.5,
      `the canary is slow (${fastShare("canary")} within 100 ms)`,
    );
  });

  test("a version without traffic reads as zero requests, not an error; custom metrics are read too", async (t) => {
    const namespace = await testNamespace(t, "prom");
    await createMesh(namespace);
    await startMeshSim(t, {
      namespace,
      route: { kind: "VirtualService", name: "api" },
      requestsPerSecond: 200,
      seed: 3,
    });
    const provider = createPrometheusProvider({ address: prometheusUrl() });
    const templates: ObserveOptions["templates"] = {
      "canary-requests": template(
        "canary-requests",
        'sum(istio_requests_total{destination_service_namespace="{{namespace}}", destination_service_name="{{canaryService}}"})',
      ),
      "all-series": template(
        "all-series",
        'istio_requests_total{destination_service_namespace="{{namespace}}"}',
      ),
      nothing: template("nothing", 'sum(no_such_metric{namespace="{{namespace}}"})'),
      "not-a-number": template("not-a-number", "0 / 0"),
      "parse-error": template("parse-error", 'sum(up{job="{{rollout}}"}'),
      range: template("range", "up[{{window}}]"),
    };
    const metrics = Object.keys(templates).map((name) => ({ name, templateRef: { name }, max: 1 }));
    // Subset-level: versions are told apart by hash, and this canary hash has no pods.
    const idleCanary = { canaryHash: "n0traffic", stableHash: hashes.stableHash };
    const idle = await readUntil(
      () => observeMetrics(rollout(namespace, "subset"), idleCanary, provider, settled()),
      (s) => (s.stable?.requests ?? 0) > 0,
      "traffic on stable",
    );
    assert.equal(idle.error, undefined);
    assert.deepEqual(idle.canary, { requests: 0, errors: 0, latencyBuckets: [] });

    const subject = rollout(namespace, "host", { metrics });
    const sample = await readUntil(
      () => observeMetrics(subject, hashes, provider, settled(), { templates }),
      (s) => (s.canary?.requests ?? 0) > 0,
      "traffic on the canary",
    );
    const custom = sample.custom ?? {};
    assert.equal(custom["canary-requests"], sample.canary?.requests);
    assert.match(errorOf(custom["all-series"]), /expected one series but got [2-9]/);
    assert.match(errorOf(custom.nothing), /no data/);
    assert.match(errorOf(custom["not-a-number"]), /NaN or infinite/);
    assert.match(errorOf(custom["parse-error"]), /rejected the query with HTTP 400: .*parse error/);
    assert.match(errorOf(custom.range), /range vector/);
  });

  test("hostile template values cannot change the query, as Prometheus itself parses it", async (t) => {
    const namespace = await testNamespace(t, "prom");
    await createMesh(namespace);
    await startMeshSim(t, {
      namespace,
      route: { kind: "VirtualService", name: "api" },
      requestsPerSecond: 200,
      seed: 5,
    });
    const query =
      'sum(istio_requests_total{destination_service_namespace="{{namespace}}", destination_service_name="{{canaryService}}", response_code=\'{{variables.code}}\'}) # {{rollout}}';
    const base: TemplateContext = {
      namespace,
      rollout: "api",
      canaryService: "api-canary",
      stableService: "api-stable",
      canaryHash: hashes.canaryHash,
      stableHash: hashes.stableHash,
      window: "1m",
      variables: { code: "2.." },
    };
    const rendered = renderQuery(query, base);
    assert.ok(rendered.ok);
    const intended = await parseQuery(rendered.query);
    const provider = createPrometheusProvider({ address: prometheusUrl() });
    const healthy = await provider.instantQuery(rendered.query, new Date());
    assert.ok(healthy.ok, "the benign query is valid");

    for (const hostile of HOSTILE) {
      const context = { ...base, canaryService: hostile, variables: { code: hostile } };
      const result = renderQuery(query, context);
      assert.ok(result.ok, `rendering refused ${JSON.stringify(hostile.slice(0, 40))}`);
      const expected = structuredClone(intended);
      replaceMatcherValue(expected, "destination_service_name", hostile.toWellFormed());
      replaceMatcherValue(expected, "response_code", hostile.toWellFormed());
      assert.deepEqual(
        await parseQuery(result.query),
        expected,
        `structure changed for ${JSON.stringify(hostile.slice(0, 40))}`,
      );
      // Run it: no series has that name, so there is no data (an injected `or vector(1)` would give 1).
      const answer = await provider.instantQuery(result.query, new Date());
      assert.ok(
        answer.ok ? answer.value.length === 0 : answer.failure.kind === "http-error",
        JSON.stringify(answer),
      );
    }
  });
});

describe("the Prometheus provider when Prometheus cannot answer", () => {
  test("a closed port is unreachable, and the whole reading is inconclusive", async () => {
    const port = await closedPort();
    const address = `http://127.0.0.1:${port}`;
    const provider = createPrometheusProvider({ address });
    const outcome = await provider.instantQuery("up", new Date());
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure.kind, "unreachable");
    assert.match(
      outcome.failure.message,
      new RegExp(`Prometheus at ${address} is unreachable: .*ECONNREFUSED`),
    );
    const sample = await observeMetrics(rollout("shop", "host"), hashes, provider, new Date());
    assert.equal(sample.canary, undefined);
    assert.match(sample.error ?? "", /unreachable/);
  });

  test("every kind of garbage answer becomes an inconclusive reason naming the problem", async (t) => {
    const server = await misbehavingServer(t);
    const cases: [Mode, string, RegExp][] = [
      ["html", "bad-answer", /not a Prometheus API response/],
      ["json-not-prometheus", "bad-answer", /not a Prometheus API response/],
      ["result-not-a-list", "bad-answer", /not a Prometheus API response/],
      ["string-result", "bad-answer", /string result/],
      ["http-500", "http-error", /answered with HTTP 500/],
      ["redirect", "http-error", /HTTP 302/],
      ["nan", "not-finite", /NaN or infinite/],
      ["plus-inf-scalar", "not-finite", /NaN or infinite/],
      ["hang", "timeout", /did not answer within 0\.5s/],
      ["trickle", "timeout", /did not answer within 0\.5s/],
      ["unauthorized", "http-error", /HTTP 401/],
    ];
    for (const [mode, kind, message] of cases) {
      server.mode = mode;
      const provider = createPrometheusProvider({ address: server.address, timeoutMs: 500 });
      const outcome = await provider.instantQuery("sum(up)", new Date());
      assert.ok(!outcome.ok, `${mode} was accepted: ${JSON.stringify(outcome)}`);
      assert.equal(outcome.failure.kind, kind, `${mode}: ${outcome.failure.message}`);
      assert.match(outcome.failure.message, message, mode);
    }
    server.mode = "two-series";
    const provider = createPrometheusProvider({ address: server.address });
    const sample = await observeMetrics(rollout("shop", "host"), hashes, provider, new Date());
    assert.match(sample.error ?? "", /expected one series but got 2/);
  });

  test("credentials from the Secret are sent: a bearer token (trailing newline ignored) or basic auth", async (t) => {
    const server = await misbehavingServer(t);
    server.mode = "unauthorized";
    const good: PrometheusConnection["auth"][] = [
      { bearerToken: "s3cret\n" },
      { username: "aviary", password: "pa:ss" },
    ];
    for (const auth of good) {
      const outcome = await createPrometheusProvider({
        address: server.address,
        auth,
      }).instantQuery("sum(up)", new Date());
      assert.deepEqual(
        outcome,
        { ok: true, value: [{ labels: {}, value: 1 }] },
        JSON.stringify(auth),
      );
    }
    const wrong = await createPrometheusProvider({
      address: server.address,
      auth: { bearerToken: "nope" },
    }).instantQuery("sum(up)", new Date());
    assert.ok(!wrong.ok && wrong.failure.kind === "http-error");
  });
});

// ---------- helpers ----------

const HOSTILE = [
  '"} or vector(1) #',
  '\\"} or vector(1) #',
  "') or vector(1) #",
  "\\",
  '\\"',
  "}{",
  "{{namespace}}",
  "a\nb\r\tc",
  '"}\nor vector(1)',
  "\u0000\u001b\u007f",
  "ünïcødé 🦜 名前",
  "\ud800 lone surrogate",
  "\ufffd replacement character",
  "x".repeat(20_000),
];

function errorOf(value: number | { error: string } | undefined): string {
  return typeof value === "object" ? value.error : `not an error: ${String(value)}`;
}

type Ast = Record<string, unknown>;

async function parseQuery(query: string): Promise<Ast> {
  const response = await fetch(`${prometheusUrl()}/api/v1/parse_query`, {
    method: "POST",
    body: new URLSearchParams({ query }),
  });
  const body = (await response.json()) as { status: string; data?: Ast; error?: string };
  assert.equal(
    body.status,
    "success",
    `Prometheus could not parse ${query.slice(0, 200)}: ${body.error ?? ""}`,
  );
  return body.data ?? {};
}

/** Sets the value of every label matcher on `label` anywhere in a parse_query AST. */
function replaceMatcherValue(node: unknown, label: string, value: string): void {
  if (Array.isArray(node)) {
    for (const child of node) replaceMatcherValue(child, label, value);
  } else if (typeof node === "object" && node !== null) {
    const record = node as Ast;
    if (record.name === label && typeof record.value === "string" && "type" in record)
      record.value = value;
    for (const child of Object.values(record)) replaceMatcherValue(child, label, value);
  }
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

type Mode =
  | "html"
  | "json-not-prometheus"
  | "result-not-a-list"
  | "string-result"
  | "http-500"
  | "redirect"
  | "nan"
  | "plus-inf-scalar"
  | "hang"
  | "trickle"
  | "unauthorized"
  | "two-series";

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
const vector = (series: { metric: Record<string, string>; value: [number, string] }[]) => ({
  status: "success",
  data: { resultType: "vector", result: series },
});

/** A local HTTP server that answers /api/v1/query in the way `mode` says. */
async function misbehavingServer(t: TestContext): Promise<{ address: string; mode: Mode }> {
  const state: { address: string; mode: Mode } = { address: "", mode: "html" };
  const timers: NodeJS.Timeout[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const now = Date.now() / 1000;
    switch (state.mode) {
      case "html":
        return res
          .writeHead(200, { "content-type": "text/html" })
          .end("<html><body>Welcome to nginx!</body></html>");
      case "json-not-prometheus":
        return json(res, 200, { hello: "world" });
      case "result-not-a-list":
        return json(res, 200, {
          status: "success",
          data: { resultType: "vector", result: "nope" },
        });
      case "string-result":
        return json(res, 200, {
          status: "success",
          data: { resultType: "string", result: [now, "hi"] },
        });
      case "http-500":
        return res.writeHead(500).end("Internal Server Error");
      case "redirect":
        return res.writeHead(302, { location: "http://127.0.0.1:1/elsewhere" }).end();
      case "nan":
        return json(res, 200, vector([{ metric: {}, value: [now, "NaN"] }]));
      case "plus-inf-scalar":
        return json(res, 200, {
          status: "success",
          data: { resultType: "scalar", result: [now, "+Inf"] },
        });
      case "hang":
        return; // never answers
      case "trickle": {
        // Headers and a byte every 100 ms: never idle, never done.
        res.writeHead(200, { "content-type": "application/json" });
        timers.push(setInterval(() => res.write(" "), 100));
        return;
      }
      case "unauthorized": {
        const allowed = [
          `Bearer s3cret`,
          `Basic ${Buffer.from("aviary:pa:ss").toString("base64")}`,
        ];
        if (!allowed.includes(req.headers.authorization ?? ""))
          return json(res, 401, { status: "error", error: "unauthorized" });
        return json(res, 200, vector([{ metric: {}, value: [now, "1"] }]));
      }
      case "two-series":
        return json(
          res,
          200,
          vector([
            { metric: { pod: "a" }, value: [now, "1"] },
            { metric: { pod: "b" }, value: [now, "2"] },
          ]),
        );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(async () => {
    for (const timer of timers) clearInterval(timer);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
}
