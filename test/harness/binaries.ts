import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where build-binaries.sh put the control plane, Prometheus and the CRD assets.
 * The versions and the cache key must stay in step with that script.
 */
const K8S_VERSION = process.env.K8S_VERSION ?? "1.36.3";
const ETCD_VERSION = process.env.ETCD_VERSION ?? "3.6.16";
const KWOK_VERSION = process.env.KWOK_VERSION ?? "0.8.0";
const PROM_MODULE_VERSION = process.env.PROM_MODULE_VERSION ?? "0.316.0";

const BUILD_HINT =
  "Build them once with `bash test/harness/build-binaries.sh` (needs Go >= 1.25, https://go.dev/doc/install; " +
  "about 10 minutes the first time, cached afterwards). For Prometheus, Debian's package also works: " +
  "`apt-get install prometheus`. `bash .ci/run` does all of it on a fresh machine.";

export interface TestenvBinaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kwok: string;
  prometheus: string;
  assets: string;
}

export function testenvDir(): string {
  const root =
    process.env.AVIARY_TESTENV_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "aviary-testenv");
  const key = `k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_prom-${PROM_MODULE_VERSION}`;
  return join(root, key);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, name);
    if (dir !== "" && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Finds every binary, or fails with one message listing what is missing and how to get it. */
export function findBinaries(): TestenvBinaries {
  const dir = testenvDir();
  const bin = (name: string) => join(dir, "bin", name);
  // Prometheus built from its Go module, else the Debian package's binary.
  const prometheus = existsSync(bin("prometheus"))
    ? bin("prometheus")
    : (onPath("prometheus") ?? bin("prometheus"));
  const found: TestenvBinaries = {
    etcd: bin("etcd"),
    kubeApiserver: bin("kube-apiserver"),
    kubeControllerManager: bin("kube-controller-manager"),
    kubeScheduler: bin("kube-scheduler"),
    kwok: bin("kwok"),
    prometheus,
    assets: join(dir, "assets"),
  };
  const missing = Object.values<string>({ ...found }).filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(
      `The e2e test environment is missing:\n  ${missing.join("\n  ")}\n${BUILD_HINT}`,
    );
  }
  if (!onPath("openssl")) {
    throw new Error(
      "The e2e test environment needs the openssl CLI for its certificates: `apt-get install openssl`.",
    );
  }
  return found;
}

/**
 * Test tools that build-binaries.sh builds beside the cluster (helm, and argocd-lua on Argo
 * CD's Lua engine), in directories keyed by version; argocd-lua's also by its source's hash.
 */
const HELM_VERSION = process.env.HELM_VERSION ?? "4.3.2";
const ARGOCD_VERSION = process.env.ARGOCD_VERSION ?? "3.5.7";

function toolsDir(): string {
  return join(dirname(testenvDir()), "tools");
}

function requireTool(path: string, what: string): string {
  if (!existsSync(path))
    throw new Error(`The e2e test environment is missing ${what}: ${path}\n${BUILD_HINT}`);
  return path;
}

export function helmBinary(): string {
  return requireTool(join(toolsDir(), `helm-v${HELM_VERSION}`, "helm"), "helm");
}

export function argocdLuaBinary(): string {
  const source = readFileSync(fileURLToPath(new URL("./argocd-lua/main.go", import.meta.url)));
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12);
  return requireTool(
    join(toolsDir(), `argocd-lua-v${ARGOCD_VERSION}-${hash}`, "argocd-lua"),
    "argocd-lua (Argo CD's Lua engine)",
  );
}
