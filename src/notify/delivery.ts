import type { NotificationTarget, Rollout, RolloutStatus } from "../api/rollout.ts";
import {
  DEFAULT_RETRY_POLICY,
  dueDeliveries,
  nextAttemptAt,
  recordAttempt,
  type Attempt,
  type DueDelivery,
  type RetryPolicy,
} from "../core/outbox-delivery.ts";
import { targetsFor } from "../core/outbox.ts";
import type { KubeEvent, NotifyDefaults } from "../core/plan.ts";
import type { Sender } from "./sender.ts";

/** Where the outbox lives: the Rollouts' status. The controller implements it on the API server. */
export interface OutboxStore {
  /** The freshest Rollout (with what we last wrote), undefined when it is gone or unreadable. */
  read(namespace: string, name: string): Promise<Rollout | undefined>;
  /** Writes `status` over the Rollout's, conditional on its resourceVersion. */
  write(rollout: Rollout, status: RolloutStatus): Promise<"written" | "stale">;
  emit(rollout: Rollout, event: KubeEvent): Promise<void>;
}

export interface DeliveryLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export interface NotificationDeliveryOptions {
  store: OutboxStore;
  senders: Partial<Record<NotificationTarget, Sender>>;
  /** Targets with a controller-wide default, as decide() saw them. */
  defaults?: NotifyDefaults | undefined;
  policy?: RetryPolicy | undefined;
  log: DeliveryLogger;
  /** Rollouts whose notifications are delivered at the same time. */
  concurrency?: number | undefined;
  now?: () => number;
  random?: () => number;
}

const RECORD_TRIES = 5;
const RECORD_RETRY_MS = 5_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Unrecorded {
  due: DueDelivery;
  attempt: Attempt;
  at: number;
}

/**
 * Delivers the outbox beside reconciling. Each Rollout's pending notifications are sent
 * one at a time, oldest first, and each outcome is written to status right after its post
 * (delivered: the id moves to `sent`; failed: the next try is scheduled there; given up:
 * the NotificationFailed condition and an Event). Because that state lives in status, a
 * restarted controller or a new leader continues where this one stopped: delivery is at
 * least once, and a duplicate needs a death between the receiver's 200 and that write.
 */
export class NotificationDelivery {
  private readonly policy: RetryPolicy;
  private readonly concurrency: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly waiting = new Set<string>();
  /** Outcomes whose status write failed: recorded before anything else is sent, never re-sent. */
  private readonly unrecorded = new Map<string, Unrecorded>();
  private stopped = false;

  constructor(private readonly options: NotificationDeliveryOptions) {
    this.policy = options.policy ?? DEFAULT_RETRY_POLICY;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** A status write left notifications pending for this Rollout: deliver what is due. */
  kick(namespace: string, name: string): void {
    if (this.stopped) return;
    const key = `${namespace}/${name}`;
    if (this.running.has(key)) {
      this.again.add(key);
      return;
    }
    if (this.running.size >= this.concurrency) {
      this.waiting.add(key);
      return;
    }
    this.start(key);
  }

  /** Stops scheduling and sending; waits for posts in flight and their status writes. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiting.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private start(key: string): void {
    const pass = this.pass(key)
      .catch((error: unknown) =>
        this.options.log.warn(
          { rollout: key, err: error instanceof Error ? error.message : String(error) },
          "notification delivery failed; trying again later",
        ),
      )
      .finally(() => {
        this.running.delete(key);
        const [namespace = "", name = ""] = key.split("/");
        if (this.again.delete(key)) this.kick(namespace, name);
        const [next] = this.waiting;
        if (next !== undefined && this.running.size < this.concurrency) {
          this.waiting.delete(next);
          const [ns = "", n = ""] = next.split("/");
          this.kick(ns, n);
        }
      });
    this.running.set(key, pass);
  }

  private async pass(key: string): Promise<void> {
    const [namespace = "", name = ""] = key.split("/");
    const earlier = this.unrecorded.get(key);
    if (earlier !== undefined) {
      if (!(await this.record(namespace, name, earlier))) return this.retryLater(key);
      this.unrecorded.delete(key);
    }
    while (!this.stopped) {
      const rollout = await this.options.store.read(namespace, name);
      if (rollout === undefined) return this.schedule(key, undefined);
      const [due] = dueDeliveries(rollout.status, this.now());
      if (due === undefined) return this.schedule(key, nextAttemptAt(rollout.status));
      const attempt = await this.attempt(rollout, due);
      const outcome = { due, attempt, at: this.now() };
      if (!(await this.record(namespace, name, outcome))) {
        this.unrecorded.set(key, outcome);
        return this.retryLater(key);
      }
    }
  }

  private async attempt(rollout: Rollout, due: DueDelivery): Promise<Attempt> {
    const entry = rollout.status?.notifications?.pending?.find((p) => p.id === due.id);
    if (entry === undefined) return { ok: true, skipped: true };
    // The spec may have changed since the transition: a target that no longer wants it is done.
    if (!targetsFor(rollout.spec, this.options.defaults, entry.kind).includes(due.target))
      return { ok: true, skipped: true };
    const sender = this.options.senders[due.target];
    if (sender === undefined)
      return {
        ok: false,
        error: `this controller has no ${due.target} sender`,
        retry: true,
        misconfigured: true,
        source: "the controller",
      };
    return sender.send(rollout, entry);
  }

  /** Writes one outcome into the Rollout's status, on fresh data after a conflict. */
  private async record(namespace: string, name: string, outcome: Unrecorded): Promise<boolean> {
    const { due, attempt, at } = outcome;
    const key = `${namespace}/${name}`;
    for (let i = 0; i < RECORD_TRIES; i++) {
      let fresh: Rollout | undefined;
      try {
        fresh = await this.options.store.read(namespace, name);
        if (fresh === undefined) return true;
        const stored = fresh.status ?? {};
        const next = recordAttempt(
          stored,
          due.id,
          due.target,
          attempt,
          at,
          this.policy,
          this.random(),
        );
        if (next.status === stored) return true;
        if ((await this.options.store.write(fresh, next.status)) === "stale") continue;
        this.logOutcome(key, due, attempt, next.status);
        for (const event of next.events)
          await this.options.store.emit(fresh, event).catch(() => undefined);
        return true;
      } catch (error) {
        this.options.log.warn(
          {
            rollout: key,
            notification: due.id,
            err: error instanceof Error ? error.message : String(error),
          },
          "could not record a notification's delivery in status; retrying",
        );
        return false;
      }
    }
    return false;
  }

  private logOutcome(key: string, due: DueDelivery, attempt: Attempt, status: RolloutStatus): void {
    const details = { rollout: key, notification: due.id, target: due.target };
    if (attempt.ok) {
      if (attempt.skipped !== true) this.options.log.info(details, "notification delivered");
      return;
    }
    const still = status.notifications?.pending
      ?.find((p) => p.id === due.id)
      ?.deliveries.find((d) => d.target === due.target);
    this.options.log.warn(
      {
        ...details,
        error: attempt.error,
        source: attempt.source,
        ...(still === undefined
          ? { gaveUp: true }
          : { attempts: still.attempts, nextAttemptAt: still.nextAttemptAt }),
      },
      still === undefined ? "notification given up" : "notification not delivered; will retry",
    );
  }

  private retryLater(key: string): void {
    this.schedule(key, this.now() + RECORD_RETRY_MS);
  }

  private schedule(key: string, at: number | undefined): void {
    const existing = this.timers.get(key);
    if (existing !== undefined) clearTimeout(existing);
    this.timers.delete(key);
    if (at === undefined || this.stopped) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.now()) + 1);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      const [namespace = "", name = ""] = key.split("/");
      this.kick(namespace, name);
    }, delay);
    timer.unref();
    this.timers.set(key, timer);
  }
}
