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
