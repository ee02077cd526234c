import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { apiErrorMessage } from "../harness/api-errors.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { REPO_ROOT } from "../harness/testenv.ts";

/**
 * examples/ is what people copy: every object in it must pass a server-side dry-run apply
 * (`kubectl apply --server-side --dry-run=server`) against the CRDs of Aviary, Istio and
 * the Gateway API. Namespaced objects go to a test namespace; Namespaces keep their names,
 * which a dry run does not create.
 */
function examples(): { file: string; object: KubernetesObject }[] {
  const dir = join(REPO_ROOT, "examples");
  return readdirSync(dir)
    .filter((file) => file.endsWith(".yaml"))
    .flatMap((file) =>
      (loadAllYaml(readFileSync(join(dir, file), "utf8")) as KubernetesObject[]).map((object) => ({
        file,
        object,
      })),
    );
}

describe("examples/", () => {
  test("the seed's whole scenario is there: Gateway, header route, timeouts, retries, circuit breaker, mTLS", () => {
    const all = examples().map((e) => e.object);
    const kinds = new Set(all.map((o) => `${o.apiVersion ?? ""} ${o.kind ?? ""}`));
    for (const kind of [
      "networking.istio.io/v1 Gateway",
      "networking.istio.io/v1 VirtualService",
      "networking.istio.io/v1 DestinationRule",
      "security.istio.io/v1 PeerAuthentication",
      "gateway.networking.k8s.io/v1 HTTPRoute",
      "aviary.dev/v1alpha1 Rollout",
    ])
      assert.ok(kinds.has(kind), `examples/ has no ${kind}`);
    const text = JSON.stringify(all);
    for (const field of ["beta-testers", "perTryTimeout", "outlierDetection", "connectionPool"])
      assert.ok(text.includes(field), `examples/ mention no ${field}`);
  });

  test("every object passes a server-side dry-run apply on the test cluster", async (t) => {
    const namespace = await testNamespace(t, "examples");
    const client = KubernetesObjectApi.makeApiClient(kubeConfig());
    const applied: string[] = [];
    for (const { file, object } of examples()) {
      const body = structuredClone(object);
      if (body.kind !== "Namespace" && body.metadata) body.metadata.namespace = namespace;
      const what = `${file}: ${body.kind ?? "?"} ${body.metadata?.name ?? "?"}`;
      await client
        .patch(body, undefined, "All", "aviary-examples", true, PatchStrategy.ServerSideApply)
        .catch((error: unknown) => assert.fail(`${what} was rejected: ${apiErrorMessage(error)}`));
      applied.push(what);
    }
    assert.ok(applied.length >= 15, applied.join("\n"));
    // A dry run stores nothing.
    const list = await client.list("v1", "Service", namespace);
    assert.deepEqual(list.items, []);
  });
});
