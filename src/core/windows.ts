import { CronExpressionParser } from "cron-parser";
import type { PromotionWindow } from "../api/rollout.ts";

export interface WindowCheck {
  open: boolean;
  /** When closed: the next time a window opens (ms since epoch), if one can be found. */
  opensAt?: number | undefined;
}

/**
 * Steps advance only in minutes a window's cron schedule matches, read in the window's
 * timezone. No windows means always open. cron-parser does the calendar and DST work.
 */
export function checkPromotionWindows(
  windows: readonly PromotionWindow[] | undefined,
  nowMs: number,
): WindowCheck {
  if (windows === undefined || windows.length === 0) return { open: true };
  let opensAt: number | undefined;
  const minuteStart = Math.floor(nowMs / 60_000) * 60_000;
  for (const window of windows) {
    const options = { currentDate: new Date(minuteStart - 1), tz: window.timezone };
    const next = CronExpressionParser.parse(window.schedule, options).next().getTime();
    if (next === minuteStart) return { open: true };
    opensAt = opensAt === undefined ? next : Math.min(opensAt, next);
  }
  return { open: false, opensAt };
}
