/**
 * A deduplicating work queue of Rollout keys ("namespace/name"), in the style of
 * client-go's: a key queued many times is reconciled once; one key is never reconciled
 * by two workers at once (a key queued while it runs is run again after); `concurrency`
 * keys run in parallel. `requeueAfter` timers and per-key exponential backoff on errors,
 * capped at `maxBackoffMs` (Argo's 16-minute cap hung rollouts).
 */

export interface WorkResult {
  /** Seconds until this key wants to run again even if nothing changes. */
  requeueAfter?: number | undefined;
}

export type Worker = (key: string) => Promise<WorkResult | undefined>;

export interface WorkQueueOptions {
  concurrency?: number | undefined;
  baseBackoffMs?: number | undefined;
  maxBackoffMs?: number | undefined;
  /** Called when a worker throws (the key is retried with backoff). */
  onError?: ((key: string, error: unknown) => void) | undefined;
}

export class WorkQueue {
  private readonly pending: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  /** Keys added while they were running: run again once they finish. */
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private readonly concurrency: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly worker: Worker,
    private readonly options: WorkQueueOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.baseBackoffMs = options.baseBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
  }

  /** Number of keys waiting to run (not counting running ones). */
  get depth(): number {
    return this.pending.length;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.pending.push(key);
    this.pump();
  }

  /** Adds `key` after `delayMs`; an earlier timer for the key wins over a later one. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(key);
    const due = Date.now() + delayMs;
    if (existing !== undefined) {
      const existingDue =
        (existing as NodeJS.Timeout & { aviaryDue?: number }).aviaryDue ?? Infinity;
      if (existingDue <= due) return;
      clearTimeout(existing);
    }
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        this.add(key);
      },
      Math.max(0, delayMs),
    );
    (timer as NodeJS.Timeout & { aviaryDue?: number }).aviaryDue = due;
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Forgets a key's backoff (e.g. the Rollout was deleted). */
  forget(key: string): void {
    this.failures.delete(key);
    const timer = this.timers.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(key);
  }

  /** Stops taking work and waits for running workers to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.pending.length = 0;
    this.queued.clear();
    await this.idle();
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.running.size === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.concurrency) {
      const index = this.pending.findIndex((key) => !this.running.has(key));
      if (index < 0) break;
      const [key] = this.pending.splice(index, 1);
      if (key === undefined) break;
      this.queued.delete(key);
      this.running.add(key);
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    try {
      const result = await this.worker(key);
      this.failures.delete(key);
      if (result?.requeueAfter !== undefined) this.addAfter(key, result.requeueAfter * 1000);
    } catch (error) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      this.options.onError?.(key, error);
      this.addAfter(key, backoffMs(failures, this.baseBackoffMs, this.maxBackoffMs));
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.running.size === 0 && this.pending.length === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }
}

/** base·2^(n−1), capped. */
export function backoffMs(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}
