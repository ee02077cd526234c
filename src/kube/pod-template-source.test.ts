import { test } from "node:test";
import assert from "node:assert/strict";
import { loadYaml, type V1Deployment } from "@kubernetes/client-node";
import { templateHash } from "../core/template-hash.ts";
import { asDeployment, plainTemplate } from "./pod-template-source.ts";

/** A Deployment as the API server sends it (list items carry no apiVersion or kind). */
const wire = {
  metadata: { name: "api", namespace: "prod", resourceVersion: "42" },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: "api" } },
    template: {
      metadata: { labels: { app: "api" }, creationTimestamp: "2026-12-02T08:00:00Z" },
      spec: {
        containers: [
          {
            name: "api",
            image: "api:1",
            ports: [{ containerPort: 8080, name: "http" }],
            env: [{ name: "MODE", value: "prod" }],
            resources: { limits: { cpu: "500m", memory: "256Mi" } },
            readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 5 },
          },
        ],
      },
    },
  },
  status: { availableReplicas: 3 },
};

test("a Deployment's template hashes the same read by GET, from a cached list or from a watch event", () => {
  // What a GET returns: the generated client's typed object.
  const fromGet = loadYaml<V1Deployment>(
    JSON.stringify({ ...wire, apiVersion: "apps/v1", kind: "Deployment" }),
  );
  const get = templateHash(plainTemplate(fromGet));
  // A list fills the cache with typed objects, a watch event with plain JSON.
  const listed = asDeployment(fromGet);
  const watched = asDeployment(structuredClone(wire));
  assert.equal(templateHash(plainTemplate(listed)), get);
  assert.equal(templateHash(plainTemplate(watched)), get);
  // Read as is, the watch's JSON would hash differently (its date has no milliseconds),
  // and every workloadRef Rollout would start a release nobody asked for.
  assert.notEqual(templateHash(wire.spec.template), get);
  assert.equal(watched.spec?.replicas, 3);
  assert.equal(watched.status?.availableReplicas, 3);
});
