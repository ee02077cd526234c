import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CoordinationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { CHART_DIR, helm, helmOk, parseManifests } from "../harness/helm.ts";
import {
  buildProductionLayout,
  imageRecipe,
  LAID_OUT,
  makeReadOnly,
  makeWritable,
  strayDevDependencies,
  type ProductionLayout,
} from "../harness/production-layout.ts";
import { serviceAccountKubeConfig } from "../harness/service-account.ts";
import {
  createIstioCanary,
  setImage,
  untilStatus,
  virtualServiceWeights,
} from "./controller-fixtures.ts";

/**
 * The image without an image engine: the Dockerfile's final-stage layout (production
 * dependencies + dist/), run with the Dockerfile's ENTRYPOINT and exactly the command, args
 * and env the chart's Deployment renders, as the image's UID, on a read-only tree, with the
 * chart's ServiceAccount token, until a canary release completes.
 */

const recipe = imageRecipe();

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
  };
}

/** The parts of the rendered Deployment a container runtime reads. */
interface RenderedDeployment {
  kind: string;
  spec: {
    template: {
      spec: {
        serviceAccountName?: string;
        securityContext?: { runAsUser?: number };
        containers: {
          command?: string[];
          args?: string[];
          env?: EnvVar[];
          securityContext?: { readOnlyRootFilesystem?: boolean };
        }[];
      };
    };
  };
}
let layout: ProductionLayout;
let workdir: string;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === "object" && address !== null ? address.port : 0);
      });
    });
  });
}

/** What the kubelet would give the container: values, downward API fields and Secret keys. */
async function resolveEnv(
  env: readonly EnvVar[],
  pod: { name: string; namespace: string },
): Promise<Record<string, string>> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") out[e.name] = pod.name;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") out[e.name] = pod.namespace;
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const secret = await core.readNamespacedSecret({
        name: ref.name,
        namespace: pod.namespace,
      });
      out[e.name] = Buffer.from(secret.data?.[ref.key] ?? "", "base64").toString();
    } else throw new Error(`the test cannot resolve env ${e.name}: ${JSON.stringify(e.valueFrom)}`);
  }
  return out;
}

function output(child: ChildProcess): () => string {
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return () => text.slice(-4000);
}

describe(
  "the production layout runs the controller as the chart deploys it",
  { timeout: 400_000 },
  () => {
    before(async () => {
      workdir = mkdtempSync(join(tmpdir(), "aviary-image-"));
      chmodSync(workdir, 0o755);
      layout = await buildProductionLayout(workdir);
      const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
      console.log(
        `[production layout] ${layout.dependencies} production dependencies, ` +
          `node_modules ${mb(layout.dependencyBytes)} MB, dist ${mb(layout.distBytes)} MB`,
      );
    });
    after(() => {
      makeWritable(workdir);
      rmSync(workdir, { recursive: true, force: true });
    });

    test("the layout holds what the Dockerfile's final stage copies, and no dev dependency", () => {
      assert.deepEqual([...recipe.copies].sort(), [...LAID_OUT].sort());
      assert.equal(recipe.entrypoint[0], "node");
      assert.match(recipe.user, /^\d+:\d+$/, "a fixed numeric UID:GID");
      assert.ok(layout.dependencies > 0);
      assert.deepEqual(strayDevDependencies(join(workdir, "node_modules")), [], "no devDependency");
      for (const tool of ["typescript", "tsx"])
        assert.ok(!existsSync(join(workdir, "node_modules", tool)), `${tool} is not installed`);
    });

    test("with the chart's ServiceAccount token, command, args and env, a canary release completes", async (t) => {
      const releaseNs = await testNamespace(t, "prod-release");
      const appNs = await testNamespace(t, "prod-app");
      const release = `aviary-${Math.random().toString(36).slice(2, 7)}`;
      const port = await freePort();
      t.after(async () => {
        await helm(["uninstall", release, "-n", releaseNs]);
      });
      // A free port instead of 8080: other processes on this machine may hold that one.
      await helmOk([
        "install",
        release,
        CHART_DIR,
        "-n",
        releaseNs,
        "--set",
        `controller.metricsPort=${String(port)}`,
        "--set",
        "controller.logLevel=info",
      ]);
      const manifest = parseManifests(await helmOk(["get", "manifest", release, "-n", releaseNs]));
      const deployment = (manifest as unknown as RenderedDeployment[]).find(
        (o) => o.kind === "Deployment",
      );
      const pod = deployment?.spec.template.spec;
      const container = pod?.containers[0];
      assert.ok(pod && container, "the chart renders a controller container");
      const securityContext = container.securityContext;
      assert.equal(securityContext?.readOnlyRootFilesystem, true);
      assert.equal(
        String(pod.securityContext?.runAsUser),
        recipe.user.split(":")[0],
        "the chart runs the image's UID",
      );

      // The image runs ENTRYPOINT + args unless the chart sets command; `node` is Node 24 here too.
      const command = container.command ?? recipe.entrypoint;
      const argv = [...command.slice(1), ...(container.args ?? [])];
      const podName = `${release}-7d9f8-abcde`;
      const env = await resolveEnv(container.env ?? [], { name: podName, namespace: releaseNs });
      const serviceAccount = pod.serviceAccountName ?? "default";
      const tokenDir = mkdtempSync(join(tmpdir(), "aviary-token-"));
      chmodSync(tokenDir, 0o755);
      t.after(() => rmSync(tokenDir, { recursive: true, force: true }));
      const kubeconfig = join(tokenDir, "kubeconfig");
      writeFileSync(
        kubeconfig,
        (await serviceAccountKubeConfig(releaseNs, serviceAccount)).exportConfig(),
        {
          mode: 0o644,
        },
      );
      makeReadOnly(workdir);

      const [uid, gid] = recipe.user.split(":").map(Number);
      const asRoot = process.getuid?.() === 0;
      const child = spawn(process.execPath, argv, {
        cwd: workdir,
        env: {
          // The image's ENV, then what the chart's container sets.
          ...recipe.env,
          ...env,
          KUBECONFIG: kubeconfig,
          PATH: dirname(process.execPath),
          HOME: "/nonexistent",
        },
        stdio: ["ignore", "pipe", "pipe"],
        ...(asRoot ? { uid, gid } : {}),
      });
      const logs = output(child);
      const exited = new Promise<number | null>((resolve) =>
        child.on("exit", (code) => resolve(code)),
      );
      t.after(() => {
        if (child.exitCode === null) child.kill("SIGKILL");
      });
      t.diagnostic(`ran: node ${argv.join(" ")} (uid ${asRoot ? String(uid) : "unchanged"})`);

      const url = `http://127.0.0.1:${String(port)}`;
      await eventually(
        "the controller is ready",
        async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status,
        (s) => s === 200,
        (s) => [s, logs()],
        60_000,
      );
      const lease = await eventually(
        "it holds the Lease in its own namespace as its pod",
        () =>
          kubeConfig()
            .makeApiClient(CoordinationV1Api)
            .readNamespacedLease({ name: "aviary-controller", namespace: releaseNs })
            .catch(() => undefined),
        (l) => l?.spec?.holderIdentity === podName,
        (l) => [l?.spec, logs()],
      );
      assert.ok(lease);

      await createIstioCanary(appNs, {
        scaleDownDelaySeconds: 1,
        steps: [{ setWeight: 25 }, { pause: { duration: "1s" } }, { setWeight: 50 }],
      });
      const v1 = await untilStatus(appNs, "v1 Healthy", (s) => s.phase === "Healthy");
      await setImage(appNs, "api:2");
      const v2 = await untilStatus(
        appNs,
        "the canary release completes",
        (s) => s.phase === "Healthy" && s.stableHash !== v1.stableHash,
      );
      assert.deepEqual(await virtualServiceWeights(appNs), [100, 0]);
      assert.ok(v2.stableHash);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /^aviary_controller_leader 1$/m);

      child.kill("SIGTERM");
      assert.equal(await exited, 0, `the controller exits cleanly on SIGTERM:\n${logs()}`);
      const released = await kubeConfig()
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: "aviary-controller", namespace: releaseNs });
      assert.notEqual(
        released.spec?.holderIdentity,
        podName,
        "it released the Lease on the way out",
      );
      await helmOk(["uninstall", release, "-n", releaseNs]);
    });
  },
);
