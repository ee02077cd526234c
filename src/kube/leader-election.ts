import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { isConflict, orNotFound } from "./api-errors.ts";

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: the holder
 * renews every `renewMs`; a candidate takes the Lease once it has not been renewed for
 * `leaseMs`. Writes use the resourceVersion read, so two candidates never both win.
 * A leader that cannot renew within `leaseMs` stops leading (before another may start).
 * The Lease goes through the generic object API: client-node 2.0.1 writes MicroTime
 * fields with milliseconds, which the API server rejects (it wants microseconds).
 */
export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseMs?: number | undefined;
  renewMs?: number | undefined;
  retryMs?: number | undefined;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

interface Lease {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

const LEASES = { group: "coordination.k8s.io", version: "v1", plural: "leases" } as const;

/** RFC 3339 with microseconds, as metav1.MicroTime is parsed. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class LeaderElector {
  private readonly api: CustomObjectsApi;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;

  constructor(private readonly options: LeaderElectionOptions) {
    this.api = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.leaseMs = options.leaseMs ?? 15_000;
    this.renewMs = options.renewMs ?? 10_000;
    this.retryMs = options.retryMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops campaigning; a leader releases the Lease so another can take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity !== this.options.identity) return;
      await this.replace({
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          renewTime: microTime(new Date()),
        },
      });
    } catch (error) {
      this.options.log.warn({ err: String(error) }, "could not release the leader lease");
    }
  }

  private async tick(): Promise<void> {
    try {
      const won = await this.tryAcquireOrRenew();
      if (won) this.lastRenew = Date.now();
      if (won && !this.leading) this.setLeading(true);
      if (!won && this.leading) this.setLeading(false);
    } catch (error) {
      this.options.log.warn({ err: String(error) }, "leader election: lease update failed");
      if (this.leading && Date.now() - this.lastRenew >= this.leaseMs - this.retryMs)
        this.setLeading(false);
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.leading ? this.renewMs : this.retryMs);
    this.timer.unref();
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.options.log.info(
      { identity: this.options.identity, lease: this.options.name },
      leading ? "became leader" : "stopped leading",
    );
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }

  private read(): Promise<Lease | undefined> {
    const { name, namespace } = this.options;
    return orNotFound(
      this.api.getNamespacedCustomObject({ ...LEASES, namespace, name }) as Promise<Lease>,
    );
  }

  private async replace(body: Lease): Promise<void> {
    const { name, namespace } = this.options;
    await this.api.replaceNamespacedCustomObject({ ...LEASES, namespace, name, body });
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity } = this.options;
    const now = new Date();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      renewTime: microTime(now),
    };
    const lease = await this.read();
    if (lease === undefined) {
      try {
        const body = {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
        };
        await this.api.createNamespacedCustomObject({ ...LEASES, namespace, body });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    }
    const holder = lease.spec?.holderIdentity ?? "";
    const renewed = Date.parse(lease.spec?.renewTime ?? "") || 0;
    const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    const ours = holder === identity;
    if (!ours && holder !== "" && renewed + duration > now.getTime()) return false;
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (ours ? 0 : 1);
    try {
      await this.replace({
        ...lease,
        spec: {
          ...lease.spec,
          ...spec,
          leaseTransitions: transitions,
          ...(ours ? {} : { acquireTime: microTime(now) }),
        },
      });
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }
}
