import { PrometheusConnectionOptions, PrometheusDriver } from "prometheus-query";
import type { AnalysisSpec } from "../api/rollout.ts";
import { durationMs } from "../api/duration.ts";
import { failed } from "./provider.ts";
import type { MetricsProvider, QueryOutcome, SeriesValue } from "./provider.ts";

/**
 * The Prometheus provider, on the `prometheus-query` library. Every failure becomes a
 * typed QueryFailure (see provider.ts); nothing throws to the caller.
 */

/** Credentials already read from the Secret named in analysis.prometheus (the controller's job). */
export type PrometheusAuth = { bearerToken: string } | { username: string; password: string };

export interface PrometheusConnection {
  address: string;
  auth?: PrometheusAuth | undefined;
  /** Deadline for one whole query, in milliseconds. */
  timeoutMs?: number | undefined;
}

// axios (the library's HTTP client) types, reached through the library's own options.
type Interceptors = Required<
  Pick<PrometheusConnectionOptions, "requestInterceptor" | "responseInterceptor">
>;
type RequestConfig = Parameters<Interceptors["requestInterceptor"]["onFulfilled"]>[0];
type HttpResponse = Parameters<Interceptors["responseInterceptor"]["onFulfilled"]>[0];

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Prometheus answers for our queries are small; a bigger one is not Prometheus talking. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The connection for one Rollout: its own address and timeout, else the controller's defaults. */
export function connectionFor(
  settings: AnalysisSpec["prometheus"],
  defaults: { address?: string | undefined; auth?: PrometheusAuth | undefined },
): PrometheusConnection {
  return {
    address: settings?.address ?? defaults.address ?? "",
    auth: defaults.auth,
    timeoutMs: settings?.timeout === undefined ? DEFAULT_TIMEOUT_MS : durationMs(settings.timeout),
  };
}

export function createPrometheusProvider(connection: PrometheusConnection): MetricsProvider {
  const address = connection.address;
  if (!isHttpUrl(address)) {
    const message =
      address === ""
        ? "no Prometheus address: set analysis.prometheus.address or the controller's default address"
        : `Prometheus address ${JSON.stringify(address)} is not an http(s) URL such as http://prometheus.istio-system:9090`;
    return { instantQuery: () => Promise.resolve(failed("bad-address", message)) };
  }
  const timeoutMs = connection.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const options = Object.assign(new PrometheusConnectionOptions(), {
    endpoint: address,
    headers: authHeaders(connection.auth),
    timeout: timeoutMs,
    // POST: template values can make long queries, and URLs have length limits.
    preferPost: true,
    requestInterceptor: {
      // The library's `timeout` is axios's socket inactivity timer: a server that trickles
      // bytes never trips it. An abort signal bounds the whole exchange. Redirects are not
      // followed (they could carry credentials elsewhere), and the answer size is bounded.
      onFulfilled: (config: RequestConfig) => {
        config.signal = AbortSignal.timeout(timeoutMs);
        config.maxRedirects = 0;
        config.maxContentLength = MAX_ANSWER_BYTES;
        return config;
      },
    },
    responseInterceptor: {
      onFulfilled: (response: HttpResponse) => response,
      // The library reads a non-JSON error body (a proxy's HTML 502) as "unexpected client
      // error" and loses the status: keep it.
      onRejected: (error: unknown) => {
        const response = (error as { response?: HttpResponse } | undefined)?.response;
        if (response === undefined || isPrometheusBody(response.data)) throw error;
        const body = typeof response.data === "string" ? response.data.trim() : "";
        throw new HttpStatusError(response.status, body === "" ? response.statusText : body);
      },
    },
  });
  const driver = new PrometheusDriver(options);
  const where = `Prometheus at ${address}`;
  return {
    async instantQuery(query: string, at: Date): Promise<QueryOutcome<readonly SeriesValue[]>> {
      try {
        const result = await driver.instantQuery(query, at, `${timeoutMs}ms`);
        return toSeries(result.resultType, result.result, where, query);
      } catch (error) {
        return describeError(error, where, timeoutMs);
      }
    },
  };
}

export function isHttpUrl(address: string): boolean {
  try {
    const url = new URL(address);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

export function authHeaders(auth: PrometheusAuth | undefined): Record<string, string> {
  if (auth === undefined) return {};
  // Secrets often end with a newline (`echo token > file`); it is never part of a token.
  if ("bearerToken" in auth) return { Authorization: `Bearer ${auth.bearerToken.trim()}` };
  // Our own header: the library silently drops basic auth when the password is empty.
  const encoded = Buffer.from(`${auth.username}:${auth.password}`, "utf8").toString("base64");
  return { Authorization: `Basic ${encoded}` };
}

function toSeries(
  resultType: unknown,
  result: unknown,
  where: string,
  query: string,
): QueryOutcome<SeriesValue[]> {
  let series: SeriesValue[];
  if (resultType === "vector" && Array.isArray(result)) {
    series = result.map((sample: unknown) => {
      const { metric, value } = sample as {
        metric?: { labels?: unknown } | null;
        value?: { value?: unknown };
      };
      return {
        labels: stringLabels(metric?.labels),
        value: typeof value?.value === "number" ? value.value : Number.NaN,
      };
    });
  } else if (resultType === "scalar" && Array.isArray(result)) {
    series = [{ labels: {}, value: parsePrometheusNumber(result[1]) }];
  } else if (resultType === "matrix") {
    return failed(
      "bad-answer",
      `the query returns a range vector; use an instant vector, e.g. wrap the range in rate(): ${query}`,
    );
  } else {
    return failed(
      "bad-answer",
      `${where} answered a ${String(resultType)} result, not a number or a vector: ${query}`,
    );
  }
  const bad = series.find((s) => !Number.isFinite(s.value));
  if (bad !== undefined) {
    const labels = Object.entries(bad.labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(", ");
    return failed("not-finite", `the value is NaN or infinite (series {${labels}}): ${query}`);
  }
  return { ok: true, value: series };
}

function stringLabels(labels: unknown): Record<string, string> {
  if (typeof labels !== "object" || labels === null) return {};
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
}

/** Prometheus numbers are strings, with "+Inf", "-Inf" and "NaN" spelled the Go way. */
function parsePrometheusNumber(text: unknown): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  return typeof text === "string" && text.trim() !== "" ? Number(text) : Number.NaN;
}

/**
 * The library throws plain objects `{errorType, error, code, httpStatus, prometheus}`
 * (network_error, timeout_error, ssl_error, client_error, http_error), and real Errors
 * when a 2xx body has the wrong shape.
 */
function describeError(error: unknown, where: string, timeoutMs: number): QueryOutcome<never> {
  let e = asLibraryError(error);
  // The library's catch handler also catches what its own success handler threw (e.g. a
  // client_error for a 2xx body that is not Prometheus's), and rewraps it as a
  // network_error with the first one in `original`: unwrap to the real cause.
  while (e.errorType === "network_error" && asLibraryError(e.original).errorType !== undefined) {
    e = asLibraryError(e.original);
  }
  const detail =
    typeof e.error === "string"
      ? e.error
      : typeof e.message === "string"
        ? e.message
        : String(error);
  if (
    e.code === "ERR_CANCELED" ||
    e.code === "ECONNABORTED" ||
    e.code === "ETIMEDOUT" ||
    e.errorType === "timeout_error"
  ) {
    return failed("timeout", `${where} did not answer within ${timeoutMs / 1000}s`);
  }
  switch (e.errorType) {
    case "http_error": {
      const status = typeof e.httpStatus === "number" ? e.httpStatus : "an error status";
      const why = status === 400 || status === 422 ? "rejected the query" : "answered";
      return failed("http-error", `${where} ${why} with HTTP ${status}: ${truncate(detail)}`);
    }
    case "client_error":
      return failed(
        "bad-answer",
        `${where} answered something that is not a Prometheus API response: ${truncate(JSON.stringify(e.data) ?? "empty body")}`,
      );
    case "network_error":
    case "ssl_error":
      if (e.code === "ERR_BAD_RESPONSE")
        return failed("bad-answer", `${where} answered badly: ${truncate(detail)}`);
      return failed(
        "unreachable",
        `${where} is unreachable: ${truncate(detail)}${typeof e.code === "string" && !detail.includes(e.code) ? ` (${e.code})` : ""}`,
      );
    default:
      return failed(
        "bad-answer",
        `${where} answered something that is not a Prometheus API response: ${truncate(detail)}`,
      );
  }
}

interface LibraryError {
  errorType?: unknown;
  error?: unknown;
  code?: unknown;
  httpStatus?: unknown;
  data?: unknown;
  message?: unknown;
  original?: unknown;
}

/** Shaped like the library's own http_error, so describeError treats both alike. */
class HttpStatusError extends Error {
  readonly errorType = "http_error";
  readonly httpStatus: number;
  readonly error: string;
  constructor(httpStatus: number, error: string) {
    super(`HTTP ${httpStatus}: ${error}`);
    this.httpStatus = httpStatus;
    this.error = error;
  }
}

function isPrometheusBody(data: unknown): boolean {
  return typeof data === "object" && data !== null && "status" in data;
}

function asLibraryError(error: unknown): LibraryError {
  return typeof error === "object" && error !== null ? error : {};
}

function truncate(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
