import { ApiException } from "@kubernetes/client-node";

/** The HTTP status of a failed API call, if it was one. */
export function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const code =
    (error as { code?: unknown; statusCode?: unknown } | undefined)?.code ??
    (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

export function isNotFound(error: unknown): boolean {
  return statusCodeOf(error) === 404;
}

export function isConflict(error: unknown): boolean {
  return statusCodeOf(error) === 409;
}

interface StatusBody {
  message?: unknown;
  reason?: unknown;
}

/** The API server's Status of a failed call; a body that is not JSON is its message. */
function statusBodyOf(error: unknown): StatusBody | undefined {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === "object" && body !== null) return body;
  if (typeof body !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === "object" && parsed !== null ? parsed : { message: body };
  } catch {
    return { message: body };
  }
}

/** Undefined for 404, the value otherwise; other errors propagate. */
export async function orNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Status changed under us: the reconcile is re-run at once on fresh data. */
export class StaleRolloutError extends Error {
  constructor(key: string) {
    super(`${key} changed while it was being reconciled; reconciling again on fresh data`);
  }
}

/**
 * A failed call as a person reads it: the API server's own reason ("ReplicaSet x is
 * invalid: ...", "admission webhook ... denied the request: ..."), or what went wrong on
 * the way there.
 */
export function describeApiError(error: unknown): string {
  const code = statusCodeOf(error);
  const status = statusBodyOf(error);
  if (code !== undefined) {
    const reason = typeof status?.reason === "string" ? ` ${status.reason}` : "";
    const message =
      typeof status?.message === "string" && status.message !== ""
        ? status.message
        : error instanceof Error
          ? error.message
          : String(error);
    return `the API server answered ${code}${reason}: ${message}`;
  }
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
