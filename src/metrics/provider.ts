/**
 * What analysis needs from a metrics backend: instant queries whose every failure is a
 * typed, explained outcome. Missing data is not evidence (DESIGN §3.3), so a failure is
 * always *inconclusive* for the caller: never a pass, never a fail, never a throw.
 */

export type QueryFailureKind =
  /** The address is not an http(s) URL. */
  | "bad-address"
  /** Connection refused, DNS, TLS, reset... */
  | "unreachable"
  /** No complete answer within the timeout. */
  | "timeout"
  /** An HTTP error status, including Prometheus rejecting the query (then the message says why). */
  | "http-error"
  /** A 2xx answer that is not a Prometheus API response (not JSON, wrong shape, string result). */
  | "bad-answer"
  /** The query matched no series. */
  | "no-data"
  /** A value was NaN or ±Inf. */
  | "not-finite"
  /** A query meant to give one number gave several series. */
  | "too-many-series";

export interface QueryFailure {
  kind: QueryFailureKind;
  /** One sentence a person understands, naming the address or the query where it helps. */
  message: string;
}

/** One series of an instant vector (a scalar result is one series without labels). */
export interface SeriesValue {
  labels: Readonly<Record<string, string>>;
  value: number;
}

export type QueryOutcome<T> = { ok: true; value: T } | { ok: false; failure: QueryFailure };

export interface MetricsProvider {
  /** Evaluates `query` at `at`. Every value in a successful outcome is finite. */
  instantQuery(query: string, at: Date): Promise<QueryOutcome<readonly SeriesValue[]>>;
}

export function failed(
  kind: QueryFailureKind,
  message: string,
): { ok: false; failure: QueryFailure } {
  return { ok: false, failure: { kind, message } };
}

/**
 * Reduces a result to one number. `whenEmpty` is the value of a query that matched no
 * series (e.g. 0 for a counter before the first request); without it, empty is "no-data".
 */
export function singleValue(
  outcome: QueryOutcome<readonly SeriesValue[]>,
  query: string,
  whenEmpty?: number,
): QueryOutcome<number> {
  if (!outcome.ok) return outcome;
  const series = outcome.value;
  const first = series[0];
  if (first === undefined) {
    return whenEmpty === undefined
      ? failed("no-data", `no data: the query matched no series: ${query}`)
      : { ok: true, value: whenEmpty };
  }
  if (series.length > 1) {
    return failed(
      "too-many-series",
      `expected one series but got ${series.length} (aggregate it, e.g. with sum()): ${query}`,
    );
  }
  return { ok: true, value: first.value };
}
