import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import type { TestenvBinaries } from "./binaries.ts";
import { generateCertificates, type Certificates } from "./certificates.ts";
import { probeOk } from "./http-probe.ts";
import {
  freePort,
  isAlive,
  killGroups,
  lastLogLines,
  startProcess,
  waitUntilHealthy,
  type ManagedProcess,
} from "./processes.ts";

/**
 * A real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, and kwok standing in for kubelets.
 */
export interface ControlPlane {
  apiServerUrl: string;
  kubeconfigPath: string;
  processes: ManagedProcess[];
}

/** The fake node kwok manages; Pods are scheduled onto it and marked Ready. */
export const FAKE_NODE_NAME = "aviary-node-0";

function kubeconfigYaml(server: string, certs: Certificates): string {
  const b64 = (file: string) => readFileSync(file).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: aviary-test",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(certs.caCert)}`,
    "users:",
    "- name: admin",
    "  user:",
    `    client-certificate-data: ${b64(certs.adminCert)}`,
    `    client-key-data: ${b64(certs.adminKey)}`,
    "contexts:",
    "- name: aviary-test",
    "  context: {cluster: aviary-test, user: admin}",
    "current-context: aviary-test",
    "",
  ].join("\n");
}

async function startEtcd(
  bin: TestenvBinaries,
  dir: string,
  logDir: string,
  out: ManagedProcess[],
): Promise<string> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const etcd = startProcess(
    "etcd",
    bin.etcd,
    [
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      // Test data need not survive a power cut; fsync dominates start-up and writes.
      "--unsafe-no-fsync",
    ],
    logDir,
  );
  out.push(etcd);
  await waitUntilHealthy(etcd, () => probeOk(`${client}/health`));
  return client;
}

async function startApiServer(
  bin: TestenvBinaries,
  certs: Certificates,
  etcdUrl: string,
  logDir: string,
  out: ManagedProcess[],
): Promise<string> {
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const args = [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    "--endpoint-reconciler-type=none",
    `--secure-port=${port}`,
    `--tls-cert-file=${certs.servingCert}`,
    `--tls-private-key-file=${certs.servingKey}`,
    `--client-ca-file=${certs.caCert}`,
    // A /20 (4,094 ClusterIPs): bench:scale's 1,000 Rollouts have two Services each.
    // 10.0.0.1, the first address, stays the `kubernetes` Service's (certificates.ts).
    "--service-cluster-ip-range=10.0.0.0/20",
    "--authorization-mode=RBAC",
    "--disable-admission-plugins=ServiceAccount",
    `--service-account-issuer=${url}`,
    `--service-account-key-file=${certs.serviceAccountPub}`,
    `--service-account-signing-key-file=${certs.serviceAccountKey}`,
    "--allow-privileged=true",
  ];
  const apiserver = startProcess("kube-apiserver", bin.kubeApiserver, args, logDir);
  out.push(apiserver);
  const spec: ApiServerSpec = {
    command: bin.kubeApiserver,
    args,
    url,
    pid: apiserver.pid,
    logDir,
    certs: { ca: certs.caCert, cert: certs.adminCert, key: certs.adminKey },
    etcdUrl,
  };
  await waitForApiServer(apiserver, spec);
  writeFileSync(apiServerSpecFile(dirname(logDir)), JSON.stringify(spec, null, 2));
  return url;
}

/**
 * How the kube-apiserver was started, kept in the run dir so any process (a test file
 * run by the global setup, a bench) can restart it the same way: same port, same etcd,
 * same certificates.
 */
interface ApiServerSpec {
  command: string;
  args: string[];
  url: string;
  /** The running process (its group), updated by each restart. */
  pid: number;
  logDir: string;
  certs: { ca: string; cert: string; key: string };
  etcdUrl: string;
}

const apiServerSpecFile = (runDir: string) => join(runDir, "kube-apiserver.json");

function readApiServerSpec(runDir: string): ApiServerSpec {
  return JSON.parse(readFileSync(apiServerSpecFile(runDir), "utf8")) as ApiServerSpec;
}

async function waitForApiServer(proc: ManagedProcess, spec: ApiServerSpec): Promise<void> {
  const tls = {
    ca: readFileSync(spec.certs.ca),
    cert: readFileSync(spec.certs.cert),
    key: readFileSync(spec.certs.key),
  };
  await waitUntilHealthy(proc, () => probeOk(`${spec.url}/readyz`, tls), 90_000);
}

/** The etcd client URL of the control plane started in `runDir`. */
export function etcdUrlOf(runDir: string): string {
  return readApiServerSpec(runDir).etcdUrl;
}

/**
 * Restarts the kube-apiserver of the control plane in `runDir`: SIGTERM (then SIGKILL),
 * `downMs` with no API server, then the same command line again; resolves once it is
 * ready. `whileDown` runs in the gap (e.g. an etcd compaction).
 */
export async function restartApiServer(
  runDir: string,
  options: { downMs?: number; whileDown?: () => Promise<void> } = {},
): Promise<void> {
  const spec = readApiServerSpec(runDir);
  await killGroups([spec.pid]);
  while (isAlive(spec.pid)) await sleep(50);
  await options.whileDown?.();
  await sleep(options.downMs ?? 0);
  const apiserver = startProcess("kube-apiserver", spec.command, spec.args, spec.logDir);
  writeFileSync(apiServerSpecFile(runDir), JSON.stringify({ ...spec, pid: apiserver.pid }));
  await waitForApiServer(apiserver, spec);
}

/**
 * Compacts etcd's history up to its current revision (through the grpc-gateway JSON API),
 * so every watch that resumes from an older resourceVersion gets 410 Gone. Returns the
 * revision compacted to.
 */
export async function compactEtcd(etcdUrl: string): Promise<number> {
  const post = async (path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(`${etcdUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok)
      throw new Error(`etcd ${path}: HTTP ${response.status} ${await response.text()}`);
    return response.json();
  };
  // A range read of one key returns the store's current revision in its header.
  const range = (await post("/v3/kv/range", { key: Buffer.from("/").toString("base64") })) as {
    header?: { revision?: string };
  };
  const revision = Number(range.header?.revision ?? NaN);
  if (!Number.isFinite(revision))
    throw new Error(`etcd returned no revision: ${JSON.stringify(range)}`);
  await post("/v3/kv/compaction", { revision: String(revision), physical: true });
  return revision;
}

async function startControllerManager(
  bin: TestenvBinaries,
  kubeconfig: string,
  logDir: string,
  out: ManagedProcess[],
): Promise<void> {
  const manager = startProcess(
    "kube-controller-manager",
    bin.kubeControllerManager,
    [
      `--kubeconfig=${kubeconfig}`,
      "--controllers=deployment-controller,replicaset-controller,garbage-collector-controller,namespace-controller,clusterrole-aggregation-controller",
      "--leader-elect=false",
      "--secure-port=0",
      // The default 20 requests/s would make Pod churn, not Aviary, the pace of bench:scale.
      "--kube-api-qps=200",
      "--kube-api-burst=400",
    ],
    logDir,
  );
  out.push(manager);
  // It serves no health endpoint with --secure-port=0: staying up for a moment is the check.
  await sleep(500);
  await waitUntilHealthy(manager, () => Promise.resolve(true));
}

async function startScheduler(
  bin: TestenvBinaries,
  kubeconfig: string,
  logDir: string,
  out: ManagedProcess[],
): Promise<void> {
  const port = await freePort();
  const scheduler = startProcess(
    "kube-scheduler",
    bin.kubeScheduler,
    [
      `--kubeconfig=${kubeconfig}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--secure-port=${port}`,
    ],
    logDir,
  );
  out.push(scheduler);
  await waitUntilHealthy(scheduler, () =>
    probeOk(`https://127.0.0.1:${port}/healthz`, { insecure: true }),
  );
}

async function startKwok(
  bin: TestenvBinaries,
  kubeconfig: string,
  logDir: string,
  out: ManagedProcess[],
): Promise<void> {
  const port = await freePort();
  const stages = [
    "kwok-node-initialize.yaml",
    "kwok-pod-ready.yaml",
    "kwok-pod-complete.yaml",
    "kwok-pod-delete.yaml",
  ];
  const kwok = startProcess(
    "kwok",
    bin.kwok,
    [
      `--kubeconfig=${kubeconfig}`,
      `--manage-single-node=${FAKE_NODE_NAME}`,
      `--server-address=127.0.0.1:${port}`,
      "--cidr=10.1.0.0/16",
      "--node-ip=127.0.0.1",
      ...stages.map((file) => `--config=${join(bin.assets, file)}`),
    ],
    logDir,
  );
  out.push(kwok);
  await waitUntilHealthy(kwok, () => probeOk(`http://127.0.0.1:${port}/healthz`));
}

async function createFakeNode(kubeconfigPath: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  // Room for bench:scale's 1,000 Rollouts mid-release (a stable and a canary Pod each).
  const resources = { cpu: "64", memory: "256Gi", pods: "5000" };
  const node = {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: FAKE_NODE_NAME,
      labels: {
        "kubernetes.io/hostname": FAKE_NODE_NAME,
        "kubernetes.io/os": "linux",
        type: "kwok",
      },
      annotations: { "kwok.x-k8s.io/node": "fake" },
    },
    status: { capacity: resources, allocatable: resources },
  };
  const client = KubernetesObjectApi.makeApiClient(kc);
  await client.create(node);
  // The TaintNodesByCondition admission taints new nodes not-ready; the node lifecycle
  // controller that would lift it is not running, so lift it here (it is not re-added).
  await client.patch(
    { apiVersion: "v1", kind: "Node", metadata: { name: FAKE_NODE_NAME }, spec: { taints: [] } },
    undefined,
    undefined,
    "aviary-testenv",
    undefined,
    PatchStrategy.MergePatch,
  );
}

async function waitForNodeReady(
  kubeconfigPath: string,
  kwok: ManagedProcess | undefined,
): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const node = await core.readNode({ name: FAKE_NODE_NAME });
    const ready = (node.status?.conditions ?? []).some(
      (c) => c.type === "Ready" && c.status === "True",
    );
    if (ready && (node.spec?.taints ?? []).length === 0) return;
    if (Date.now() > deadline) {
      const logs = kwok ? `\nLast lines of ${kwok.logFile}:\n${lastLogLines(kwok.logFile)}` : "";
      throw new Error(
        `node ${FAKE_NODE_NAME} is not Ready and untainted after 30s: ${JSON.stringify(node.status?.conditions)}${logs}`,
      );
    }
    await sleep(100);
  }
}

/** Starts the control plane; on failure the processes started so far are in `started`. */
export async function startControlPlane(
  bin: TestenvBinaries,
  runDir: string,
  started: ManagedProcess[],
): Promise<ControlPlane> {
  const logDir = join(runDir, "logs");
  const certDir = join(runDir, "certs");
  mkdirSync(logDir, { recursive: true });
  mkdirSync(certDir, { recursive: true });
  const certs = generateCertificates(certDir);
  const etcdUrl = await startEtcd(bin, runDir, logDir, started);
  const apiServerUrl = await startApiServer(bin, certs, etcdUrl, logDir, started);
  const kubeconfigPath = join(runDir, "kubeconfig");
  writeFileSync(kubeconfigPath, kubeconfigYaml(apiServerUrl, certs), { mode: 0o600 });
  await createFakeNode(kubeconfigPath);
  const components = await Promise.allSettled([
    startControllerManager(bin, kubeconfigPath, logDir, started),
    startScheduler(bin, kubeconfigPath, logDir, started),
    startKwok(bin, kubeconfigPath, logDir, started),
  ]);
  const failed = components.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  await waitForNodeReady(
    kubeconfigPath,
    started.find((p) => p.name === "kwok"),
  );
  return { apiServerUrl, kubeconfigPath, processes: started };
}
