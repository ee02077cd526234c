import { test } from "node:test";
import assert from "node:assert/strict";
import { formatStatus, viewOf } from "./status-format.ts";

test("aviary status shows a notification that could not be delivered, naming the Secret", () => {
  const message =
    'Slack notification "api rolled back" was refused by the URL in Secret prod/slack-webhook key "url": Slack answered 404: no_service.';
  const view = viewOf({
    metadata: { namespace: "prod", name: "api" },
    spec: { strategy: { canary: { steps: [] } } },
    status: {
      phase: "Healthy",
      conditions: [
        {
          type: "NotificationFailed",
          status: "True",
          reason: "SlackRejected",
          message,
          lastTransitionTime: "2026-03-02T10:00:00Z",
        },
      ],
    },
  });
  assert.match(
    formatStatus(view),
    new RegExp(
      `notify: +failing \\(SlackRejected\\): ${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`,
    ),
  );
  const fixed = { ...view, status: { ...view.status, conditions: [] } };
  assert.doesNotMatch(formatStatus(fixed), /notify:/);
});

test("aviary status shows the judge's burst discount beside the evidence", () => {
  const view = viewOf({
    metadata: { namespace: "prod", name: "api" },
    spec: { strategy: { canary: { steps: [], analysis: {} } } },
    status: {
      phase: "Progressing",
      analysis: {
        verdict: "Running",
        startedAt: "2026-03-02T10:00:00Z",
        metrics: [
          {
            name: "success-rate",
            verdict: "Running",
            evidence: 3.2,
            bound: 222,
            discount: 0.12,
            message: "errors are bursty: evidence counted ×0.12",
          },
          { name: "p99-latency", verdict: "Running", evidence: 1.1, bound: 222 },
        ],
      },
    },
  });
  const text = formatStatus(view);
  assert.match(
    text,
    /success-rate .*3\.2\/222 ×0\.12 .*errors are bursty: evidence counted ×0\.12/,
  );
  assert.match(text, /p99-latency .*1\.1\/222 /);
  assert.doesNotMatch(text, /p99-latency .*×/);
});
