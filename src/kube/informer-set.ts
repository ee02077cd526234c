import type { KubernetesObject } from "@kubernetes/client-node";
import { SupervisedInformer, type SupervisedInformerOptions } from "./informer.ts";

/**
 * The namespaces a controller watches: every namespace (one cluster-wide watch per kind), or
 * a list (one watch per namespace and kind, which is what a namespaced Role permits).
 */
export type WatchScope = { allNamespaces: true } | { namespaces: readonly string[] };

export const ALL_NAMESPACES: WatchScope = { allNamespaces: true };

/** The scope of `namespaces`: empty or undefined is all namespaces; duplicates are dropped. */
export function watchScope(namespaces: readonly string[] | undefined): WatchScope {
  const list = [...new Set((namespaces ?? []).filter((n) => n !== ""))];
  return list.length === 0 ? ALL_NAMESPACES : { namespaces: list };
}

export function scopeIncludes(scope: WatchScope, namespace: string): boolean {
  return "allNamespaces" in scope || scope.namespaces.includes(namespace);
}

/** Says the scope in a log line: "(all)" or "a,b". */
export function describeScope(scope: WatchScope): string {
  return "allNamespaces" in scope ? "(all)" : scope.namespaces.join(",");
}

/**
 * One kind watched over a scope: the SupervisedInformer of each namespace behind one cache
 * surface, so readers neither know nor care how many watches feed it.
 */
export class InformerSet {
  private readonly byNamespace = new Map<string, SupervisedInformer>();
  private readonly all: SupervisedInformer[];

  constructor(scope: WatchScope, options: Omit<SupervisedInformerOptions, "namespace">) {
    if ("allNamespaces" in scope) {
      this.all = [new SupervisedInformer({ ...options, namespace: undefined })];
    } else {
      for (const namespace of scope.namespaces)
        this.byNamespace.set(namespace, new SupervisedInformer({ ...options, namespace }));
      this.all = [...this.byNamespace.values()];
    }
  }

  start(): void {
    for (const informer of this.all) informer.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((i) => i.stop()));
  }

  get synced(): boolean {
    return this.all.every((i) => i.synced);
  }

  async whenSynced(): Promise<void> {
    await Promise.all(this.all.map((i) => i.whenSynced()));
  }

  get(namespace: string | undefined, name: string): KubernetesObject | undefined {
    return this.informerFor(namespace)?.get(namespace, name);
  }

  list(): KubernetesObject[] {
    return this.all.flatMap((i) => i.list());
  }

  /** Index keys start with the object's namespace, so every informer may hold some. */
  byIndex(key: string): KubernetesObject[] {
    return this.all.flatMap((i) => i.byIndex(key));
  }

  private informerFor(namespace: string | undefined): SupervisedInformer | undefined {
    if (this.byNamespace.size === 0) return this.all[0];
    return namespace === undefined ? undefined : this.byNamespace.get(namespace);
  }
}
