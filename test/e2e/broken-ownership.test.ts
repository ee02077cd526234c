import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MANAGED_BY_ANNOTATION, POD_TEMPLATE_HASH_LABEL } from "../../src/api/labels.ts";
import { testNamespace } from "../harness/env.ts";
import { controller } from "./controller-fixtures.ts";
import {
  annotationsOf,
  deleteRollout,
  dest,
  objects,
  readVs,
  record,
  selectorOf,
  patchRollout,
  service,
  template,
  untilStatusOf,
  virtualService,
  weightsOf,
} from "./broken-input-fixtures.ts";

/** The same Rollout under two names: what a copy-paste makes. */
async function rollout(ns: string, name: string, image: string): Promise<void> {
  await objects().create({
    apiVersion: "aviary.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name, namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "api" } },
      template: template("api", image),
      strategy: {
        canary: {
          stableService: "api-stable",
          canaryService: "api-canary",
          scaleDownDelaySeconds: 1,
          trafficRouting: { istio: { virtualService: { name: "api", routes: ["primary"] } } },
          steps: [{ setWeight: 40 }, { pause: {} }],
        },
      },
    },
  });
}

describe("one owner per route and per Service", { timeout: 180_000 }, () => {
  test("a copy-pasted Rollout on the same route and Services is refused, touches nothing, and takes over once the owner is deleted", async (t) => {
    const ns = await testNamespace(t, "own");
    await service(ns, "api-stable", "api");
    await service(ns, "api-canary", "api");
    await virtualService(ns, "api", [dest("api-stable", 100), dest("api-canary", 0)]);
    await rollout(ns, "api", "api:1");
    await controller(t, ns);
    const owner = await untilStatusOf(
      ns,
      "api",
      "the owner is Healthy",
      (s) => s.phase === "Healthy",
    );
    assert.equal(
      (await annotationsOf(ns, "api-stable"))[MANAGED_BY_ANNOTATION],
      "api",
      "the Service is marked as the owner's",
    );
    assert.match(
      (await readVs(ns, "api")).metadata.annotations?.["aviary.dev/managed-routes"] ?? "",
      /"primary":"api"/,
    );

    await rollout(ns, "api-copy", "api:1");
    const refused = await untilStatusOf(
      ns,
      "api-copy",
      "the copy is refused",
      (s) => s.conditions?.some((c) => c.type === "InvalidSpec") === true,
    );
    assert.match(
      refused.message ?? "",
      /route "primary" of VirtualService api is managed by Rollout api/,
    );
    assert.match(refused.message ?? "", /Service api-stable is managed by Rollout api/);
    assert.equal(refused.phase, "Degraded");

    // Both released at the same time: only the owner's plan reaches the mesh.
    const weights = record(() => weightsOf(ns, "api"));
    const canarySelector = record(
      async () => (await selectorOf(ns, "api-canary"))[POD_TEMPLATE_HASH_LABEL] ?? "",
    );
    await patchRollout(ns, "api-copy", { spec: { template: template("api", "api:3") } });
    await patchRollout(ns, "api", { spec: { template: template("api", "api:2") } });
    const paused = await untilStatusOf(
      ns,
      "api",
      "the owner is paused at 40%",
      (s) => s.phase === "Paused" && s.currentStepIndex === 1,
    );
    assert.equal(
      (await untilStatusOf(ns, "api-copy", "still refused", () => true)).phase,
      "Degraded",
    );
    assert.deepEqual(await weights.stop(), ["100/0", "60/40"]);
    const hashes = await canarySelector.stop();
    assert.deepEqual(
      hashes.filter((h) => h !== owner.stableHash && h !== paused.canaryHash),
      [],
      `the canary Service only ever selected the owner's pods: ${hashes.join(" → ")}`,
    );

    // Deleting the owner puts the mesh back and releases its claims; the copy then manages.
    await deleteRollout(ns, "api");
    await untilStatusOf(
      ns,
      "api-copy",
      "the copy takes over once the owner is gone",
      (s) => s.phase === "Healthy" && s.conditions?.some((c) => c.type === "InvalidSpec") !== true,
    );
    assert.equal(await weightsOf(ns, "api"), "100/0");
    assert.match(
      (await readVs(ns, "api")).metadata.annotations?.["aviary.dev/managed-routes"] ?? "",
      /"primary":"api-copy"/,
    );
  });
});
