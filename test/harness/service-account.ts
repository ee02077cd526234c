import assert from "node:assert/strict";
import {
  AuthenticationV1TokenRequest,
  CoreV1Api,
  KubeConfig,
  V1TokenRequestSpec,
} from "@kubernetes/client-node";
import { kubeConfig } from "./env.ts";

/**
 * A KubeConfig that authenticates as a ServiceAccount, with a short-lived token from the
 * TokenRequest API (what `kubectl create token` uses), for tests of RBAC as a user sees it.
 */
export async function serviceAccountKubeConfig(
  namespace: string,
  name: string,
): Promise<KubeConfig> {
  const admin = kubeConfig();
  const body = Object.assign(new AuthenticationV1TokenRequest(), {
    spec: Object.assign(new V1TokenRequestSpec(), { audiences: [], expirationSeconds: 900 }),
  });
  const request = await admin
    .makeApiClient(CoreV1Api)
    .createNamespacedServiceAccountToken({ name, namespace, body });
  const token = request.status?.token;
  assert.ok(token, "the API server issued no token");
  const cluster = admin.getCurrentCluster();
  assert.ok(cluster);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token }],
    contexts: [{ name, cluster: cluster.name, user: name, namespace }],
    currentContext: name,
  });
  return kc;
}
