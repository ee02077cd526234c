/** Time helpers for the core. The core never reads the clock: `now` is always passed in. */

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Milliseconds since the epoch of an RFC 3339 time, or undefined when absent or unreadable. */
export function ms(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const value = Date.parse(time);
  return Number.isNaN(value) ? undefined : value;
}

export function secondsBetween(fromMs: number, toMs: number): number {
  return Math.max(0, (toMs - fromMs) / 1000);
}
