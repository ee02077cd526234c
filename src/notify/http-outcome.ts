import type { Attempt } from "../core/outbox-delivery.ts";
import { NotificationConfigError } from "./secret.ts";
import { scrub } from "./redaction.ts";

/**
 * How a receiver's answer decides what happens next:
 * 2xx delivered; 429 and 408 retried (429 no sooner than its Retry-After); 5xx, timeouts
 * and connection errors retried with backoff; any other 4xx (a wrong URL, a revoked
 * webhook) refused at once, since repeating the request cannot change the answer.
 */
export function httpAttempt(
  receiver: string,
  status: number,
  body: string,
  retryAfter: string | null,
  source: string,
  now: number,
): Attempt {
  if (status >= 200 && status < 300) return { ok: true };
  const said = body.trim().slice(0, 200);
  const error = scrub(`${receiver} answered ${status}${said === "" ? "" : `: ${said}`}`);
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return {
      ok: false,
      error,
      retry: true,
      source,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  return { ok: false, error, retry: status >= 500 || status === 408, source };
}

/** An error thrown before any answer came: unreachable, timed out, or misconfigured. */
export function errorAttempt(
  receiver: string,
  error: unknown,
  source: string,
  secrets: readonly (string | undefined)[],
  timeoutMs: number,
): Attempt {
  if (error instanceof NotificationConfigError)
    return {
      ok: false,
      error: scrub(error.message, secrets),
      retry: true,
      misconfigured: true,
      source,
    };
  return {
    ok: false,
    error: scrub(describe(receiver, error, timeoutMs), secrets),
    retry: true,
    source,
  };
}

/** Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** fetch says only "fetch failed"; the cause says what happened (refused, DNS, timeout). */
function describe(receiver: string, error: unknown, timeoutMs: number): string {
  const chain: unknown[] = [];
  for (let e: unknown = error; e instanceof Error && chain.length < 4; e = e.cause) chain.push(e);
  if (
    chain.some((e) => e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError"))
  )
    return `${receiver} did not answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)}s`}`;
  const messages = chain.map((e) => (e as Error).message).filter((m) => m !== "");
  const text = messages.length > 0 ? messages.join(": ") : String(error);
  return `${receiver} could not be reached: ${text}`;
}
