import { test } from "node:test";
import assert from "node:assert/strict";
import { LAST_APPLIED_ANNOTATION, slimForCache } from "./informer.ts";

test("the cache keeps an object without managedFields or the last-applied copy, and all else", () => {
  const object = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: {
      name: "api",
      namespace: "shop",
      resourceVersion: "7",
      annotations: { [LAST_APPLIED_ANNOTATION]: '{"spec":{}}', team: "payments" },
      labels: { app: "api" },
      managedFields: [{ manager: "argocd-controller", operation: "Apply" }],
    },
    spec: { hosts: ["api"] },
  };
  slimForCache(object);
  assert.deepEqual(object, {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: {
      name: "api",
      namespace: "shop",
      resourceVersion: "7",
      annotations: { team: "payments" },
      labels: { app: "api" },
    },
    spec: { hosts: ["api"] },
  });
});
