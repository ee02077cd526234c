import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, delimiter } from "node:path";

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
