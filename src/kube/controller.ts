import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { pino, type Logger } from "pino";
import type { ManagedTraffic } from "../api/rollout.ts";
import type { TrafficRouter } from "../traffic/router.ts";
import type { RoutingReads } from "../traffic/routing-object.ts";
import { cachedRouting } from "./routing-cache.ts";
import { routerForManaged } from "../traffic/select-router.ts";
import { countingKubeConfig } from "./api-requests.ts";
import { ControllerMetrics } from "./controller-metrics.ts";
import { startHealthServer } from "./http-server.ts";
import { LeaderElector } from "./leader-election.ts";
import { KubePorts } from "./ports.ts";
import { RolloutReader } from "./rollout-reader.ts";
import { kubeOutboxStore } from "./outbox-store.ts";
import {
  notificationDelivery,
  notifyDefaultsOf,
  type ControllerNotifyOptions,
} from "./notifications.ts";
import { Reconciler } from "./reconciler.ts";
import { startWatches, type Watches } from "./watches.ts";
import { watchScope } from "./informer-set.ts";
import { instanceScope } from "./instance-scope.ts";
import { WorkQueue } from "./workqueue.ts";

export type RouterFactory = (
  managed: ManagedTraffic,
  namespace: string,
  kubeConfig: KubeConfig,
  reads?: RoutingReads,
) => TrafficRouter | undefined;

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /**
   * The namespaces to watch and reconcile; undefined or empty watches all. A namespaced
   * install (a Role per namespace, no ClusterRole) lists its namespaces here.
   */
  namespaces?: readonly string[] | undefined;
  /** Shorthand for `namespaces: [namespace]`. */
  namespace?: string | undefined;
  /**
   * This instance's id: it reconciles only Rollouts labelled `aviary.dev/instance-id=<id>`,
   * and its leader Lease is named after it. Undefined: only Rollouts without that label.
   */
  instanceId?: string | undefined;
  /** A label selector: only Rollouts that match it are reconciled. */
  selector?: string | undefined;
  /** Undefined: the traffic routers of src/traffic/select-router.ts. */
  routerFor?: RouterFactory | undefined;
  /** Controller-wide Slack and webhook defaults, retry policy and timeouts for notifications. */
  notifications?: ControllerNotifyOptions | undefined;
  /** Named in notifications, so people with several clusters know which one. */
  clusterName?: string | undefined;
  prometheusAddress?: string | undefined;
  concurrency?: number | undefined;
  /**
   * Every Rollout is reconciled at least this often (ms), default 10 minutes. Rollouts
   * mid-release are requeued sooner by their plans; steady ones react to watch events.
   */
  resyncMs?: number | undefined;
  /** Informers relist this often, a watchdog against silent watch death (ms). */
  relistMs?: number | undefined;
  /** false: run without leader election (one replica only). */
  leaderElection?:
    | false
    | {
        namespace: string;
        name?: string | undefined;
        identity?: string | undefined;
        leaseMs?: number;
        renewMs?: number;
        retryMs?: number;
      }
    | undefined;
  /** Port for /healthz, /readyz, /metrics; undefined: no server, 0: any free port. */
  metricsPort?: number | undefined;
  /** Also report the process's RSS, heap, CPU and GC on /metrics (the controller's own process). */
  processMetrics?: boolean | undefined;
  log?: Logger | undefined;
}

export interface ControllerHandle {
  isLeader(): boolean;
  /** The port /metrics listens on, when a server was asked for. */
  metricsPort: number | undefined;
  metrics: ControllerMetrics;
  /** Stops reconciling, waits for running reconciles, and releases the lease. */
  stop(): Promise<void>;
}

/** Starts the controller: leader election, then watches feeding the work queue. */
export async function startController(options: ControllerOptions): Promise<ControllerHandle> {
  const log = options.log ?? pino({ name: "aviary" });
  const routerFor = options.routerFor ?? routerForManaged;
  const notify = options.notifications ?? {};
  const metrics = new ControllerMetrics();
  if (options.processMetrics === true) metrics.collectProcessMetrics();
  // Everything below talks to the API server through this copy, so every request is counted.
  const kubeConfig = countingKubeConfig(options.kubeConfig, ({ verb, resource }) => {
    metrics.apiRequests.inc({ verb, resource });
  });
  const instance = instanceScope(options.instanceId, options.selector);
  const scope = watchScope([
    ...(options.namespaces ?? []),
    ...(options.namespace === undefined ? [] : [options.namespace]),
  ]);
  let running:
    | {
        queue: WorkQueue;
        watches: Watches;
        resync: NodeJS.Timeout;
        delivery: ReturnType<typeof notificationDelivery>;
      }
    | undefined;

  // Once stop() begins, winning the Lease (a peer just released it) must not start new watches.
  let stopping = false;
  const startWork = (): void => {
    if (running !== undefined || stopping) return;
    const queue = new WorkQueue(
      async (key) => {
        // Reconciles read the cache: none runs before it holds what the API server holds.
        await watches.cache.whenSynced();
        if (!watches.cache.synced()) return undefined;
        return reconciler.reconcile(key);
      },
      {
        concurrency: options.concurrency,
        onError: (key, error) => {
          log.warn(
            { rollout: key, err: error instanceof Error ? error.message : String(error) },
            "reconcile failed; retrying with backoff",
          );
        },
      },
    );
    const enqueue = (key: string): void => {
      queue.add(key);
      metrics.queueDepth.set(queue.depth);
    };
    const watches = startWatches({
      kubeConfig,
      scope,
      rolloutSelector: instance.selector,
      enqueue,
      relistMs: options.relistMs,
      log,
    });
    const routingReads = cachedRouting(watches.cache);
    const reader = new RolloutReader(kubeConfig, watches.cache, (labels) =>
      instance.includes(labels),
    );
    const ports = new KubePorts({
      kubeConfig,
      routerFor: (managed, namespace) => routerFor(managed, namespace, kubeConfig, routingReads),
      prometheusAddress: options.prometheusAddress,
      cache: watches.cache,
      onStatusWritten: (rollout, written) => reader.wrote(rollout, written),
      notifyDefaults: notifyDefaultsOf(notify),
      onPendingNotifications: (rollout) =>
        delivery.kick(rollout.metadata.namespace ?? "default", rollout.metadata.name),
    });
    // Only the leader delivers: it starts and stops with the work, beside the queue.
    const delivery = notificationDelivery({
      kubeConfig,
      store: kubeOutboxStore(reader, ports),
      options: notify,
      clusterName: options.clusterName,
      log,
    });
    const reconciler = new Reconciler(reader, ports, metrics, log);
    // The slow safety net: Rollouts mid-release are requeued by their own plans, steady
    // ones are woken by watch events; this catches anything both missed.
    const resync = setInterval(
      () => {
        for (const key of watches.rolloutKeys()) enqueue(key);
      },
      options.resyncMs ?? 10 * 60_000,
    );
    resync.unref();
    running = { queue, watches, resync, delivery };
  };
  const stopWork = async (): Promise<void> => {
    const current = running;
    running = undefined;
    if (current === undefined) return;
    clearInterval(current.resync);
    await current.watches.stop();
    await current.queue.stop();
    await current.delivery.stop();
  };
  let elector: LeaderElector | undefined;
  metrics.setLeader(false);
  if (options.leaderElection === false || options.leaderElection === undefined) {
    metrics.setLeader(true);
    startWork();
  } else {
    const election = options.leaderElection;
    elector = new LeaderElector({
      kubeConfig,
      namespace: election.namespace,
      // Instances of different ids share no work, so they must not share a Lease either.
      name:
        election.name ??
        (options.instanceId === undefined
          ? "aviary-controller"
          : `aviary-controller-${options.instanceId}`),
      identity:
        election.identity ??
        `${hostname()}-${String(process.pid)}-${Math.random().toString(36).slice(2, 7)}`,
      leaseMs: election.leaseMs,
      renewMs: election.renewMs,
      retryMs: election.retryMs,
      log,
      onStartedLeading: () => {
        metrics.setLeader(true);
        startWork();
      },
      onStoppedLeading: () => {
        metrics.setLeader(false);
        void stopWork();
      },
    });
    elector.start();
  }

  const server =
    options.metricsPort === undefined
      ? undefined
      : await startHealthServer({
          port: options.metricsPort,
          registry: metrics.registry,
          ready: () => {
            // A standby is ready: it is healthy and waiting for the lease.
            if (elector !== undefined && !elector.isLeader) return true;
            return running?.watches.cache.synced() ?? false;
          },
        });

  return {
    isLeader: () => elector?.isLeader ?? true,
    metricsPort: server?.port,
    metrics,
    stop: async () => {
      stopping = true;
      await stopWork();
      await elector?.stop();
      await server?.close();
    },
  };
}
