import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { probeOk } from "./http-probe.ts";
import { freePort, startProcess, waitUntilHealthy, type ManagedProcess } from "./processes.ts";

/**
 * A real Prometheus scraping every 1 s the targets listed in a file (file_sd), so each
 * test can register the mesh simulators it starts.
 */
export interface PrometheusServer {
  url: string;
  targetsFile: string;
  process: ManagedProcess;
}

function config(targetsFile: string): string {
  return [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 1s",
    "  evaluation_interval: 1s",
    "scrape_configs:",
    "  - job_name: aviary-e2e",
    "    file_sd_configs:",
    `      - files: ['${targetsFile}']`,
    "        refresh_interval: 1s",
    "",
  ].join("\n");
}

export async function startPrometheus(binary: string, runDir: string): Promise<PrometheusServer> {
  const dir = join(runDir, "prometheus");
  mkdirSync(dir, { recursive: true });
  const targetsFile = join(dir, "targets.json");
  writeFileSync(targetsFile, "[]\n");
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(configFile, config(targetsFile));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess(
    "prometheus",
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=1d",
    ],
    join(runDir, "logs"),
  );
  await waitUntilHealthy(proc, () => probeOk(`${url}/-/ready`));
  return { url, targetsFile, process: proc };
}

interface TargetGroup {
  targets: string[];
  labels?: Record<string, string>;
}

function readTargets(targetsFile: string): TargetGroup[] {
  if (!existsSync(targetsFile))
    throw new Error(`Prometheus targets file ${targetsFile} does not exist`);
  return JSON.parse(readFileSync(targetsFile, "utf8")) as TargetGroup[];
}

function writeTargets(targetsFile: string, groups: TargetGroup[]): void {
  // Atomic replace, so Prometheus never reads a half-written file.
  const temp = `${targetsFile}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(groups, null, 2));
  renameSync(temp, targetsFile);
}

/** Adds a scrape target (`host:port`). */
export function registerScrapeTarget(targetsFile: string, target: string): void {
  const groups = readTargets(targetsFile).filter((g) => !g.targets.includes(target));
  writeTargets(targetsFile, [...groups, { targets: [target] }]);
}

export function unregisterScrapeTarget(targetsFile: string, target: string): void {
  writeTargets(
    targetsFile,
    readTargets(targetsFile).filter((g) => !g.targets.includes(target)),
  );
}

interface TargetsResponse {
  data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] };
}

/** Waits until Prometheus has scraped `target` successfully at least once. */
export async function waitForScrape(
  prometheusUrl: string,
  target: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "not discovered yet";
  for (;;) {
    const response = await fetch(`${prometheusUrl}/api/v1/targets?state=active`);
    const body = (await response.json()) as TargetsResponse;
    const found = body.data.activeTargets.find((t) => new URL(t.scrapeUrl).host === target);
    if (found?.health === "up") return;
    if (found) last = `health ${found.health}${found.lastError ? `: ${found.lastError}` : ""}`;
    if (Date.now() > deadline)
      throw new Error(`Prometheus did not scrape ${target} within ${timeoutMs / 1000}s (${last})`);
    await sleep(200);
  }
}

export interface VectorSample {
  labels: Record<string, string>;
  value: number;
}

interface QueryResponse {
  status: string;
  error?: string;
  data?: {
    resultType: string;
    result: { metric: Record<string, string>; value: [number, string] }[];
  };
}

/** Runs an instant query and returns its vector. Fails on a query error. */
export async function queryVector(prometheusUrl: string, promql: string): Promise<VectorSample[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ query: promql }),
  });
  const body = (await response.json()) as QueryResponse;
  if (body.status !== "success" || body.data === undefined) {
    throw new Error(
      `Prometheus query failed: ${body.error ?? response.statusText}\n  query: ${promql}`,
    );
  }
  if (body.data.resultType !== "vector")
    throw new Error(`expected a vector, got ${body.data.resultType}: ${promql}`);
  return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}
