import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseMetricTemplate, parseRollout, parseRolloutText } from "./load.ts";
import type { Problem } from "../core/plan.ts";

const ROLLOUT = `apiVersion: aviary.dev/v1alpha1
kind: Rollout
metadata: {name: api-service, namespace: production}
spec:
  replicas: 4
  selector: {matchLabels: {app: api-service}}
  template:
    metadata: {labels: {app: api-service}}
    spec: {containers: [{name: app, image: "api:1.2.3"}]}
  strategy:
    canary:
      stableService: api-service-stable
      canaryService: api-service-canary
      trafficRouting:
        istio:
          virtualService: {name: api-service-vs, routes: [primary]}
      analysis:
        prometheus: {address: "http://prometheus.istio-system:9090"}
      steps:
        - setWeight: 10
        - pause: {duration: 2m}
        - setHeaderRoute: {name: beta, match: [{header: x-user-group, exact: beta-testers}]}
        - setWeight: 50
        - pause: {}
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: api-service-stable}
spec: {selector: {app: api-service}}
`;

function problemsOf(result: { ok: true } | { ok: false; problems: Problem[] }): Problem[] {
  assert.equal(result.ok, false, "expected problems");
  return result.ok ? [] : result.problems;
}

function problemAt(problems: Problem[], path: string): Problem {
  const found = problems.find((p) => p.path === path);
  assert.ok(found, `no problem at ${path}; got ${JSON.stringify(problems)}`);
  return found;
}

describe("parseRolloutText", () => {
  test("reads a Rollout and applies the defaults", () => {
    const result = parseRolloutText(ROLLOUT, "rollout.yaml");
    assert.ok(result.ok, JSON.stringify(result));
    const canary = result.rollout.spec.strategy.canary;
    assert.equal(canary?.steps.length, 5);
    assert.equal(canary?.analysis?.interval, "30s");
    assert.equal(canary?.analysis?.judge, "sequential");
    assert.deepEqual(
      canary?.analysis?.metrics.map((m) => m.builtin),
      ["successRate", "latencyP99"],
    );
    assert.equal(result.rollout.spec.progressDeadlineSeconds, 600);
  });

  test("picks the Rollout out of a file that also holds Services", () => {
    const result = parseRolloutText(`${SERVICE}---\n${ROLLOUT}---\n${SERVICE}`, "all.yaml");
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.rollout.metadata.name, "api-service");
  });

  test("text that is not YAML names the line and column", () => {
    const [problem] = problemsOf(parseRolloutText("spec:\n  steps: [1, 2\nkind: }", "broken.yaml"));
    assert.equal(problem?.path, "broken.yaml");
    assert.match(problem?.message ?? "", /^is not valid YAML at line \d+, column \d+: /);
  });

  test("an empty file, or one of empty documents, says a Rollout is expected", () => {
    for (const text of ["", "---\n---\n", "# only a comment\n"]) {
      const [problem] = problemsOf(parseRolloutText(text, "empty.yaml"));
      assert.equal(problem?.path, "empty.yaml");
      assert.match(problem?.message ?? "", /is empty.*kind: Rollout/);
    }
  });

  test("a file without a Rollout lists what it found", () => {
    const [problem] = problemsOf(parseRolloutText(`${SERVICE}---\n${SERVICE}`, "svc.yaml"));
    assert.match(
      problem?.message ?? "",
      /none is a Rollout \(found Service api-service-stable, Service/,
    );
  });

  test("a file with two Rollouts asks for one per file", () => {
    const second = ROLLOUT.replace("name: api-service,", "name: web,");
    const [problem] = problemsOf(parseRolloutText(`${ROLLOUT}---\n${second}`, "two.yaml"));
    assert.match(
      problem?.message ?? "",
      /2 Rollouts \(Rollout api-service, Rollout web\): keep one Rollout per file/,
    );
  });

  test("a single object that is not a Rollout names its apiVersion and kind", () => {
    const problems = problemsOf(parseRolloutText(SERVICE, "svc.yaml"));
    assert.match(problemAt(problems, "kind").message, /is "Service".*set kind: Rollout/);
    assert.match(problemAt(problems, "apiVersion").message, /is "v1".*aviary\.dev\/v1alpha1/);
  });

  test("an Argo Rollout is recognised as such", () => {
    const argo = ROLLOUT.replace("aviary.dev/v1alpha1", "argoproj.io/v1alpha1");
    const problems = problemsOf(parseRolloutText(argo, "argo.yaml"));
    assert.match(
      problemAt(problems, "apiVersion").message,
      /Argo Rollout.*apiVersion: aviary\.dev\/v1alpha1/,
    );
  });

  test("a YAML list instead of a mapping is reported against the file", () => {
    const [problem] = problemsOf(parseRolloutText("- a\n- b\n", "list.yaml"));
    assert.equal(problem?.path, "list.yaml");
    assert.match(problem?.message ?? "", /must be a mapping .* got a list/);
  });
});

describe("schema problems", () => {
  const rows: { name: string; edit: (text: string) => string; path: string; message: RegExp }[] = [
    {
      name: "a weight out of range",
      edit: (t) => t.replace("setWeight: 50", "setWeight: 150"),
      path: "spec.strategy.canary.steps[3].setWeight",
      message: /^must be an integer from 0 to 100, got 150$/,
    },
    {
      name: "a fractional weight",
      edit: (t) => t.replace("setWeight: 50", "setWeight: 2.5"),
      path: "spec.strategy.canary.steps[3].setWeight",
      message: /^must be an integer, got 2\.5$/,
    },
    {
      name: "a number written as a word",
      edit: (t) => t.replace("replicas: 4", "replicas: four"),
      path: "spec.replicas",
      message: /^must be an integer, got "four"$/,
    },
    {
      name: "a malformed duration",
      edit: (t) => t.replace("duration: 2m", "duration: 2 minutes"),
      path: "spec.strategy.canary.steps[1].pause.duration",
      message: /^must be a duration such as "30s".*got "2 minutes"$/,
    },
    {
      name: "a missing required field",
      edit: (t) => t.replace("      canaryService: api-service-canary\n", ""),
      path: "spec.strategy.canary.canaryService",
      message: /^is required: name the Service \(it may be omitted only with subset-level routing/,
    },
    {
      name: "an unknown enum value",
      edit: (t) => t.replace("analysis:\n", "analysis:\n        judge: bayesian\n"),
      path: "spec.strategy.canary.analysis.judge",
      message: /^must be one of "sequential", "threshold"; got "bayesian"$/,
    },
    {
      name: "an empty list that needs an item",
      edit: (t) => t.replace("match: [{header: x-user-group, exact: beta-testers}]", "match: []"),
      path: "spec.strategy.canary.steps[2].setHeaderRoute.match",
      message: /^needs at least one item$/,
    },
    {
      name: "a Prometheus address that is not a URL",
      edit: (t) => t.replace('"http://prometheus.istio-system:9090"', "prometheus"),
      path: "spec.strategy.canary.analysis.prometheus.address",
      message: /^must be an http\(s\) URL .* got "prometheus"$/,
    },
    {
      name: "a Prometheus address without a scheme",
      edit: (t) =>
        t.replace('"http://prometheus.istio-system:9090"', "prometheus.istio-system:9090"),
      path: "spec.strategy.canary.analysis.prometheus.address",
      message: /^must be an http\(s\) URL such as/,
    },
    {
      name: "a pause longer than a release can use",
      edit: (t) => t.replace("duration: 2m", "duration: 99999999999h"),
      path: "spec.strategy.canary.steps[1].pause.duration",
      message: /^must be at most 720h \(30 days\)$/,
    },
    {
      name: "a duration of 400 digits",
      edit: (t) => t.replace("duration: 2m", `duration: ${"9".repeat(400)}s`),
      path: "spec.strategy.canary.steps[1].pause.duration",
      message: /^must be at most 32 characters long, got 401$/,
    },
    {
      name: "a progress deadline longer than a release can use",
      edit: (t) => t.replace("replicas: 4", "replicas: 4\n  progressDeadlineSeconds: 99999999999"),
      path: "spec.progressDeadlineSeconds",
      message: /^must be an integer from 1 to 2592000, got 99999999999$/,
    },
    {
      name: "a Rollout name too long for a label value",
      edit: (t) => t.replace("name: api-service,", `name: ${"a".repeat(70)},`),
      path: "metadata.name",
      message: /^must be at most 63 characters long, got 70$/,
    },
    {
      name: "a header name with a newline",
      edit: (t) => t.replace("header: x-user-group", 'header: "x-user\\ngroup"'),
      path: "spec.strategy.canary.steps[2].setHeaderRoute.match[0].header",
      message: /^must be an HTTP header name/,
    },
    {
      name: "a header value with a newline",
      edit: (t) => t.replace("exact: beta-testers", 'exact: "beta\\r\\ntesters"'),
      path: "spec.strategy.canary.steps[2].setHeaderRoute.match[0].exact",
      message: /^must be a header value without control characters/,
    },
    {
      name: "a Service name the API server cannot have",
      edit: (t) => t.replace("stableService: api-service-stable", "stableService: Api_Stable"),
      path: "spec.strategy.canary.stableService",
      message: /^must be a Service name/,
    },
    {
      name: "a misspelt field",
      edit: (t) => t.replace("setWeight: 50", "setWieght: 50"),
      path: "spec.strategy.canary.steps[3].setWieght",
      message: /^is not a known field; did you mean setWeight\?$/,
    },
    {
      name: "a label key that is not an identifier",
      edit: (t) =>
        t.replace("matchLabels: {app: api-service}", 'matchLabels: {"app.kubernetes.io/name": 3}'),
      path: 'spec.selector.matchLabels["app.kubernetes.io/name"]',
      message: /^must be a string, got 3$/,
    },
  ];
  for (const row of rows) {
    test(`${row.name} is reported at its path with a readable sentence`, () => {
      const problems = problemsOf(parseRolloutText(row.edit(ROLLOUT), "rollout.yaml"));
      assert.match(problemAt(problems, row.path).message, row.message);
    });
  }

  test("every schema problem is reported, not only the first", () => {
    const text = ROLLOUT.replace("setWeight: 50", "setWeight: 150").replace(
      "replicas: 4",
      "replicas: -1",
    );
    const paths = problemsOf(parseRolloutText(text)).map((p) => p.path);
    assert.deepEqual(paths.sort(), ["spec.replicas", "spec.strategy.canary.steps[3].setWeight"]);
  });

  test("semantic rules run once the schema holds", () => {
    const text = ROLLOUT.replace(/ {6}trafficRouting:\n.*\n.*\n/, "");
    const problems = problemsOf(parseRolloutText(text));
    assert.match(
      problemAt(problems, "spec.strategy.canary.steps[2].setHeaderRoute").message,
      /trafficRouting/,
    );
  });

  test("metadata fields the API server adds are not unknown fields", () => {
    const object = {
      apiVersion: "aviary.dev/v1alpha1",
      kind: "Rollout",
      metadata: { name: "a", creationTimestamp: "2026-01-01T00:00:00Z", managedFields: [] },
      spec: {
        selector: { matchLabels: { app: "a" } },
        workloadRef: { name: "a" },
        strategy: { blueGreen: { activeService: "a-active", previewService: "a-preview" } },
      },
    };
    const result = parseRollout(object);
    assert.ok(result.ok, JSON.stringify(result));
  });
});

describe("parseMetricTemplate", () => {
  test("reads a MetricTemplate", () => {
    const result = parseMetricTemplate({
      apiVersion: "aviary.dev/v1alpha1",
      kind: "MetricTemplate",
      metadata: { name: "queue-depth" },
      spec: { query: 'max(queue_depth{namespace="{{namespace}}"})', max: 100 },
    });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.template.spec.max, 100);
  });

  test("an empty query is reported at spec.query", () => {
    const problems = problemsOf(
      parseMetricTemplate({
        apiVersion: "aviary.dev/v1alpha1",
        kind: "MetricTemplate",
        metadata: { name: "q" },
        spec: { query: "" },
      }),
    );
    assert.deepEqual(problems, [{ path: "spec.query", message: "must not be empty" }]);
  });

  test("a Rollout is not a MetricTemplate", () => {
    const problems = problemsOf(
      parseMetricTemplate({ apiVersion: "aviary.dev/v1alpha1", kind: "Rollout" }),
    );
    assert.match(problemAt(problems, "kind").message, /set kind: MetricTemplate/);
  });
});

test("every Rollout in examples/ loads without problems", () => {
  const dir = join(import.meta.dirname, "../../examples");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
  let rollouts = 0;
  for (const file of files) {
    const text = readFileSync(join(dir, file), "utf8");
    if (!/^kind: Rollout$/m.test(text)) continue;
    rollouts++;
    const result = parseRolloutText(text, file);
    assert.ok(result.ok, `${file}: ${JSON.stringify(result)}`);
  }
  assert.ok(rollouts > 0, "examples/ holds at least one Rollout");
});
