import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubernetesObjectApi } from "@kubernetes/client-node";
import { kubeConfig, prometheusUrl, startMeshSim, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { startTerminal, tmuxAvailable, type Terminal } from "../harness/tmux.ts";
import { REPO_ROOT } from "../harness/testenv.ts";
import {
  controller,
  createRollout,
  createServices,
  setImage,
  untilStatus,
} from "./controller-fixtures.ts";

/**
 * `aviary get <rollout> --watch` in a real terminal (tmux), following a real release on the
 * test cluster: the controller moves the weight, the mesh simulator sends traffic that
 * analysis reads from Prometheus, and the test reads the screen as a person would.
 */
const ESC = "\u001b";
const CLI = [process.execPath, "--import", "tsx", join(REPO_ROOT, "src/cli/main.ts")];

async function analysedRelease(t: Parameters<typeof testNamespace>[0]) {
  const namespace = await testNamespace(t, "live");
  await createServices(namespace, ["api-stable", "api-canary"]);
  await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "api-vs", namespace },
    spec: {
      hosts: ["api"],
      http: [
        {
          name: "primary",
          route: [
            { destination: { host: "api-stable" }, weight: 100 },
            { destination: { host: "api-canary" }, weight: 0 },
          ],
        },
      ],
    },
  });
  await createRollout(
    namespace,
    {
      replicas: 2,
      strategy: {
        canary: {
          stableService: "api-stable",
          canaryService: "api-canary",
          scaleDownDelaySeconds: 1,
          trafficRouting: { istio: { virtualService: { name: "api-vs", routes: ["primary"] } } },
          analysis: { mesh: "istio", interval: "2s", minRequests: 10 },
          steps: [
            {
              setHeaderRoute: { name: "beta", match: [{ header: "x-user-group", exact: "beta" }] },
            },
            { setWeight: 20 },
            { pause: {} },
            { setWeight: 60 },
            { pause: { duration: "2s" } },
          ],
        },
      },
    },
    "registry.example.com/api:1.0.0",
  );
  await startMeshSim(t, {
    namespace,
    route: { kind: "VirtualService", name: "api-vs" },
    requestsPerSecond: 100,
    defaultBehaviour: { errorRate: 0.002, latencyP50Ms: 20, latencyP99Ms: 80 },
    pollIntervalMs: 100,
  });
  await controller(t, namespace, { prometheusAddress: prometheusUrl(), resyncMs: 2_000 });
  await untilStatus(namespace, "v1 Healthy", (s) => s.phase === "Healthy");
  const dir = mkdtempSync(join(tmpdir(), "aviary-live-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, kubeConfig().exportConfig(), { mode: 0o600 });
  return { namespace, kubeconfig };
}

function screenUntil(
  terminal: Terminal,
  what: string,
  ok: (screen: string) => boolean,
  timeoutMs = 60_000,
): Promise<string[]> {
  return eventually(
    what,
    () => Promise.resolve(terminal.screen()),
    (lines) => ok(lines.join("\n")),
    (lines) => lines.join("\n"),
    timeoutMs,
  );
}

describe("aviary get --watch", { timeout: 300_000 }, () => {
  test("a live view in tmux follows a real release, fits 80 columns and a resize, and leaves with q", async (t) => {
    assert.ok(tmuxAvailable(), "tmux is needed (Debian package tmux; .ci/run installs it)");
    const { namespace, kubeconfig } = await analysedRelease(t);
    const terminal = startTerminal(
      t,
      [...CLI, "get", "api", "-n", namespace, "--kubeconfig", kubeconfig, "--watch"],
      { columns: 80, rows: 45 },
    );
    await screenUntil(terminal, "the Healthy v1", (s) => s.includes("◆ Healthy"));

    await setImage(namespace, "registry.example.com/api:2.0.0");
    const waiting = await screenUntil(
      terminal,
      "the release paused for a person, with analysis",
      (s) =>
        s.includes("◆ Paused") &&
        /Traffic {2}canary █+░+ 20% {2}stable 80%/.test(s) &&
        s.includes(`the release waits for a person: aviary promote api -n ${namespace}`) &&
        /success-rate\s+\d/.test(s) &&
        /canary\s+(\d+)\/\1\s+registry\.example\.com\/api:2\.0\.0/.test(s),
    );
    const text = waiting.join("\n");
    assert.match(text, new RegExp(`^${namespace}/api {2}canary {2}◆ Paused$`, "m"));
    assert.match(text, /^ {2}✔ 1 {2}header route beta: x-user-group=beta$/m);
    assert.match(text, /^ {2}✔ 2 {2}setWeight 20%$/m);
    assert.match(text, /^ {2}▶ 3 {2}pause until promoted$/m);
    assert.match(text, /^ {2}· 4 {2}setWeight 60%$/m);
    assert.match(text, /stable\s+2\/2\s+registry\.example\.com\/api:1\.0\.0/);
    assert.match(text, /^Analysis {2}(Running|Inconclusive|Passed), \d+ samples?/m);
    assert.match(text, /^Events$/m);
    for (const line of waiting) assert.ok(line.length <= 80, `wider than 80 columns: ${line}`);
    assert.ok(terminal.screenWithStyles().includes(`${ESC}[`), "a terminal gets colors");

    terminal.resize(60, 45);
    const narrow = await screenUntil(
      terminal,
      "the view redrawn at 60 columns",
      (s) => s.split("\n").every((line) => line.length <= 60) && s.includes("◆ Paused"),
    );
    assert.ok(narrow.some((line) => line.startsWith("Traffic  canary")));

    const promote = spawn(
      CLI[0] ?? "node",
      [...CLI.slice(1), "promote", "api", "-n", namespace, "--kubeconfig", kubeconfig],
      {
        stdio: "ignore",
      },
    );
    await new Promise((resolve) => promote.on("close", resolve));
    const done = await screenUntil(
      terminal,
      "the release promoted",
      (s) => s.includes("◆ Healthy") && !s.includes("▶"),
      90_000,
    );
    assert.ok(done.filter((l) => l.includes("✔")).length >= 5, done.join("\n"));

    terminal.keys("q");
    await eventually(
      "the view left on q",
      () => Promise.resolve(terminal.exitStatus()),
      (s) => s !== undefined,
      (s) => ({ status: s, screen: terminal.screen().slice(0, 5) }),
    );
    assert.equal(terminal.exitStatus(), 0);
    const after = terminal.history();
    assert.match(after, /◆ Healthy[\s\S]*Promoted/, "the last screen stays in the scrollback");
  });

  test("--no-color draws without escape codes; a pipe gets one line per change", async (t) => {
    assert.ok(tmuxAvailable(), "tmux is needed (Debian package tmux; .ci/run installs it)");
    const { namespace, kubeconfig } = await analysedRelease(t);
    const terminal = startTerminal(
      t,
      [...CLI, "get", "api", "-n", namespace, "--kubeconfig", kubeconfig, "--watch", "--no-color"],
      { columns: 80, rows: 45 },
    );
    const piped = spawn(
      CLI[0] ?? "node",
      [...CLI.slice(1), "get", "api", "-n", namespace, "--kubeconfig", kubeconfig, "--watch"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let log = "";
    let errors = "";
    piped.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
    piped.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    t.after(() => piped.kill());
    await screenUntil(terminal, "the Healthy v1", (s) => s.includes("◆ Healthy"));
    await eventually(
      "the first line",
      () => Promise.resolve(log),
      (l) => l.includes("Healthy"),
      (l) => ({ stdout: l, stderr: errors, exit: piped.exitCode }),
    );

    await setImage(namespace, "registry.example.com/api:2.0.0");
    await screenUntil(terminal, "paused", (s) => s.includes("◆ Paused"));
    assert.ok(!terminal.screenWithStyles().includes(`${ESC}[`), "no escape codes");
    await eventually(
      "the pipe tells the pause",
      () => Promise.resolve(log),
      (l) =>
        /Paused \| step 3\/5 \(pause until promoted\) \| weight 20% .*\(run: aviary promote api -n /.test(
          l,
        ),
    );
    const lines = log.trim().split("\n");
    assert.ok(
      lines.every((line) => /^\d\d:\d\d:\d\d /.test(line)),
      log,
    );
    assert.ok(!log.includes(ESC), "no escape codes in the log");
    // One line per change: no line repeats the one before it.
    for (let i = 1; i < lines.length; i++)
      assert.notEqual(lines[i]?.slice(9), lines[i - 1]?.slice(9), log);
    assert.ok(
      lines.some((l) => / event Normal /.test(l)),
      log,
    );
  });
});
