import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { controller } from "./controller-fixtures.ts";
import {
  eventsOf,
  objects,
  patchRollout,
  service,
  template,
  untilStatusOf,
} from "./broken-input-fixtures.ts";

/** A Rollout object with `edit` applied, as a person would write it. */
function rollout(ns: string, edit: (spec: Record<string, unknown>) => void, name = "api") {
  const canary: Record<string, unknown> = {
    stableService: "api-stable",
    canaryService: "api-canary",
    steps: [{ setWeight: 20 }, { pause: { duration: "1m" } }],
  };
  const spec: Record<string, unknown> = {
    replicas: 1,
    selector: { matchLabels: { app: "api" } },
    template: template("api", "api:1"),
    strategy: { canary },
  };
  edit(spec);
  return {
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name, namespace: ns },
    spec,
  };
}

const canaryOf = (spec: Record<string, unknown>) =>
  (spec.strategy as { canary: Record<string, unknown> }).canary;

/** The API server's answer to a server-side dry-run create. */
async function refusal(object: Record<string, unknown>): Promise<string> {
  try {
    await objects().create(object as never, undefined, "All");
    return "accepted";
  } catch (error) {
    return String(error);
  }
}

describe("the API server refuses what a release cannot use", { timeout: 120_000 }, () => {
  const rows: {
    what: string;
    edit: (spec: Record<string, unknown>) => void;
    name?: string;
    says: RegExp;
  }[] = [
    {
      what: "a pause of 99999999999h",
      edit: (s) => (canaryOf(s).steps = [{ pause: { duration: "99999999999h" } }]),
      says: /spec\.strategy\.canary\.steps\[0\]\.pause\.duration: Invalid value: .*must be at most 720h \(30 days\)/,
    },
    {
      what: "a pause of 31 days",
      edit: (s) => (canaryOf(s).steps = [{ pause: { duration: "744h" } }]),
      says: /spec\.strategy\.canary\.steps\[0\]\.pause\.duration: Invalid value: .*"744h.*must be at most 720h \(30 days\)/,
    },
    {
      what: "a duration of 400 digits",
      edit: (s) => (canaryOf(s).steps = [{ pause: { duration: `${"9".repeat(400)}s` } }]),
      says: /Too long: may not be (longer|more) than 32/,
    },
    {
      what: "a progress deadline of 3,000 years",
      edit: (s) => (s.progressDeadlineSeconds = 99_999_999_999),
      says: /spec\.progressDeadlineSeconds: Invalid value: .*should be less than or equal to 2592000/,
    },
    {
      what: "a Rollout name too long for its pods' label",
      edit: () => undefined,
      name: "a".repeat(70),
      says: /at most 63 characters: it is the value of the aviary\.dev\/rollout label/,
    },
    {
      what: "a Prometheus address without a scheme",
      edit: (s) =>
        (canaryOf(s).analysis = { prometheus: { address: "prometheus.istio-system:9090" } }),
      says: /spec\.strategy\.canary\.analysis\.prometheus\.address: Invalid value: .*should match '\^https\?:\/\/'/,
    },
    {
      what: "a header name with a newline",
      edit: (s) => {
        canaryOf(s).trafficRouting = { istio: { virtualService: { name: "api" } } };
        canaryOf(s).steps = [
          { setHeaderRoute: { name: "beta", match: [{ header: "x-user\ngroup", exact: "b" }] } },
        ];
      },
      says: /setHeaderRoute\.match\[0\]\.header: Invalid value/,
    },
  ];
  for (const row of rows) {
    test(`${row.what} is refused, naming the field`, async (t) => {
      const ns = await testNamespace(t, "spec");
      const answer = await refusal(rollout(ns, row.edit, row.name));
      assert.match(answer, row.says);
    });
  }
});

describe(
  "what only the controller can check is InvalidSpec naming the field",
  { timeout: 120_000, concurrency: true },
  () => {
    test("a pod template without containers, and a header regex Envoy would refuse", async (t) => {
      const ns = await testNamespace(t, "spec");
      await service(ns, "api-stable", "api");
      await service(ns, "api-canary", "api");
      await objects().create(
        rollout(ns, (s) => {
          s.template = { metadata: { labels: { app: "api" } }, spec: { containers: [] } };
          canaryOf(s).trafficRouting = { istio: { virtualService: { name: "api" } } };
          canaryOf(s).steps = [
            {
              setHeaderRoute: {
                name: "beta",
                match: [{ header: "x-user-group", regex: "(?=beta)" }],
              },
            },
          ];
        }) as never,
      );
      await controller(t, ns);
      const invalid = await untilStatusOf(ns, "api", "InvalidSpec", (s) => s.phase === "Degraded");
      assert.match(
        invalid.message ?? "",
        /spec\.template\.spec\.containers: needs at least one container/,
      );
      assert.match(
        invalid.message ?? "",
        /steps\[0\]\.setHeaderRoute\.match\[0\]\.regex: "\(\?=beta\)" is not a regular expression Envoy accepts/,
      );
    });

    test("empty steps promote at once, and an Event says so", async (t) => {
      const ns = await testNamespace(t, "spec");
      await service(ns, "api-stable", "api");
      await service(ns, "api-canary", "api");
      await objects().create(rollout(ns, (s) => (canaryOf(s).steps = [])) as never);
      await controller(t, ns);
      const v1 = await untilStatusOf(ns, "api", "v1 Healthy", (s) => s.phase === "Healthy");
      await patchRollout(ns, "api", { spec: { template: template("api", "api:2") } });
      await untilStatusOf(
        ns,
        "api",
        "v2 promoted",
        (s) => s.phase === "Healthy" && s.stableHash !== v1.stableHash,
      );
      await eventually(
        "the NoSteps Event",
        () => eventsOf(ns, "api"),
        (events) => events.some((e) => /^NoSteps: spec\.strategy\.canary\.steps is empty/.test(e)),
      );
    });
  },
);
