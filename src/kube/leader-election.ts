import { FIELD_MANAGER } from "../api/labels.ts";
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { isConflict, orNotFound } from "./api-errors.ts";

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
 * - everyone tries every `retryMs` (the leader renews, candidates check);
 * - a leader that has not renewed for `renewMs` (the renew deadline, < `leaseMs`) stops
 *   leading, checked by its own timer so a hung request cannot keep it leading;
 * - a candidate takes the Lease once it has seen no change to it for `leaseMs` of its own
 *   clock (never comparing another node's timestamps with ours, so skew cannot split the brain).
 * Writes use the resourceVersion read, so two candidates never both win.
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
  private watchdog: NodeJS.Timeout | undefined;
  /** The Lease as last seen, and when (our clock) it last changed. */
  private observed: { record: string; at: number } | undefined;

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
    this.watchdog = setInterval(() => this.checkDeadline(), Math.max(50, this.retryMs / 2));
    this.watchdog.unref();
    void this.tick();
  }

  /** Steps down once the renew deadline passes, whatever the pending request is doing. */
  private checkDeadline(): void {
    if (this.leading && Date.now() - this.lastRenew >= this.renewMs) {
      this.options.log.warn(
        { identity: this.options.identity },
        "leader election: renew deadline passed",
      );
      this.setLeading(false);
    }
  }

  /** Stops campaigning; a leader releases the Lease so another can take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    if (!this.leading) return;
    this.setLeading(false);
    await this.release();
  }

  /** Hands the Lease back, if we hold it, so another replica need not wait for it to expire. */
  private async release(): Promise<void> {
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
      // stop() may have come while the request was in flight: a stopped elector never
      // starts leading (it would start work nobody stops); a Lease it just won goes back.
      if (this.stopped) {
        if (won && !this.leading) await this.release();
        return;
      }
      if (won) this.lastRenew = Date.now();
      if (won && !this.leading) this.setLeading(true);
      if (!won && this.leading) this.setLeading(false);
    } catch (error) {
      this.options.log.warn({ err: String(error) }, "leader election: lease update failed");
      this.checkDeadline();
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.retryMs);
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
    await this.api.replaceNamespacedCustomObject({
      ...LEASES,
      namespace,
      name,
      body,
      fieldManager: FIELD_MANAGER,
    });
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
        await this.api.createNamespacedCustomObject({
          ...LEASES,
          namespace,
          body,
          fieldManager: FIELD_MANAGER,
        });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    }
    const holder = lease.spec?.holderIdentity ?? "";
    const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    const ours = holder === identity;
    const record = `${holder}|${lease.spec?.renewTime ?? ""}|${lease.metadata?.resourceVersion ?? ""}`;
    if (this.observed?.record !== record) this.observed = { record, at: now.getTime() };
    const expired = now.getTime() - this.observed.at >= duration;
    if (!ours && holder !== "" && !expired) return false;
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
