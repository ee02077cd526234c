import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { REPO_ROOT } from "../testenv.ts";

/**
 * Two `aviary controller` processes with leader election, as two replicas of the
 * Deployment run. A replica that is SIGKILLed comes back (as a Pod would) with a new
 * identity, after `restartDelayMs`. Their logs go to one file per replica.
 */
export interface ReplicaOptions {
  kubeconfigPath: string;
  namespaces: string[];
  leaseNamespace: string;
  webhookUrl: string;
  logDir: string;
  restartDelayMs: number;
  /** Lease timings (Go durations). */
  lease: { duration: string; renewDeadline: string; retryPeriod: string };
}

export interface Kill {
  at: number;
  identity: string;
  wasLeader: boolean;
}

export interface Replicas {
  /** The identities of the replicas running now. */
  identities(): string[];
  /** SIGKILLs the replica with this identity; it restarts after restartDelayMs. */
  kill(identity: string, wasLeader: boolean): void;
  kills: Kill[];
  /** Log file of each replica slot. */
  logFiles: string[];
  stop(): Promise<void>;
}

export const LEASE_NAME = "aviary-controller";

export function startReplicas(options: ReplicaOptions, count = 2): Replicas {
  const running = new Map<string, ChildProcess>();
  const kills: Kill[] = [];
  const generation = Array.from({ length: count }, () => 0);
  const logFiles = Array.from({ length: count }, (_, slot) =>
    join(options.logDir, `chaos-controller-${String.fromCharCode(97 + slot)}.log`),
  );
  let stopped = false;
  const start = (slot: number) => {
    if (stopped) return;
    generation[slot] = (generation[slot] ?? 0) + 1;
    const identity = `${String.fromCharCode(97 + slot)}-${String(generation[slot])}`;
    const log = createWriteStream(logFiles[slot] ?? "/dev/null", { flags: "a" });
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(REPO_ROOT, "src/cli/main.ts"),
        "controller",
        "--kubeconfig",
        options.kubeconfigPath,
        "--namespaces",
        options.namespaces.join(","),
        "--lease-namespace",
        options.leaseNamespace,
        "--metrics-port",
        "0",
      ],
      {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          AVIARY_LOG_LEVEL: "info",
          POD_NAME: identity,
          AVIARY_WEBHOOK_URL: options.webhookUrl,
          AVIARY_LEASE_DURATION: options.lease.duration,
          AVIARY_LEASE_RENEW_DEADLINE: options.lease.renewDeadline,
          AVIARY_LEASE_RETRY_PERIOD: options.lease.retryPeriod,
        },
      },
    );
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    running.set(identity, child);
    child.once("exit", () => {
      running.delete(identity);
      // A replica that died of anything is replaced, as its ReplicaSet would.
      setTimeout(() => start(slot), options.restartDelayMs).unref();
    });
  };
  for (let slot = 0; slot < count; slot++) start(slot);
  return {
    identities: () => [...running.keys()],
    kill: (identity, wasLeader) => {
      const child = running.get(identity);
      if (child === undefined) return;
      kills.push({ at: Date.now(), identity, wasLeader });
      child.kill("SIGKILL");
    },
    kills,
    logFiles,
    stop: async () => {
      stopped = true;
      const children = [...running.values()];
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              child.once("exit", () => resolve());
              child.kill("SIGKILL");
            }),
        ),
      );
    },
  };
}

/** The Lease's holder now, or undefined when none can be read. */
export async function leaseHolder(kc: KubeConfig, namespace: string): Promise<string | undefined> {
  try {
    const lease = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: "coordination.k8s.io",
      version: "v1",
      plural: "leases",
      namespace,
      name: LEASE_NAME,
    })) as { spec?: { holderIdentity?: string } };
    return lease.spec?.holderIdentity;
  } catch {
    return undefined;
  }
}
