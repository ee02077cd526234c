import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  V1SubjectAccessReview,
  setHeaderOptions,
  type KubernetesObject,
  type V1Deployment,
} from "@kubernetes/client-node";
import { DEPLOY_RBAC_FILE, renderDeployRbac } from "../../scripts/rbac.ts";
import { findBinaries } from "../harness/binaries.ts";
import { installCrds, readCrds } from "../harness/crds.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { serviceAccountKubeConfig } from "../harness/service-account.ts";
import {
  controller,
  createRollout,
  createServices,
  status,
  untilStatus,
} from "./controller-fixtures.ts";
import { eventually } from "../harness/eventually.ts";
import { CHART_DIR, countByKind, helm, helmOk, renderChart, valuesFile } from "../harness/helm.ts";

/**
 * charts/aviary on the real API server, with helm built from its Go module: lint, render and
 * server-side dry-run, install / upgrade / uninstall, and what each role may do, asked of the
 * API server's own authorizer with SubjectAccessReviews.
 */

const NAMESPACED = (a: string, b: string) => ({ watchNamespaces: [a, b] });
const EVERYTHING_ON = {
  metrics: { serviceMonitor: { enabled: true, labels: { release: "prometheus" } } },
  grafana: { dashboard: { enabled: true, folder: "Aviary" } },
  notifications: { slack: { webhookSecret: { name: "slack", key: "url" }, channel: "#deploys" } },
  controller: { prometheusAddress: "http://prometheus.istio-system:9090", logLevel: "debug" },
  rbac: { secretNames: ["slack", "prometheus-auth"] },
};

function releaseName(): string {
  return `aviary-${Math.random().toString(36).slice(2, 7)}`;
}

/** Server-side apply with dryRun=All: admission and validation run, nothing is stored. */
async function dryRunApply(objects: readonly KubernetesObject[]): Promise<string[]> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig());
  const rejected: string[] = [];
  for (const object of objects) {
    try {
      await client.patch(
        object,
        undefined,
        "All",
        "aviary-chart-e2e",
        true,
        PatchStrategy.ServerSideApply,
      );
    } catch (error) {
      rejected.push(`${object.kind ?? "?"}/${object.metadata?.name ?? "?"}: ${String(error)}`);
    }
  }
  return rejected;
}

/**
 * The prometheus-operator's ServiceMonitor CRD (from its Go module, by build-binaries.sh), so
 * the API server validates the chart's optional ServiceMonitor too.
 */
async function installServiceMonitorCrd(): Promise<void> {
  const crds = readCrds([join(findBinaries().assets, "servicemonitors.yaml")]);
  const names = crds.map((c) => c.metadata?.name ?? "");
  const existing = await kubeConfig()
    .makeApiClient(ApiextensionsV1Api)
    .listCustomResourceDefinition();
  if (names.every((n) => existing.items.some((c) => c.metadata?.name === n))) return;
  await installCrds(kubeConfig(), crds);
}

interface Subject {
  user: string;
  groups: string[];
}

function serviceAccount(namespace: string, name: string): Subject {
  return {
    user: `system:serviceaccount:${namespace}:${name}`,
    groups: [
      "system:serviceaccounts",
      `system:serviceaccounts:${namespace}`,
      "system:authenticated",
    ],
  };
}

interface Access {
  verb: string;
  group?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** What the API server's authorizer answers for `subject` (a SubjectAccessReview). */
async function may(subject: Subject, access: Access): Promise<boolean> {
  const review = await kubeConfig()
    .makeApiClient(AuthorizationV1Api)
    .createSubjectAccessReview({
      body: Object.assign(new V1SubjectAccessReview(), {
        spec: {
          user: subject.user,
          groups: subject.groups,
          resourceAttributes: { group: "", ...access },
        },
      }),
    });
  return review.status?.allowed ?? false;
}

function describeAccess(a: Access): string {
  const resource = `${a.group ? `${a.group}/` : ""}${a.resource}${a.subresource ? `/${a.subresource}` : ""}`;
  return `${a.verb} ${resource}${a.name ? ` ${a.name}` : ""} in ${a.namespace ?? "(cluster)"}`;
}

/** Asks every question, and fails listing each answer that was not the expected one. */
async function expectAccess(
  t: TestContext,
  who: string,
  subject: Subject,
  cases: readonly [Access, boolean][],
): Promise<void> {
  const wrong: string[] = [];
  const lines: string[] = [];
  for (const [access, expected] of cases) {
    const answer = await may(subject, access);
    lines.push(`${who}: ${describeAccess(access)} → ${answer ? "allowed" : "denied"}`);
    if (answer !== expected)
      wrong.push(`${describeAccess(access)}: ${answer ? "allowed" : "denied"}`);
  }
  for (const line of lines) t.diagnostic(line);
  console.log(lines.map((l) => `[chart e2e] ${l}`).join("\n"));
  assert.deepEqual(wrong, [], `${who} got unexpected answers`);
}

/** Namespaces named by their part in the test (release, watched, other), so reports read well. */
async function createNamespaces(t: TestContext, ...roles: string[]): Promise<string[]> {
  const names: string[] = [];
  for (const role of roles) names.push(await testNamespace(t, `chart-${role}`));
  return names;
}

async function deployment(namespace: string, name: string): Promise<V1Deployment> {
  return kubeConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
}

function available(d: V1Deployment): boolean {
  return (
    d.status?.conditions?.some((c) => c.type === "Available" && c.status === "True") === true &&
    (d.status.availableReplicas ?? 0) === (d.spec?.replicas ?? -1) &&
    d.status.observedGeneration === d.metadata?.generation
  );
}

describe("charts/aviary", { timeout: 300_000 }, () => {
  test("helm lint --strict passes for the default values and with every option on", async () => {
    await helmOk(["lint", "--strict", CHART_DIR]);
    const file = valuesFile({ ...EVERYTHING_ON, ...NAMESPACED("team-a", "team-b") });
    try {
      await helmOk(["lint", "--strict", CHART_DIR, "-f", file.path]);
    } finally {
      file.remove();
    }
  });

  test("values.schema.json rejects a misspelt key and a bad value, naming them", async () => {
    const typo = await helm(["template", "x", CHART_DIR, "--set", "controller.replicass=2"]);
    assert.notEqual(typo.code, 0);
    assert.match(typo.stderr, /replicass/);
    const level = await helm(["template", "x", CHART_DIR, "--set", "controller.logLevel=loud"]);
    assert.notEqual(level.code, 0);
    assert.match(level.stderr, /logLevel/);
    const single = await helm([
      "template",
      "x",
      CHART_DIR,
      "--set",
      "controller.leaderElect=false",
    ]);
    assert.notEqual(single.code, 0);
    assert.match(single.stderr, /replicas to 1/);
  });

  test("deploy/rbac.yaml is what the chart renders (npm run gen:rbac)", async () => {
    assert.ok(
      readFileSync(DEPLOY_RBAC_FILE, "utf8") === (await renderDeployRbac()),
      "deploy/rbac.yaml is stale: run npm run gen:rbac",
    );
  });

  test("the default and the namespaced rendering are accepted by a server-side dry-run", async (t) => {
    const [release, a, b] = await createNamespaces(t, "release", "watched", "watched");
    assert.ok(release && a && b);
    await installServiceMonitorCrd();
    for (const [mode, values] of [
      ["default", {}],
      ["namespaced", NAMESPACED(a, b)],
      ["namespaced, every option", { ...EVERYTHING_ON, ...NAMESPACED(a, b) }],
    ] as const) {
      const objects = await renderChart(releaseName(), release, values, ["--include-crds"]);
      const counts = countByKind(objects);
      const line = `${mode}: ${objects.length} objects ${JSON.stringify(counts)}`;
      t.diagnostic(line);
      console.log(`[chart e2e] rendered ${line}`);
      assert.deepEqual(await dryRunApply(objects), [], `${mode}: every object is accepted`);
      assert.equal(counts.CustomResourceDefinition, 2);
      assert.equal(counts.Deployment, 1);
      assert.equal(counts.PodDisruptionBudget, 1);
      if (mode === "default") {
        assert.equal(counts.ClusterRole, 4, "controller + view/steer/edit");
        assert.equal(counts.Role, 1, "leader election only");
      } else {
        assert.equal(counts.ClusterRole, 3, "no controller ClusterRole, only view/steer/edit");
        assert.equal(counts.Role, 3, "one per watched namespace + leader election");
        assert.equal(counts.ClusterRoleBinding, undefined);
      }
    }
  });

  test("helm install makes the controller Available under the restricted Pod Security level; upgrade and uninstall work; CRDs stay", async (t) => {
    const [ns] = await createNamespaces(t, "release");
    assert.ok(ns);
    const core = kubeConfig().makeApiClient(CoreV1Api);
    await core.patchNamespace(
      {
        name: ns,
        body: { metadata: { labels: { "pod-security.kubernetes.io/enforce": "restricted" } } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const release = releaseName();
    t.after(async () => {
      await helm(["uninstall", release, "-n", ns]);
    });
    await helmOk(["install", release, CHART_DIR, "-n", ns, "--wait", "--timeout", "120s"]);
    const installed = await eventually(
      "the controller Deployment is Available",
      () => deployment(ns, release),
      available,
      (d) => d.status,
      60_000,
    );
    assert.equal(installed.spec?.replicas, 2);
    const pods = await core.listNamespacedPod({
      namespace: ns,
      labelSelector: `app.kubernetes.io/instance=${release}`,
    });
    assert.equal(pods.items.length, 2, "two controller Pods were admitted as restricted");

    await helmOk([
      "upgrade",
      release,
      CHART_DIR,
      "-n",
      ns,
      "--reuse-values",
      "--set",
      "controller.logLevel=debug",
      "--wait",
      "--timeout",
      "120s",
    ]);
    const upgraded = await eventually(
      "the upgraded Deployment is Available",
      () => deployment(ns, release),
      (d) => available(d) && (d.metadata?.generation ?? 0) > (installed.metadata?.generation ?? 0),
      (d) => d.status,
      60_000,
    );
    const env = upgraded.spec?.template.spec?.containers[0]?.env ?? [];
    assert.equal(env.find((e) => e.name === "AVIARY_LOG_LEVEL")?.value, "debug");
    const history = await helmOk(["history", release, "-n", ns, "-o", "json"]);
    assert.equal((JSON.parse(history) as unknown[]).length, 2);

    await helmOk(["uninstall", release, "-n", ns, "--wait", "--timeout", "120s"]);
    await assert.rejects(deployment(ns, release), "the Deployment is gone");
    const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await assert.rejects(rbac.readClusterRole({ name: `${release}-controller` }));
    await assert.rejects(rbac.readClusterRole({ name: `${release}-steer` }));
    await assert.rejects(core.readNamespacedServiceAccount({ name: release, namespace: ns }));
    const crds = KubernetesObjectApi.makeApiClient(kubeConfig());
    for (const name of ["rollouts.aviary.dev", "metrictemplates.aviary.dev"]) {
      const crd = await crds.read({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name },
      });
      assert.equal(crd.metadata?.name, name, "Helm keeps the CRDs on uninstall");
    }
  });

  test("namespaced mode: with the chart's Role, the controller releases in its namespaces and leaves the others alone", async (t) => {
    const [ns, a, b, other] = await createNamespaces(t, "release", "watched", "watched", "other");
    assert.ok(ns && a && b && other);
    const release = releaseName();
    t.after(async () => {
      await helm(["uninstall", release, "-n", ns]);
    });
    const file = valuesFile(NAMESPACED(a, b));
    try {
      await helmOk(["install", release, CHART_DIR, "-n", ns, "-f", file.path]);
    } finally {
      file.remove();
    }
    for (const namespace of [a, b, other]) {
      await createServices(namespace, ["api-stable", "api-canary"]);
      await createRollout(
        namespace,
        {
          replicas: 1,
          strategy: { canary: { stableService: "api-stable", canaryService: "api-canary" } },
        },
        "api:1",
      );
    }
    const kc = await serviceAccountKubeConfig(ns, release);
    await controller(t, a, {
      namespace: undefined,
      namespaces: [a, b],
      kubeConfig: kc,
      leaderElection: { namespace: ns, identity: "namespaced-test" },
    });
    for (const namespace of [a, b])
      await untilStatus(namespace, `Healthy in ${namespace}`, (s) => s.phase === "Healthy");
    assert.deepEqual(
      await status(other),
      {},
      "a Rollout outside the watched namespaces is not touched",
    );
    await helmOk(["uninstall", release, "-n", ns]);
  });

  test("SubjectAccessReviews: the controller reads only Secrets by name, writes nothing outside its namespaces, and view cannot steer", async (t) => {
    const [ns, a, b, other] = await createNamespaces(t, "release", "watched", "watched", "other");
    assert.ok(ns && a && b && other);
    const cluster = releaseName();
    const namespaced = releaseName();
    t.after(async () => {
      await helm(["uninstall", cluster, "-n", ns]);
      await helm(["uninstall", namespaced, "-n", ns]);
    });
    await helmOk(["install", cluster, CHART_DIR, "-n", ns, "--set", "rbac.peopleRoles=true"]);
    const file = valuesFile({
      ...NAMESPACED(a, b),
      rbac: { peopleRoles: false, secretNames: ["slack-webhook"] },
    });
    try {
      await helmOk(["install", namespaced, CHART_DIR, "-n", ns, "-f", file.path]);
    } finally {
      file.remove();
    }
    const objects = KubernetesObjectApi.makeApiClient(kubeConfig());
    // People: a view, a steer and an edit binding in namespace a, and the built-in view role.
    for (const [user, role] of [
      ["viewer", `${cluster}-view`],
      ["steerer", `${cluster}-steer`],
      ["editor", `${cluster}-edit`],
      ["builtin-viewer", "view"],
      ["builtin-editor", "edit"],
    ] as const) {
      await objects.create({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: user, namespace: a },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
      });
    }
    const person = (user: string): Subject => ({ user, groups: ["system:authenticated"] });
    // The authorizer learns of new bindings through its own watch.
    await eventually(
      "the bindings are in force",
      () =>
        may(person("builtin-editor"), {
          verb: "patch",
          group: "aviary.dev",
          resource: "rollouts",
          subresource: "status",
          namespace: a,
        }),
      (yes) => yes,
    );
    const status = { group: "aviary.dev", resource: "rollouts", subresource: "status" };
    const rollouts = { group: "aviary.dev", resource: "rollouts" };

    await expectAccess(t, "controller (cluster-wide)", serviceAccount(ns, cluster), [
      [{ verb: "patch", ...status, namespace: other }, true],
      [{ verb: "watch", ...rollouts }, true],
      [{ verb: "create", group: "apps", resource: "replicasets", namespace: other }, true],
      [{ verb: "get", resource: "secrets", namespace: other, name: "slack-webhook" }, true],
      [{ verb: "list", resource: "secrets", namespace: other }, false],
      [{ verb: "watch", resource: "secrets" }, false],
      [{ verb: "create", resource: "secrets", namespace: other }, false],
      // Patch on rollouts is for Aviary's finalizer only; never update or delete a Rollout.
      [{ verb: "patch", ...rollouts, namespace: other }, true],
      [{ verb: "update", ...rollouts, namespace: other }, false],
      [{ verb: "delete", ...rollouts, namespace: other }, false],
      [{ verb: "delete", resource: "services", namespace: other }, false],
      [{ verb: "create", group: "apps", resource: "deployments", namespace: other }, false],
      [{ verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: ns }, true],
      [
        { verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: other },
        false,
      ],
    ]);
    await expectAccess(t, "controller (namespaced)", serviceAccount(ns, namespaced), [
      [{ verb: "watch", ...rollouts, namespace: a }, true],
      [{ verb: "patch", ...status, namespace: b }, true],
      [
        { verb: "patch", group: "networking.istio.io", resource: "virtualservices", namespace: a },
        true,
      ],
      [{ verb: "get", resource: "secrets", namespace: a, name: "slack-webhook" }, true],
      [{ verb: "get", resource: "secrets", namespace: a, name: "database-password" }, false],
      [{ verb: "watch", ...rollouts }, false],
      [{ verb: "patch", ...status, namespace: other }, false],
      [{ verb: "create", group: "apps", resource: "replicasets", namespace: other }, false],
      [{ verb: "patch", resource: "services", namespace: other }, false],
      [{ verb: "create", resource: "events", namespace: other }, false],
      [
        {
          verb: "patch",
          group: "networking.istio.io",
          resource: "virtualservices",
          namespace: other,
        },
        false,
      ],
      [{ verb: "get", resource: "secrets", namespace: other, name: "slack-webhook" }, false],
      [{ verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: ns }, true],
      [{ verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: a }, false],
    ]);
    await expectAccess(t, "aviary-view", person("viewer"), [
      [{ verb: "get", ...rollouts, namespace: a }, true],
      [{ verb: "patch", ...status, namespace: a }, false],
      [{ verb: "patch", ...rollouts, namespace: a }, false],
    ]);
    await expectAccess(t, "aviary-steer", person("steerer"), [
      [{ verb: "patch", ...status, namespace: a }, true],
      [{ verb: "patch", ...rollouts, namespace: a }, false],
      [{ verb: "patch", ...status, namespace: b }, false],
    ]);
    await expectAccess(t, "aviary-edit", person("editor"), [
      [{ verb: "patch", ...rollouts, namespace: a }, true],
      [{ verb: "create", group: "aviary.dev", resource: "metrictemplates", namespace: a }, true],
      [{ verb: "patch", ...status, namespace: a }, false],
    ]);
    await expectAccess(t, "built-in view (aggregated)", person("builtin-viewer"), [
      [{ verb: "list", ...rollouts, namespace: a }, true],
      [{ verb: "patch", ...status, namespace: a }, false],
    ]);
    await expectAccess(t, "built-in edit (aggregated)", person("builtin-editor"), [
      [{ verb: "patch", ...rollouts, namespace: a }, true],
      [{ verb: "patch", ...status, namespace: a }, true],
    ]);
    // Before the namespaces go (their after hooks run first): Helm keeps releases there.
    await helmOk(["uninstall", cluster, "-n", ns]);
    await helmOk(["uninstall", namespaced, "-n", ns]);
  });
});
