import { z } from "zod";

/** A Go-style duration such as "30s", "2m", "1h30m" or "500ms". */
export const DURATION_PATTERN = "^([0-9]+(ms|s|m|h))+$";

/**
 * The longest wait a release can use: 30 days. Longer (or absurd, 400-digit) durations
 * would push timestamps past what a Date can hold and break every reconcile.
 */
export const MAX_DURATION_MS = 30 * 24 * 3_600_000;
export const MAX_DURATION_TEXT = "720h";
/** The same bound for fields counted in seconds. */
export const MAX_SECONDS = MAX_DURATION_MS / 1000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Duration into milliseconds. Throws on a string the schema would reject. */
export function durationMs(text: string): number {
  let total = 0;
  let matched = "";
  for (const part of text.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    const [whole, amount, unit] = part;
    total += Number(amount) * (UNIT_MS[unit ?? ""] ?? Number.NaN);
    matched += whole;
  }
  if (matched !== text || matched === "" || !Number.isFinite(total)) {
    throw new Error(`"${text}" is not a duration such as "30s", "2m" or "1h30m"`);
  }
  return total;
}

function withinBound(text: string): boolean {
  try {
    return durationMs(text) <= MAX_DURATION_MS;
  } catch {
    return true; // the pattern reports a malformed duration
  }
}

export const Duration = z
  .string()
  .max(32)
  .regex(new RegExp(DURATION_PATTERN), 'a duration such as "30s", "2m" or "1h30m"')
  .refine(withinBound, `must be at most ${MAX_DURATION_TEXT} (30 days)`)
  .meta({
    "x-kubernetes-validations": [
      {
        rule: `duration(self) <= duration('${MAX_DURATION_TEXT}')`,
        message: `must be at most ${MAX_DURATION_TEXT} (30 days)`,
      },
    ],
  });

/** Seconds a release waits for something: 0 to 30 days. */
export const Seconds = z.int().min(0).max(MAX_SECONDS);
