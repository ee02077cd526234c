import { CronExpressionParser } from "cron-parser";
import type { AnalysisSpec, PromotionWindow } from "./rollout.ts";
import { checkNonZeroDuration, exactlyOne, type Add } from "./validate-fields.ts";

export function checkAnalysis(add: Add, analysis: AnalysisSpec, path: string): void {
  if (analysis.mesh === "gatewayapi" && analysis.metricsFrom === undefined) {
    add(
      `${path}.metricsFrom`,
      "is required with mesh gatewayapi: say whose metrics to read, istio or linkerd (both implement HTTPRoute)",
    );
  }
  checkNonZeroDuration(
    add,
    analysis.interval,
    `${path}.interval`,
    "the analysis would query Prometheus in a loop",
  );
  const prometheus = analysis.prometheus;
  if (
    prometheus?.bearerTokenSecretRef !== undefined &&
    prometheus.basicAuthSecretRef !== undefined
  ) {
    add(
      `${path}.prometheus`,
      "sets both bearerTokenSecretRef and basicAuthSecretRef: keep the one your Prometheus expects",
    );
  }
  if (analysis.prometheus?.timeout !== undefined) {
    checkNonZeroDuration(
      add,
      analysis.prometheus.timeout,
      `${path}.prometheus.timeout`,
      "every query would time out",
    );
  }
  const threshold = analysis.judge === "threshold";
  const names = new Map<string, number>();
  analysis.metrics.forEach((metric, index) => {
    const at = `${path}.metrics[${index}]`;
    exactlyOne(
      add,
      at,
      { builtin: metric.builtin, templateRef: metric.templateRef },
      "where the metric comes from",
    );
    const first = names.get(metric.name);
    if (first === undefined) names.set(metric.name, index);
    else
      add(
        `${at}.name`,
        `"${metric.name}" is already the name of metrics[${first}]: give each metric its own name`,
      );

    if (metric.builtin === "successRate") {
      if (metric.max !== undefined)
        add(
          `${at}.max`,
          "a success rate has no upper limit: remove max and set min (percent, e.g. 99)",
        );
      if (threshold && metric.min === undefined) {
        add(
          `${at}.min`,
          "is required for successRate with the threshold judge: set the lowest acceptable success rate in percent, e.g. 99",
        );
      }
    }
    if (metric.builtin === "latencyP99") {
      if (metric.min !== undefined)
        add(
          `${at}.min`,
          "a latency has no lower limit: remove min and set max (milliseconds, e.g. 500)",
        );
      if (threshold && metric.max === undefined) {
        add(
          `${at}.max`,
          "is required for latencyP99 with the threshold judge: set the highest acceptable P99 in milliseconds, e.g. 500",
        );
      }
    }
    if (metric.min !== undefined && metric.max !== undefined && metric.min > metric.max) {
      add(
        `${at}.min`,
        `is greater than max (${metric.min} > ${metric.max}), so no value can pass: swap them or fix one`,
      );
    }
  });
}

export function checkWindows(
  add: Add,
  windows: readonly PromotionWindow[] | undefined,
  path: string,
): void {
  (windows ?? []).forEach((window, index) => {
    const at = `${path}[${index}]`;
    const fields = window.schedule.trim().split(/\s+/).length;
    if (fields !== 5) {
      add(
        `${at}.schedule`,
        `"${window.schedule}" has ${fields} fields: write 5 (minute hour day-of-month month day-of-week), e.g. "* 9-17 * * 1-5"`,
      );
    } else {
      try {
        CronExpressionParser.parse(window.schedule);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        add(
          `${at}.schedule`,
          `"${window.schedule}" is not a cron expression (${reason}): write e.g. "* 9-17 * * 1-5"`,
        );
      }
    }
    if (!isTimeZone(window.timezone)) {
      add(
        `${at}.timezone`,
        `"${window.timezone}" is not a known time zone: use an IANA name such as "Europe/Rome" or "UTC"`,
      );
    }
  });
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
