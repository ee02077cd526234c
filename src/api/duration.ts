import { z } from "zod";

/** A Go-style duration such as "30s", "2m", "1h30m" or "500ms". */
export const DURATION_PATTERN = "^([0-9]+(ms|s|m|h))+$";

export const Duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), 'a duration such as "30s", "2m" or "1h30m"');

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
