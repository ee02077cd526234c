import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  setHeaderOptions,
  type KubernetesObject,
} from "@kubernetes/client-node";
import type { RolloutStatus } from "../../src/api/rollout.ts";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { serviceAccountKubeConfig } from "../harness/service-account.ts";
import { REPO_ROOT } from "../harness/testenv.ts";

const ROLLOUTS = { group: "aviary.dev", version: "v1alpha1", plural: "rollouts" } as const;
const NAME = "api-service";

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process, as a person or a CI job would. */
function aviary(
  args: readonly string[],
  kubeconfigPath: string,
  onStarted?: () => void,
  /** Called every 200 ms while the CLI runs (to answer as the controller would). */
  onTick?: () => Promise<void>,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const ticker = onTick === undefined ? undefined : setInterval(() => void onTick(), 200);
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, KUBECONFIG: kubeconfigPath },
    });
    let stdout = "";
    let stderr = "";
    let started = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      // `status --watch` prints the full status and a blank line before it starts polling.
      if (!started && onStarted !== undefined && stdout.includes("\n\n")) {
        started = true;
        onStarted();
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(ticker);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A kubeconfig file for the test cluster, removed when the test ends. */
function kubeconfigFile(t: TestContext, kc: KubeConfig): string {
  const dir = mkdtempSync(join(tmpdir(), "aviary-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "kubeconfig");
  writeFileSync(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}

/** The example Istio Rollout in `namespace`, with a status the controller would have written. */
async function createRollout(namespace: string): Promise<void> {
  const objects = loadAllYaml(
    readFileSync(join(REPO_ROOT, "examples/istio-canary.yaml"), "utf8"),
  ) as KubernetesObject[];
  const rollout = objects.find((o) => o.kind === "Rollout");
  assert.ok(rollout?.metadata);
  rollout.metadata.namespace = namespace;
  const api = kubeConfig().makeApiClient(CustomObjectsApi);
  await api.createNamespacedCustomObject({ ...ROLLOUTS, namespace, body: rollout });
  await patchStatus(namespace, {
    phase: "Paused",
    message: "waiting for promote at step 2",
    currentStepIndex: 1,
    canaryWeight: 10,
    stableHash: "5d8f7c9b4",
    canaryHash: "6c7b9f8d5",
    analysis: {
      verdict: "Running",
      startedAt: "2026-01-01T00:00:00Z",
      conclusiveSeconds: 60,
      samples: 4,
      metrics: [
        {
          name: "success-rate",
          verdict: "Running",
          canary: 99.42,
          stable: 99.71,
          evidence: 3.5,
          bound: 100,
        },
      ],
    },
  });
}

async function patchStatus(namespace: string, status: RolloutStatus): Promise<void> {
  await kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .patchNamespacedCustomObjectStatus(
      { ...ROLLOUTS, namespace, name: NAME, body: { status } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
}

async function readStatus(namespace: string): Promise<RolloutStatus> {
  const object = (await kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ ...ROLLOUTS, namespace, name: NAME })) as {
    status?: RolloutStatus;
    metadata: { generation: number };
  };
  return object.status ?? {};
}

/**
 * A kubeconfig for a ServiceAccount of `namespace` with a token from the TokenRequest API,
 * bound to a Role allowing only `rules` (none: no Role at all).
 */
async function serviceAccountKubeconfig(
  t: TestContext,
  namespace: string,
  name: string,
  rules: object[],
): Promise<string> {
  const admin = kubeConfig();
  const objects = KubernetesObjectApi.makeApiClient(admin);
  await objects.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } });
  if (rules.length > 0) {
    const rbac = "rbac.authorization.k8s.io";
    const role = { apiVersion: `${rbac}/v1`, kind: "Role", metadata: { name, namespace }, rules };
    const binding = {
      apiVersion: `${rbac}/v1`,
      kind: "RoleBinding",
      metadata: { name, namespace },
      roleRef: { apiGroup: rbac, kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    };
    await objects.create(role);
    await objects.create(binding);
  }
  const kc = await serviceAccountKubeConfig(namespace, name);
  return kubeconfigFile(t, kc);
}

describe("aviary CLI against a real API server", () => {
  test("promote writes status.command and leaves the rest of status as it was", async (t) => {
    const namespace = await testNamespace(t, "cli");
    await createRollout(namespace);
    const before = await readStatus(namespace);

    const result = await aviary(
      ["promote", NAME, "-n", namespace],
      kubeconfigFile(t, kubeConfig()),
    );

    assert.equal(result.code, 0, result.stderr);
    const status = await readStatus(namespace);
    assert.equal(status.command?.name, "promote");
    assert.match(status.command?.id ?? "", /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    assert.equal(status.command?.requestedBy, "admin");
    assert.match(
      result.stdout,
      new RegExp(
        `promote requested for ${namespace}/${NAME} \\(id ${status.command?.id ?? "?"}\\)`,
      ),
    );
    const { command: _command, ...rest } = status;
    assert.deepEqual(rest, before);
  });

  test("each request gets a new id; promote --full and abort name their command", async (t) => {
    const namespace = await testNamespace(t, "cli");
    await createRollout(namespace);
    const kubeconfig = kubeconfigFile(t, kubeConfig());

    assert.equal((await aviary(["promote", "--full", NAME, "-n", namespace], kubeconfig)).code, 0);
    const first = (await readStatus(namespace)).command;
    assert.equal((await aviary(["abort", NAME, "--namespace", namespace], kubeconfig)).code, 0);
    const second = (await readStatus(namespace)).command;

    assert.equal(first?.name, "promoteFull");
    assert.equal(second?.name, "abort");
    assert.notEqual(first?.id, second?.id);
  });

  test("status prints phase, step, weight, versions and per-metric analysis", async (t) => {
    const namespace = await testNamespace(t, "cli");
    await createRollout(namespace);

    const result = await aviary(["status", NAME, "-n", namespace], kubeconfigFile(t, kubeConfig()));

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /phase:\s+Paused/);
    assert.match(result.stdout, /step:\s+2\/8/);
    assert.match(result.stdout, /weight:\s+10%/);
    assert.match(result.stdout, /stable:\s+5d8f7c9b4/);
    assert.match(result.stdout, /canary:\s+6c7b9f8d5/);
    assert.match(result.stdout, /message:\s+waiting for promote at step 2/);
    assert.match(result.stdout, /success-rate\s+99\.42\s+99\.71\s+3\.5\/100\s+Running/);
  });

  test("list shows the namespace's Rollouts as a table", async (t) => {
    const namespace = await testNamespace(t, "cli");
    await createRollout(namespace);

    const result = await aviary(["list", "-n", namespace], kubeconfigFile(t, kubeConfig()));

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^NAME\s+STRATEGY\s+PHASE\s+STEP\s+WEIGHT\s+AGE$/m);
    assert.match(result.stdout, /^api-service\s+canary\s+Paused\s+2\/8\s+10%\s+\d+s$/m);
  });

  test("a missing Rollout gives a readable error and exit code 1", async (t) => {
    const namespace = await testNamespace(t, "cli");
    const kubeconfig = kubeconfigFile(t, kubeConfig());

    for (const args of [
      ["promote", "nope"],
      ["status", "nope"],
    ]) {
      const result = await aviary([...args, "-n", namespace], kubeconfig);
      assert.equal(result.code, 1);
      assert.equal(result.stderr, `aviary: rollout nope not found in namespace ${namespace}\n`);
    }
  });

  test("a user allowed only `patch rollouts/status` can promote; one without it is told what is missing", async (t) => {
    const namespace = await testNamespace(t, "cli");
    await createRollout(namespace);
    const steerer = await serviceAccountKubeconfig(t, namespace, "steerer", [
      { apiGroups: ["aviary.dev"], resources: ["rollouts/status"], verbs: ["patch"] },
    ]);
    const stranger = await serviceAccountKubeconfig(t, namespace, "stranger", []);

    const allowed = await aviary(["promote", NAME], steerer);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal((await readStatus(namespace)).command?.requestedBy, "steerer");

    const denied = await aviary(["abort", NAME], stranger);
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      /may not patch rollouts\/status in namespace .*verb "patch" on resource "rollouts\/status" in API group "aviary\.dev"/,
    );
    assert.equal((await readStatus(namespace)).command?.name, "promote");
  });

  test("get --watch for a user who may read only Rollouts shows the Rollout and says what it leaves out", async (t) => {
    const namespace = await testNamespace(t, "cli");
    await createRollout(namespace);
    const reader = await serviceAccountKubeconfig(t, namespace, "rollout-reader", [
      { apiGroups: ["aviary.dev"], resources: ["rollouts"], verbs: ["get", "list", "watch"] },
    ]);
    const getter = await serviceAccountKubeconfig(t, namespace, "rollout-getter", [
      { apiGroups: ["aviary.dev"], resources: ["rollouts"], verbs: ["get"] },
    ]);

    // Piped, so one line per change; it used to wait for ReplicaSets and Events forever.
    const result = await aviary(
      ["get", NAME, "--watch", "--timeout", "8s"],
      reader,
      undefined,
      () =>
        patchStatus(namespace, {
          phase: "Healthy",
          message: "6c7b9f8d5 is stable",
          canaryWeight: 0,
        }),
    );
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.match(
      lines[0] ?? "",
      new RegExp(
        `note: ReplicaSets and Events not shown: you may not list and watch them in namespace ${namespace}`,
      ),
    );
    assert.ok(
      lines.some((line) => /Healthy \| .*: 6c7b9f8d5 is stable/.test(line)),
      `a line follows the Rollout to Healthy:\n${result.stdout}`,
    );

    const refused = await aviary(["get", NAME, "--watch", "--timeout", "8s"], getter);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `--watch follows the Rollout with list and watch, which you may not do on rollouts in namespace ${namespace}; drop --watch`,
      ),
    );
    const once = await aviary(["get", NAME], getter);
    assert.equal(once.code, 0, once.stderr);

    // RBAC's resourceNames can allow this one Rollout alone: its watch selects it by name.
    const named = await serviceAccountKubeconfig(t, namespace, "named-reader", [
      {
        apiGroups: ["aviary.dev"],
        resources: ["rollouts"],
        resourceNames: [NAME],
        verbs: ["get", "list", "watch"],
      },
    ]);
    const one = await aviary(["get", NAME, "--watch", "--timeout", "8s"], named);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /Healthy \| .*: 6c7b9f8d5 is stable/);
  });

  test("status --watch exits 0 once the Rollout becomes Healthy", async (t) => {
    const namespace = await testNamespace(t, "cli");
    await createRollout(namespace);

    const result = await aviary(
      ["status", NAME, "-n", namespace, "--watch", "--timeout", "60s"],
      kubeconfigFile(t, kubeConfig()),
      () => {
        void patchStatus(namespace, {
          phase: "Healthy",
          message: "6c7b9f8d5 is stable",
          canaryWeight: 0,
        });
      },
    );

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Healthy step 2\/8 weight 0%: 6c7b9f8d5 is stable/);
    assert.match(result.stdout, new RegExp(`${namespace}/${NAME} is Healthy`));
  });

  test("status --watch exits 1 when the Rollout is Aborted and 2 on timeout", async (t) => {
    const namespace = await testNamespace(t, "cli");
    await createRollout(namespace);
    const kubeconfig = kubeconfigFile(t, kubeConfig());

    const timedOut = await aviary(
      ["status", NAME, "-n", namespace, "-w", "--timeout", "2s"],
      kubeconfig,
    );
    assert.equal(timedOut.code, 2);
    assert.match(timedOut.stderr, /timed out waiting for .*; it is still Paused/);

    await patchStatus(namespace, { phase: "Aborted", message: "success-rate failed" });
    const aborted = await aviary(["status", NAME, "-n", namespace, "-w"], kubeconfig);
    assert.equal(aborted.code, 1);
    assert.match(aborted.stderr, /is Aborted: success-rate failed/);
  });

  test("promote and abort on a Healthy Rollout are refused in one sentence, and nothing is written", async (t) => {
    const namespace = await testNamespace(t, "cli");
    await createRollout(namespace);
    await patchStatus(namespace, {
      phase: "Healthy",
      stableHash: "6c7b9f8d5",
      canaryHash: "6c7b9f8d5",
      canaryWeight: 0,
    });
    const kubeconfig = kubeconfigFile(t, kubeConfig());
    const promote = await aviary(["promote", NAME, "-n", namespace], kubeconfig);
    assert.equal(promote.code, 1);
    assert.equal(
      promote.stderr,
      `aviary: nothing to promote: rollout ${NAME} is Healthy with no release in progress\n`,
    );
    const abort = await aviary(["abort", NAME, "-n", namespace], kubeconfig);
    assert.equal(abort.code, 1);
    assert.match(abort.stderr, /^aviary: nothing to abort: /);
    assert.equal((await readStatus(namespace)).command, undefined);
  });

  test("a steering command prints the controller's answer when it comes", async (t) => {
    const namespace = await testNamespace(t, "cli");
    await createRollout(namespace);
    const kubeconfig = kubeconfigFile(t, kubeConfig());
    let answered = false;
    const result = await aviary(
      ["promote", NAME, "-n", namespace, "--wait", "30s"],
      kubeconfig,
      undefined,
      async () => {
        // What the controller does once it executed the command id.
        if (answered) return;
        const command = (await readStatus(namespace)).command;
        if (command === undefined) return;
        answered = true;
        await patchStatus(namespace, { lastCommandId: command.id });
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /promote requested for .* \(id [^)]+\); the controller executed it\n$/,
    );
  });

  test("set image edits the pod template and says that it edits spec", async (t) => {
    const namespace = await testNamespace(t, "cli");
    await createRollout(namespace);
    const kubeconfig = kubeconfigFile(t, kubeConfig());
    const result = await aviary(
      ["set", "image", NAME, "api=registry.example.com/api-service:2.1.0", "-n", namespace],
      kubeconfig,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /image set \(api=registry\.example\.com\/api-service:2\.1\.0\); this edits spec/,
    );
    const object = (await kubeConfig()
      .makeApiClient(CustomObjectsApi)
      .getNamespacedCustomObject({ ...ROLLOUTS, namespace, name: NAME })) as {
      spec: { template: { spec: { containers: { name: string; image: string }[] } } };
    };
    assert.deepEqual(
      object.spec.template.spec.containers.map((c) => [c.name, c.image]),
      [["api", "registry.example.com/api-service:2.1.0"]],
    );
    const wrong = await aviary(["set", "image", NAME, "web=x:1", "-n", namespace], kubeconfig);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, `aviary: rollout ${NAME} has no container named web (it has api)\n`);
  });

  test("get and list print objects with -o json|yaml; list -A spans namespaces", async (t) => {
    const first = await testNamespace(t, "cli");
    const second = await testNamespace(t, "cli");
    await createRollout(first);
    await createRollout(second);
    const kubeconfig = kubeconfigFile(t, kubeConfig());

    const json = await aviary(["get", NAME, "-n", first, "-o", "json"], kubeconfig);
    assert.equal(json.code, 0, json.stderr);
    const object = JSON.parse(json.stdout) as {
      kind: string;
      metadata: Record<string, unknown>;
      status: RolloutStatus;
    };
    assert.equal(object.kind, "Rollout");
    assert.equal(object.status.phase, "Paused");
    assert.equal(object.metadata.managedFields, undefined);
    const yaml = await aviary(["get", NAME, "-n", first, "-o", "yaml"], kubeconfig);
    assert.match(yaml.stdout, /^kind: Rollout$/m);

    const all = await aviary(["list", "-A"], kubeconfig);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^NAMESPACE\s+NAME\s+STRATEGY\s+PHASE/m);
    for (const ns of [first, second])
      assert.match(all.stdout, new RegExp(`^${ns}\\s+api-service\\s+canary\\s+Paused`, "m"));
    const list = await aviary(["list", "-n", first, "-o", "json"], kubeconfig);
    const parsed = JSON.parse(list.stdout) as {
      kind: string;
      items: { metadata: { namespace: string } }[];
    };
    assert.equal(parsed.kind, "List");
    assert.deepEqual(
      parsed.items.map((i) => i.metadata.namespace),
      [first],
    );
  });

  test("status of a Rollout without analysis says there is none", async (t) => {
    const namespace = await testNamespace(t, "cli");
    const objects = loadAllYaml(
      readFileSync(join(REPO_ROOT, "examples/bluegreen.yaml"), "utf8"),
    ) as KubernetesObject[];
    const rollout = objects.find((o) => o.kind === "Rollout");
    assert.ok(rollout?.metadata);
    rollout.metadata.namespace = namespace;
    await kubeConfig()
      .makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({ ...ROLLOUTS, namespace, body: rollout });
    const result = await aviary(
      ["status", "checkout", "-n", namespace],
      kubeconfigFile(t, kubeConfig()),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Analysis: none \(the Rollout has no analysis\)$/m);
    assert.doesNotMatch(result.stdout, /samples/);
  });
});
