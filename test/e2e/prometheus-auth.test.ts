import { test } from "node:test";
import assert from "node:assert/strict";
import { CoreV1Api, KubernetesObjectApi } from "@kubernetes/client-node";
import { resolvePrometheusAuth } from "../../src/kube/prometheus-auth.ts";
import { SecretCache } from "../../src/kube/secret-cache.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";

test("Prometheus credentials come from the Rollout's Secrets, and a missing one is explained", async (t) => {
  const ns = await testNamespace(t, "pa");
  await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "prom", namespace: ns },
    stringData: { token: "s3cret", user: "aviary", pass: "pw" },
  });
  const core = new SecretCache(kubeConfig().makeApiClient(CoreV1Api));
  const cases = [
    {
      settings: { bearerTokenSecretRef: { name: "prom", key: "token" } },
      expect: { ok: true, auth: { bearerToken: "s3cret" } },
    },
    {
      settings: { basicAuthSecretRef: { name: "prom", usernameKey: "user", passwordKey: "pass" } },
      expect: { ok: true, auth: { username: "aviary", password: "pw" } },
    },
    { settings: undefined, expect: { ok: true, auth: undefined } },
  ];
  for (const c of cases)
    assert.deepEqual(await resolvePrometheusAuth(core, ns, c.settings), c.expect);

  const missing = await resolvePrometheusAuth(core, ns, {
    bearerTokenSecretRef: { name: "nope", key: "token" },
  });
  assert.equal(missing.ok, false);
  assert.match(missing.ok ? "" : missing.error, /bearerTokenSecretRef: Secret "nope" not found/);
  const noKey = await resolvePrometheusAuth(core, ns, {
    bearerTokenSecretRef: { name: "prom", key: "tok" },
  });
  assert.match(noKey.ok ? "" : noKey.error, /no key "tok" \(keys: pass, token, user\)/);
});

test("Secrets are read through a short-lived cache: a Secret created after a miss is used once the entry expires", async (t) => {
  const ns = await testNamespace(t, "pa");
  let now = 0;
  const secrets = new SecretCache(kubeConfig().makeApiClient(CoreV1Api), 30_000, () => now);
  const settings = { bearerTokenSecretRef: { name: "late", key: "token" } };
  assert.equal((await resolvePrometheusAuth(secrets, ns, settings)).ok, false);
  await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "late", namespace: ns },
    stringData: { token: "t0ken" },
  });
  now += 29_000;
  assert.equal(
    (await resolvePrometheusAuth(secrets, ns, settings)).ok,
    false,
    "still the cached miss",
  );
  now += 1_000;
  assert.deepEqual(await resolvePrometheusAuth(secrets, ns, settings), {
    ok: true,
    auth: { bearerToken: "t0ken" },
  });
});
