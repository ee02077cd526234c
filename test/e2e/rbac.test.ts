import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  V1ResourceAttributes,
  V1SelfSubjectAccessReview,
  loadAllYaml,
  setHeaderOptions,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { serviceAccountKubeConfig } from "../harness/service-account.ts";
import { eventually } from "../harness/eventually.ts";
import { REPO_ROOT } from "../harness/testenv.ts";
import {
  controller,
  createRollout,
  createServices,
  setImage,
  status,
  untilStatus,
} from "./controller-fixtures.ts";

/**
 * deploy/rbac.yaml (rendered from the chart) on the real API server: the controller runs a
 * whole release with only the aviary-controller ClusterRole and the leader-election Role,
 * and the people roles split steering from editing.
 */

const RBAC = "rbac.authorization.k8s.io";
const ROLLOUT = { group: "aviary.dev", version: "v1alpha1", plural: "rollouts", name: "api" };
const VS = { group: "networking.istio.io", version: "v1", plural: "virtualservices" };
const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/**
 * Server-side apply of every object in deploy/rbac.yaml. The objects are cluster-scoped and
 * other runs may share the cluster: applying is idempotent and keeps them in step with the file.
 */
async function installRbac(): Promise<void> {
  const objects = loadAllYaml(
    readFileSync(join(REPO_ROOT, "deploy/rbac.yaml"), "utf8"),
  ) as KubernetesObject[];
  const client = KubernetesObjectApi.makeApiClient(kubeConfig());
  for (const object of objects) {
    await client.patch(
      object,
      undefined,
      undefined,
      "aviary-e2e-rbac",
      true,
      PatchStrategy.ServerSideApply,
    );
  }
}

/** A person: a ServiceAccount of `namespace` bound there to the ClusterRole `role`. */
async function personBoundTo(namespace: string, name: string, role: string): Promise<KubeConfig> {
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig());
  await objects.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } });
  await objects.create({
    apiVersion: `${RBAC}/v1`,
    kind: "RoleBinding",
    metadata: { name, namespace },
    roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: role },
    subjects: [{ kind: "ServiceAccount", name, namespace }],
  });
  const kc = await serviceAccountKubeConfig(namespace, name);
  // The authorizer learns of new bindings through its own watch: wait until it has.
  await eventually(
    `${name} bound to ${role}`,
    () => allowed(kc, { namespace, group: "aviary.dev", resource: "rollouts", verb: "get" }),
    (yes) => yes,
  );
  return kc;
}

interface Access {
  namespace: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
}

/** What `kubectl auth can-i` asks, as the user of `kc`. */
async function allowed(kc: KubeConfig, access: Access): Promise<boolean> {
  const attributes = Object.assign(new V1ResourceAttributes(), access);
  const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: Object.assign(new V1SelfSubjectAccessReview(), {
      spec: { resourceAttributes: attributes },
    }),
  });
  return review.status?.allowed ?? false;
}

function kubeconfigFile(t: TestContext, kc: KubeConfig): string {
  const dir = mkdtempSync(join(tmpdir(), "aviary-rbac-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "kubeconfig");
  writeFileSync(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real CLI in a child process, as a person or a CI job runs it. */
function aviary(args: readonly string[], kubeconfigPath: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, KUBECONFIG: kubeconfigPath },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function httpCode(error: unknown): unknown {
  return (error as { code?: unknown }).code;
}

async function istioRollout(namespace: string): Promise<void> {
  await createServices(namespace, ["api-stable", "api-canary"]);
  await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "api-vs", namespace },
    spec: {
      hosts: ["api"],
      http: [
        {
          name: "primary",
          route: [
            { destination: { host: "api-stable" }, weight: 100 },
            { destination: { host: "api-canary" }, weight: 0 },
          ],
        },
      ],
    },
  });
  const strategy = {
    canary: {
      stableService: "api-stable",
      canaryService: "api-canary",
      scaleDownDelaySeconds: 2,
      trafficRouting: { istio: { virtualService: { name: "api-vs", routes: ["primary"] } } },
      steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: { duration: "1s" } }],
    },
  };
  await createRollout(namespace, { replicas: 2, strategy }, "api:1");
}

async function weights(namespace: string): Promise<number[]> {
  const custom = kubeConfig().makeApiClient(CustomObjectsApi);
  const vs = (await custom.getNamespacedCustomObject({ ...VS, namespace, name: "api-vs" })) as {
    spec: { http: { route: { weight?: number }[] }[] };
  };
  return vs.spec.http[0]?.route.map((r) => r.weight ?? 0) ?? [];
}

describe("deploy/rbac.yaml on a real API server", { timeout: 150_000 }, () => {
  test("the aviary ServiceAccount runs an Istio canary to Healthy; a steerer promotes it with the CLI", async (t) => {
    await installRbac();
    const ns = await testNamespace(t, "rbac");
    await istioRollout(ns);
    const controllerKc = await serviceAccountKubeConfig("aviary-system", "aviary");
    const steerer = kubeconfigFile(t, await personBoundTo(ns, "steerer", "aviary-steer"));

    // The Lease lives where the role allows it: the controller's own namespace.
    const leaseName = `aviary-rbac-${ns}`;
    const leases = kubeConfig().makeApiClient(CoordinationV1Api);
    const handle = await controller(t, ns, {
      kubeConfig: controllerKc,
      leaderElection: { namespace: "aviary-system", name: leaseName, identity: "rbac-test" },
    });
    await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");
    assert.ok(handle.isLeader());
    const lease = await leases.readNamespacedLease({
      name: leaseName,
      namespace: "aviary-system",
    });
    assert.equal(lease.spec?.holderIdentity, "rbac-test");

    await setImage(ns, "api:2");
    const paused = await untilStatus(
      ns,
      "paused at 25%",
      (s) => s.phase === "Paused" && s.currentStepIndex === 1,
    );
    assert.deepEqual(await weights(ns), [75, 25]);

    const promote = await aviary(["promote", "api", "-n", ns], steerer);
    assert.equal(promote.code, 0, promote.stderr);
    await untilStatus(
      ns,
      "promoted to Healthy",
      (s) => s.phase === "Healthy" && s.stableHash === paused.canaryHash,
    );
    const final = await status(ns);
    assert.equal(final.lastCommandId, final.command?.id, "the steerer's command was executed");
    assert.equal(final.command?.requestedBy, "steerer");
    assert.deepEqual(await weights(ns), [100, 0]);
    const events = await kubeConfig()
      .makeApiClient(CoreV1Api)
      .listNamespacedEvent({ namespace: ns, fieldSelector: "involvedObject.kind=Rollout" });
    assert.ok(
      events.items.some((e) => e.reportingComponent === "aviary-controller"),
      "the controller recorded Events on the Rollout",
    );
  });

  test("aviary-steer may promote but not edit spec; aviary-edit may edit spec but not steer", async (t) => {
    await installRbac();
    const ns = await testNamespace(t, "rbac");
    await createRollout(
      ns,
      {
        replicas: 1,
        strategy: { canary: { stableService: "api-stable", canaryService: "api-canary" } },
      },
      "api:1",
    );
    const steerKc = await personBoundTo(ns, "steerer", "aviary-steer");
    const editKc = await personBoundTo(ns, "editor", "aviary-edit");
    const spec = { ...ROLLOUT, namespace: ns, body: { spec: { progressDeadlineSeconds: 120 } } };

    const promote = await aviary(["promote", "api", "-n", ns], kubeconfigFile(t, steerKc));
    assert.equal(promote.code, 0, promote.stderr);
    await assert.rejects(
      steerKc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(spec, MERGE),
      (error) => httpCode(error) === 403,
      "a steerer must not change the Rollout's spec",
    );

    const edited = (await editKc
      .makeApiClient(CustomObjectsApi)
      .patchNamespacedCustomObject(spec, MERGE)) as { spec: { progressDeadlineSeconds?: number } };
    assert.equal(edited.spec.progressDeadlineSeconds, 120);
    const abort = await aviary(["abort", "api", "-n", ns], kubeconfigFile(t, editKc));
    assert.equal(abort.code, 1);
    assert.match(abort.stderr, /may not patch rollouts\/status/);
    assert.equal((await status(ns)).command?.name, "promote", "the editor's abort did not land");
  });

  test("the controller's role grants no more than it uses", async () => {
    await installRbac();
    const kc = await serviceAccountKubeConfig("aviary-system", "aviary");
    const may = (verb: string, group: string, resource: string, subresource?: string) =>
      allowed(kc, {
        namespace: "default",
        verb,
        group,
        resource,
        ...(subresource ? { subresource } : {}),
      });

    assert.equal(await may("patch", "aviary.dev", "rollouts", "status"), true);
    assert.equal(await may("create", "apps", "replicasets"), true);
    assert.equal(await may("patch", "networking.istio.io", "virtualservices"), true);
    // Patch on rollouts is for Aviary's finalizer (src/kube/finalizer.ts); never update or
    // delete a Rollout, nor read secrets beyond one by name.
    assert.equal(await may("patch", "aviary.dev", "rollouts"), true);
    assert.equal(await may("update", "aviary.dev", "rollouts"), false);
    assert.equal(await may("delete", "aviary.dev", "rollouts"), false);
    assert.equal(await may("list", "", "secrets"), false);
    assert.equal(await may("delete", "", "services"), false);
    assert.equal(await may("create", "apps", "deployments"), false);
    assert.equal(await may("delete", "networking.istio.io", "virtualservices"), false);
    // Leases only in its own namespace, for the leader election.
    assert.equal(await may("create", "coordination.k8s.io", "leases"), false);
    const inOwn = await allowed(kc, {
      namespace: "aviary-system",
      verb: "update",
      group: "coordination.k8s.io",
      resource: "leases",
    });
    assert.equal(inOwn, true);
  });
});
