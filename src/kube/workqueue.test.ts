import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { backoffMs, WorkQueue } from "./workqueue.ts";

/** A promise the test resolves by hand, to hold a worker mid-run. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await sleep(5);
  assert.ok(condition(), "condition never held");
}

describe("WorkQueue", () => {
  test("a key added many times while waiting runs once", async () => {
    const runs: string[] = [];
    const held = gate();
    const queue = new WorkQueue(
      async (key) => {
        if (key === "blocker") await held.wait;
        runs.push(key);
        return undefined;
      },
      { concurrency: 1 },
    );
    queue.add("blocker");
    for (let i = 0; i < 5; i++) queue.add("ns/a");
    queue.add("ns/b");
    queue.add("ns/a");
    held.open();
    await queue.idle();
    assert.deepEqual(runs, ["blocker", "ns/a", "ns/b"]);
  });

  test("one key never runs twice at once; an add during its run runs it again after", async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const held = gate();
    const queue = new WorkQueue(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        if (runs === 1) await held.wait;
        active--;
        return undefined;
      },
      { concurrency: 4 },
    );
    queue.add("ns/a");
    await until(() => runs === 1);
    queue.add("ns/a");
    queue.add("ns/a");
    held.open();
    await until(() => runs === 2);
    await queue.idle();
    assert.equal(maxActive, 1);
    assert.equal(runs, 2);
  });

  test("different keys run in parallel up to the concurrency", async () => {
    let active = 0;
    let maxActive = 0;
    const held = gate();
    const queue = new WorkQueue(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await held.wait;
        active--;
        return undefined;
      },
      { concurrency: 2 },
    );
    for (const key of ["a", "b", "c", "d"]) queue.add(key);
    await until(() => active === 2);
    assert.equal(queue.depth, 2);
    held.open();
    await queue.idle();
    assert.equal(maxActive, 2);
  });

  test("a failing key is retried, and its errors are reported", async () => {
    let attempts = 0;
    const errors: string[] = [];
    const queue = new WorkQueue(
      () => {
        attempts++;
        if (attempts < 3) return Promise.reject(new Error(`boom ${attempts}`));
        return Promise.resolve(undefined);
      },
      {
        baseBackoffMs: 1,
        onError: (key, error) => errors.push(`${key}: ${(error as Error).message}`),
      },
    );
    queue.add("ns/a");
    await until(() => attempts === 3);
    assert.deepEqual(errors, ["ns/a: boom 1", "ns/a: boom 2"]);
  });

  test("requeueAfter runs the key again", async () => {
    let runs = 0;
    const queue = new WorkQueue(() => {
      runs++;
      return Promise.resolve(runs < 3 ? { requeueAfter: 0.001 } : undefined);
    });
    queue.add("ns/a");
    await until(() => runs === 3);
    await queue.stop();
  });

  test("stop() drops waiting keys and timers", async () => {
    const runs: string[] = [];
    const queue = new WorkQueue((key) => {
      runs.push(key);
      return Promise.resolve(undefined);
    });
    queue.addAfter("ns/later", 10);
    await queue.stop();
    queue.add("ns/after-stop");
    await sleep(30);
    assert.deepEqual(runs, []);
  });

  test("backoff doubles per failure and is capped at about a minute", () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => backoffMs(n, 500, 60_000)),
      [500, 1000, 2000, 4000],
    );
    assert.equal(backoffMs(30, 500, 60_000), 60_000);
  });
});
