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
