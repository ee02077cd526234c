/**
 * What our own writes returned, until the watch catches up. A cache read right after a
 * write may still hold the version the write replaced; while it does, the write's result
 * is the fresher truth (null: we deleted it). Once the cache holds any other version, the
 * cache wins again and the entry is dropped. Entries are grouped (e.g. by Rollout) so
 * objects we created, which the cache has not seen at all, can be listed with the rest.
 */
export interface Versioned {
  metadata?: { name?: string | undefined; resourceVersion?: string | undefined } | undefined;
}

interface Written<T> {
  /** The resourceVersion the write replaced; undefined for a create. */
  replaced: string | undefined;
  object: T | null;
}

export class OwnWrites<T extends Versioned> {
  private readonly groups = new Map<string, Map<string, Written<T>>>();

  record(group: string, name: string, replaced: string | undefined, object: T | null): void {
    let entries = this.groups.get(group);
    if (entries === undefined) this.groups.set(group, (entries = new Map<string, Written<T>>()));
    entries.set(name, { replaced, object });
  }

  /** The freshest known version of one object. */
  read(group: string, name: string, cached: T | undefined): T | undefined {
    const entries = this.groups.get(group);
    const written = entries?.get(name);
    if (written === undefined) return cached;
    if (cached?.metadata?.resourceVersion === written.replaced) return written.object ?? undefined;
    entries?.delete(name);
    if (entries?.size === 0) this.groups.delete(group);
    return cached;
  }

  /** The freshest known versions of a group's objects: the cached ones, and those we created. */
  merge(group: string, cached: readonly T[]): T[] {
    const out: T[] = [];
    const seen = new Set<string>();
    for (const object of cached) {
      const name = object.metadata?.name ?? "";
      seen.add(name);
      const fresh = this.read(group, name, object);
      if (fresh !== undefined) out.push(fresh);
    }
    for (const [name, written] of [...(this.groups.get(group)?.entries() ?? [])]) {
      if (seen.has(name)) continue;
      const fresh = this.read(group, name, undefined);
      if (fresh !== undefined && written.object !== null) out.push(fresh);
    }
    return out;
  }

  forget(group: string): void {
    this.groups.delete(group);
  }
}
