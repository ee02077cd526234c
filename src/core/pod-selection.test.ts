import { test } from "node:test";
import assert from "node:assert/strict";
import { describeLabels, templateLabels, unmatchedLabels } from "./pod-selection.ts";

test("a selector matches when every label but Aviary's hash labels is on the pod template", () => {
  const pods = { app: "api", tier: "web" };
  assert.deepEqual(
    unmatchedLabels({ app: "api", "aviary.dev/pod-template-hash": "abc" }, pods),
    [],
  );
  assert.deepEqual(unmatchedLabels({}, pods), []);
});

test("labels the pods do not carry, or carry with another value, are named", () => {
  const pods = { app: "api", version: "v1" };
  const unmatched = unmatchedLabels({ app: "api", version: "v2", track: "canary" }, pods);
  assert.deepEqual(unmatched, [
    { key: "version", wanted: "v2", found: "v1" },
    { key: "track", wanted: "canary" },
  ]);
  assert.equal(describeLabels(unmatched), "version=v2 and track=canary");
});

test("template labels are read from an untyped pod template", () => {
  assert.deepEqual(templateLabels({ metadata: { labels: { app: "api" } } }), { app: "api" });
  assert.deepEqual(templateLabels({ spec: {} }), {});
  assert.deepEqual(templateLabels(undefined), {});
});
