import {
  ADD,
  DELETE,
  ERROR,
  KubernetesObjectApi,
  makeInformer,
  UPDATE,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { backoffMs } from "./workqueue.ts";

/**
 * An informer that does not stay dead. client-node's informer stops for good on any
 * error other than 410 and timeouts; this one is rebuilt after an error, with backoff,
 * and rebuilt on a timer too (a full relist) as a watchdog against a watch that went
 * silent without an error. Rebuilding relists, which reports every object again.
 */
export interface ResourceKind {
  apiVersion: string;
  kind: string;
  plural: string;
}

export interface SupervisedInformerOptions {
  kubeConfig: KubeConfig;
  resource: ResourceKind;
  /** Undefined: all namespaces. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  onObject: (object: KubernetesObject) => void;
  /** Full relist period: the stall watchdog. */
  relistMs?: number | undefined;
  log: Logger;
}

const BASE_RESTART_MS = 1000;
const MAX_RESTART_MS = 30_000;

export class SupervisedInformer {
  private informer: (Informer<KubernetesObject> & ObjectCache<KubernetesObject>) | undefined;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly objects: KubernetesObjectApi;

  constructor(private readonly options: SupervisedInformerOptions) {
    this.objects = KubernetesObjectApi.makeApiClient(options.kubeConfig);
  }

  start(): void {
    this.stopped = false;
    this.build();
    const relistMs = this.options.relistMs ?? 5 * 60_000;
    this.relistTimer = setInterval(() => {
      this.rebuild("periodic relist");
    }, relistMs);
    this.relistTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.relistTimer);
    clearTimeout(this.restartTimer);
    const informer = this.informer;
    this.informer = undefined;
    await informer?.stop();
  }

  /** The objects the informer holds now. */
  list(namespace?: string): readonly KubernetesObject[] {
    return this.informer?.list(namespace) ?? [];
  }

  private build(): void {
    const { kubeConfig, resource, namespace, labelSelector } = this.options;
    const path = watchPath(resource, namespace);
    const list = () =>
      this.objects.list(
        resource.apiVersion,
        resource.kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      );
    const informer = makeInformer(kubeConfig, path, list, labelSelector);
    const seen = (object: KubernetesObject): void => {
      if (this.informer !== informer) return;
      this.failures = 0;
      this.options.onObject(object);
    };
    informer.on(ADD, seen);
    informer.on(UPDATE, seen);
    informer.on(DELETE, seen);
    informer.on(ERROR, (error: unknown) => {
      if (this.informer !== informer || this.stopped) return;
      this.failures++;
      const delay = backoffMs(this.failures, BASE_RESTART_MS, MAX_RESTART_MS);
      this.options.log.warn(
        { resource: resource.plural, err: describe(error), retryInMs: delay },
        "watch failed; restarting",
      );
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => {
        this.rebuild("restart after error");
      }, delay);
      this.restartTimer.unref();
    });
    this.informer = informer;
    informer.start().catch((error: unknown) => {
      this.options.log.warn(
        { resource: resource.plural, err: describe(error) },
        "informer failed to start",
      );
    });
  }

  private rebuild(why: string): void {
    if (this.stopped) return;
    this.options.log.debug({ resource: this.options.resource.plural, why }, "rebuilding informer");
    const old = this.informer;
    this.informer = undefined;
    void old?.stop();
    this.build();
  }
}

export function watchPath(resource: ResourceKind, namespace: string | undefined): string {
  const base = resource.apiVersion.includes("/")
    ? `/apis/${resource.apiVersion}`
    : `/api/${resource.apiVersion}`;
  return namespace === undefined
    ? `${base}/${resource.plural}`
    : `${base}/namespaces/${namespace}/${resource.plural}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : JSON.stringify(error);
}
