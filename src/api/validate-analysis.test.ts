import { describe } from "node:test";
import type { RolloutInput } from "./rollout.ts";
import {
  analysis,
  blueGreen,
  C,
  canary,
  testFineRows,
  testProblemRows,
  type ProblemRow,
} from "./rollout-input.fixture.ts";

describe("validateRollout: analysis and promotion windows", () => {
  const rows: ProblemRow[] = [
    {
      rule: "a metric with builtin and templateRef",
      input: analysis({
        metrics: [{ name: "m", builtin: "successRate", templateRef: { name: "t" }, min: 99 }],
      }),
      path: `${C}.analysis.metrics[0]`,
      fix: /set exactly one of builtin or templateRef/,
    },
    {
      rule: "two metrics of one name",
      input: analysis({
        metrics: [
          { name: "errors", builtin: "successRate", min: 99 },
          { name: "errors", builtin: "latencyP99", max: 500 },
        ],
      }),
      path: `${C}.analysis.metrics[1].name`,
      fix: /give each metric its own name/,
    },
    {
      rule: "successRate with max",
      input: analysis({ metrics: [{ name: "sr", builtin: "successRate", min: 99, max: 100 }] }),
      path: `${C}.analysis.metrics[0].max`,
      fix: /remove max and set min/,
    },
    {
      rule: "successRate without min under the threshold judge",
      input: analysis({ judge: "threshold", metrics: [{ name: "sr", builtin: "successRate" }] }),
      path: `${C}.analysis.metrics[0].min`,
      fix: /set the lowest acceptable success rate/,
    },
    {
      rule: "latencyP99 with min",
      input: analysis({ metrics: [{ name: "p99", builtin: "latencyP99", min: 1, max: 500 }] }),
      path: `${C}.analysis.metrics[0].min`,
      fix: /remove min and set max/,
    },
    {
      rule: "latencyP99 without max under the threshold judge",
      input: analysis({ judge: "threshold", metrics: [{ name: "p99", builtin: "latencyP99" }] }),
      path: `${C}.analysis.metrics[0].max`,
      fix: /set the highest acceptable P99/,
    },
    {
      rule: "a custom metric whose min is above its max",
      input: analysis({
        metrics: [{ name: "q", templateRef: { name: "queue" }, min: 10, max: 5 }],
      }),
      path: `${C}.analysis.metrics[0].min`,
      fix: /swap them or fix one/,
    },
    {
      rule: "mesh gatewayapi without metricsFrom",
      input: analysis({ mesh: "gatewayapi" }),
      path: `${C}.analysis.metricsFrom`,
      fix: /say whose metrics to read, istio or linkerd/,
    },
    {
      rule: "an analysis interval of zero",
      input: analysis({ interval: "0s" }),
      path: `${C}.analysis.interval`,
      fix: /set a positive duration/,
    },
    {
      rule: "two kinds of Prometheus credentials",
      input: analysis({
        prometheus: {
          bearerTokenSecretRef: { name: "p", key: "token" },
          basicAuthSecretRef: { name: "p", usernameKey: "u", passwordKey: "p" },
        },
      }),
      path: `${C}.analysis.prometheus`,
      fix: /keep the one your Prometheus expects/,
    },
    {
      rule: "a cron expression cron-parser rejects",
      input: canary({ promotionWindows: [{ schedule: "* 25 * * *" }] }),
      path: `${C}.promotionWindows[0].schedule`,
      fix: /not a cron expression .* write e\.g\./,
    },
    {
      rule: "a cron expression with the wrong number of fields",
      input: canary({ promotionWindows: [{ schedule: "* 9-17 * *" }] }),
      path: `${C}.promotionWindows[0].schedule`,
      fix: /has 4 fields: write 5/,
    },
    {
      rule: "a time zone Intl does not know",
      input: blueGreen({
        promotionWindows: [{ schedule: "* 9-17 * * 1-5", timezone: "Europe/Atlantis" }],
      }),
      path: "spec.strategy.blueGreen.promotionWindows[0].timezone",
      fix: /use an IANA name/,
    },
  ];

  testProblemRows(rows);

  const fine: { rule: string; input: RolloutInput }[] = [
    {
      rule: "successRate without min under the sequential judge",
      input: analysis({ metrics: [{ name: "sr", builtin: "successRate" }] }),
    },
  ];
  testFineRows(fine);
});
