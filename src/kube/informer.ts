import {
  ADD,
  DELETE,
  ERROR,
  KubernetesObjectApi,
  ListWatch,
  UPDATE,
  Watch,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type KubernetesListObject,
  type ObjectCache,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { backoffMs } from "./workqueue.ts";

/**
 * A watched cache of one kind that does not stay dead, and that the controller reads
 * instead of the API server. client-node's informer stops for good on any error other
 * than 410 and timeouts; this one is rebuilt after an error, with backoff, and rebuilt on
 * a timer too (a full relist) as a watchdog against a watch that went silent without an
 * error. The objects live in a store of our own that survives rebuilds, so reads never
 * see an empty cache while a new informer lists; a relist reports only what changed
 * (by resourceVersion) and what disappeared, not every object again.
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
  /** e.g. `involvedObject.name=api` for Events. */
  fieldSelector?: string | undefined;
  /** Called for each object that appeared, changed or (deleted: true) went away. */
  onObject: (object: KubernetesObject, deleted: boolean) => void;
  /** A secondary index: objects are also found by this key (e.g. their owner). */
  indexBy?: ((object: KubernetesObject) => string | undefined) | undefined;
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
  /** "namespace/name" → object. */
  private readonly store = new Map<string, KubernetesObject>();
  private readonly index = new Map<string, Map<string, KubernetesObject>>();
  private listedOnce = false;
  private syncWaiters: (() => void)[] = [];

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
    // Whoever waits for a first list that will never come now must not wait forever (a
    // reconcile waiting here would hold up the controller's shutdown); synced stays false.
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const resolve of waiters) resolve();
    const informer = this.informer;
    this.informer = undefined;
    await informer?.stop();
  }

  /** Whether the first list has completed, so the store holds what the API server holds. */
  get synced(): boolean {
    return this.listedOnce;
  }

  /** Resolves once the first list completed, or once the informer is stopped. */
  whenSynced(): Promise<void> {
    if (this.listedOnce || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(namespace: string | undefined, name: string): KubernetesObject | undefined {
    return this.store.get(`${namespace ?? ""}/${name}`);
  }

  /** The objects held now, optionally in one namespace. */
  list(namespace?: string): KubernetesObject[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** The objects whose `indexBy` key is `key`. */
  byIndex(key: string): KubernetesObject[] {
    return [...(this.index.get(key)?.values() ?? [])];
  }

  private build(): void {
    const { kubeConfig, resource, namespace, labelSelector, fieldSelector } = this.options;
    const path = watchPath(resource, namespace);
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const result = await this.objects.list(
        resource.apiVersion,
        resource.kind,
        namespace,
        undefined,
        undefined,
        undefined,
        fieldSelector,
        labelSelector,
      );
      // Called only once `informer` below is built and started.
      if (this.informer === informer) this.replaceAll(result.items);
      return result;
    };
    // makeInformer(), minus its lack of a field selector.
    const informer = new ListWatch(
      path,
      new Watch(kubeConfig),
      list,
      false,
      labelSelector,
      fieldSelector,
    );
    const current = informer;
    const seen = (object: KubernetesObject): void => {
      if (this.informer !== current) return;
      this.failures = 0;
      this.put(object);
    };
    informer.on(ADD, seen);
    informer.on(UPDATE, seen);
    informer.on(DELETE, (object: KubernetesObject) => {
      if (this.informer === current) this.remove(keyOf(object));
    });
    informer.on(ERROR, (error: unknown) => {
      if (this.informer !== current || this.stopped) return;
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

  /** A full list: what changed is reported, what is gone is removed and reported. */
  private replaceAll(items: readonly KubernetesObject[]): void {
    const listed = new Set<string>();
    for (const object of items) {
      listed.add(keyOf(object));
      this.put(object);
    }
    for (const key of [...this.store.keys()]) if (!listed.has(key)) this.remove(key);
    if (!this.listedOnce) {
      this.listedOnce = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private put(object: KubernetesObject): void {
    slimForCache(object);
    const key = keyOf(object);
    const old = this.store.get(key);
    if (old !== undefined && old.metadata?.resourceVersion === object.metadata?.resourceVersion)
      return;
    if (old !== undefined) this.unindex(key, old);
    this.store.set(key, object);
    const indexKey = this.options.indexBy?.(object);
    if (indexKey !== undefined) {
      let entries = this.index.get(indexKey);
      if (entries === undefined)
        this.index.set(indexKey, (entries = new Map<string, KubernetesObject>()));
      entries.set(key, object);
    }
    this.options.onObject(object, false);
  }

  private remove(key: string): void {
    const old = this.store.get(key);
    if (old === undefined) return;
    this.store.delete(key);
    this.unindex(key, old);
    this.options.onObject(old, true);
  }

  private unindex(key: string, object: KubernetesObject): void {
    const indexKey = this.options.indexBy?.(object);
    if (indexKey === undefined) return;
    const entries = this.index.get(indexKey);
    entries?.delete(key);
    if (entries?.size === 0) this.index.delete(indexKey);
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

function keyOf(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
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

/** kubectl's (and Argo CD's client-side apply's) copy of the whole object, as JSON. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * Drops, in place, what the controller never reads and what is often most of an object:
 * managedFields, and the last-applied copy client-side apply keeps in an annotation (it
 * doubles every object a GitOps tool manages). Cached objects are never written back
 * whole (writes are patches and server-side applies of Aviary's own fields), so nothing
 * dropped here can be lost on the server.
 */
export function slimForCache(object: KubernetesObject): void {
  const metadata = object.metadata;
  if (metadata === undefined) return;
  delete metadata.managedFields;
  if (metadata.annotations?.[LAST_APPLIED_ANNOTATION] !== undefined) {
    const { [LAST_APPLIED_ANNOTATION]: _dropped, ...rest } = metadata.annotations;
    metadata.annotations = rest;
  }
}
