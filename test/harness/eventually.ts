import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Reads until `done` holds, or fails after `timeoutMs` showing the last value read.
 * Waiting has a deadline so a broken cluster fails the test instead of hanging it.
 */
export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  show: (value: T) => unknown = (value) => value,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) {
      assert.fail(
        `${what}: still not there after ${timeoutMs / 1000}s; last seen ${JSON.stringify(show(value))}`,
      );
    }
    await sleep(250);
    value = await read();
  }
  return value;
}
