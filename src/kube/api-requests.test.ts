import { test } from "node:test";
import assert from "node:assert/strict";
import { HttpMethod, KubeConfig, RequestContext } from "@kubernetes/client-node";
import { countingKubeConfig, kubeRequest, kubeVerb } from "./api-requests.ts";

const SERVER = "https://127.0.0.1:6443";

test("requests are named by their Kubernetes verb", () => {
  const cases: [string, string, string][] = [
    ["GET", "/api/v1/namespaces/shop/services/api", "get"],
    ["GET", "/api/v1/namespaces/shop/services", "list"],
    ["GET", "/api/v1/services", "list"],
    ["GET", "/api/v1/namespaces", "list"],
    ["GET", "/api/v1/namespaces/shop", "get"],
    ["GET", "/apis/aviary.dev/v1alpha1/namespaces/shop/rollouts/api/status", "get"],
    ["GET", "/apis/apps/v1/replicasets?labelSelector=aviary.dev%2Frollout", "list"],
    ["GET", "/apis/apps/v1/namespaces/shop/replicasets?watch=true&resourceVersion=5", "watch"],
    ["GET", "/version", "get"],
    ["POST", "/apis/apps/v1/namespaces/shop/replicasets", "create"],
    ["PUT", "/apis/coordination.k8s.io/v1/namespaces/shop/leases/aviary", "update"],
    ["PATCH", "/apis/aviary.dev/v1alpha1/namespaces/shop/rollouts/api/status", "patch"],
    ["DELETE", "/apis/apps/v1/namespaces/shop/replicasets/api-1", "delete"],
  ];
  for (const [method, path, verb] of cases)
    assert.equal(kubeVerb(method, `${SERVER}${path}`), verb, `${method} ${path}`);
});

test("requests name their resource, with the subresource after a slash", () => {
  const cases: [string, string, string][] = [
    ["POST", "/api/v1/namespaces/shop/events", "events"],
    ["PATCH", "/apis/aviary.dev/v1alpha1/namespaces/shop/rollouts/api/status", "rollouts/status"],
    ["PATCH", "/apis/apps/v1/namespaces/shop/replicasets/api-1/scale", "replicasets/scale"],
    ["GET", "/apis/networking.istio.io/v1/virtualservices?watch=true", "virtualservices"],
    ["GET", "/api/v1/namespaces/shop", "namespaces"],
    ["GET", "/api/v1/namespaces", "namespaces"],
    ["GET", "/version", ""],
  ];
  for (const [method, path, resource] of cases)
    assert.equal(kubeRequest(method, `${SERVER}${path}`).resource, resource, `${method} ${path}`);
});

test("a counting KubeConfig counts each request and authenticates it like its source", async () => {
  const source = new KubeConfig();
  source.loadFromOptions({
    clusters: [{ name: "c", server: SERVER, skipTLSVerify: true }],
    users: [{ name: "u", token: "secret-token" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  const verbs: string[] = [];
  const counting = countingKubeConfig(source, ({ verb }) => verbs.push(verb));
  assert.equal(counting.getCurrentCluster()?.server, SERVER);

  const get = new RequestContext(`${SERVER}/api/v1/namespaces/shop/pods/p`, HttpMethod.GET);
  await counting.applySecurityAuthentication(get);
  const patch = new RequestContext(`${SERVER}/api/v1/namespaces/shop/pods/p`, HttpMethod.PATCH);
  await counting.applySecurityAuthentication(patch);
  assert.deepEqual(verbs, ["get", "patch"]);
  assert.equal(get.getHeaders().Authorization, "Bearer secret-token");

  // The source is not changed: requests through it are not counted.
  await source.applySecurityAuthentication(
    new RequestContext(`${SERVER}/api/v1/pods`, HttpMethod.GET),
  );
  assert.deepEqual(verbs, ["get", "patch"]);

  // A copy decorates its source: a request through a copy of a counting copy counts in
  // both, as it would reach a source that records requests itself.
  const outer: string[] = [];
  const twice = countingKubeConfig(counting, ({ verb }) => outer.push(verb));
  await twice.applySecurityAuthentication(
    new RequestContext(`${SERVER}/api/v1/pods`, HttpMethod.GET),
  );
  assert.deepEqual(outer, ["list"]);
  assert.deepEqual(verbs, ["get", "patch", "list"]);
});
