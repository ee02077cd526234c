import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { chromium, type Browser, type Page } from "playwright-core";
import { startDashboard, type Dashboard } from "../../src/dashboard/server.ts";
import {
  kubeConfig,
  prometheusUrl,
  scrapeTarget,
  startMeshSim,
  testNamespace,
} from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import { serviceAccountKubeConfig } from "../harness/service-account.ts";
import { REPO_ROOT } from "../harness/testenv.ts";
import { controller, createIstioCanary, setImage, status } from "./controller-fixtures.ts";

/**
 * The dashboard in headless Chromium against the real API server, Prometheus and the mesh
 * simulator: a release paused for a person is listed, its charts draw Prometheus data,
 * Promote and Abort steer it from the page (which follows without a reload), a viewer
 * cannot steer, and another site cannot POST. The screenshots in the README come from here.
 */

const CHROMIUM = process.env.AVIARY_CHROMIUM ?? "/usr/bin/chromium";

describe("dashboard in a browser", () => {
  let namespace = "";
  let dashboard: Dashboard;
  let viewer: Dashboard;
  let browser: Browser;
  let page: Page;

  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });
  after(async () => {
    await browser.close();
  });

  test("a paused release: list, charts, promote, abort, a viewer, a cross-site POST", async (t) => {
    namespace = await testNamespace(t, "dash");
    await createIstioCanary(namespace, {
      scaleDownDelaySeconds: 1,
      abortScaleDownDelaySeconds: 1,
      analysis: {
        mesh: "istio",
        prometheus: { address: prometheusUrl() },
        interval: "2s",
        minRequests: 10,
      },
      steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: {} }],
    });
    await startMeshSim(t, {
      namespace,
      route: { kind: "VirtualService", name: "api-vs" },
      requestsPerSecond: 50,
      defaultBehaviour: { errorRate: 0.005, latencyP50Ms: 20, latencyP99Ms: 80 },
      pollIntervalMs: 100,
    });
    const handle = await controller(t, namespace, {
      prometheusAddress: prometheusUrl(),
      resyncMs: 2_000,
      metricsPort: 0,
      leaderElection: false,
    });
    await scrapeTarget(t, `127.0.0.1:${String(handle.metricsPort)}`);
    await eventually(
      "v1 Healthy",
      () => status(namespace),
      (s) => s.phase === "Healthy",
    );
    await setImage(namespace, "api:2");
    await eventually(
      "the release waits for a person at 20%",
      () => status(namespace),
      (s) => s.phase === "Paused" && s.canaryWeight === 20,
    );

    dashboard = await startDashboard({
      kubeConfig: kubeConfig(),
      port: 0,
      address: "127.0.0.1",
      namespace,
      commandWaitMs: 3_000,
    });
    t.after(() => dashboard.close());
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // The strict Content-Security-Policy must not block anything the page itself needs.
    const consoleErrors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });

    // The list shows the running release.
    await page.goto(dashboard.url);
    const row = page.locator(`tr[data-rollout="${namespace}/api"]`);
    await row.waitFor();
    await eventually(
      "the list shows the paused release at 20%",
      () => row.innerText(),
      (text) => text.includes("Paused") && text.includes("20%") && text.includes("api:1 → api:2"),
    );
    await page.screenshot({ path: join(REPO_ROOT, "docs/images/dashboard-list.png") });

    // The Rollout page draws weight and metric charts from Prometheus.
    await row.getByRole("link").click();
    await page.waitForURL(`**/rollouts/${namespace}/api`);
    // Enough points for a line on each side, and the judge's evidence per metric.
    for (const chart of [
      "#chart-weight",
      "#chart-success",
      "#chart-p99",
      "#chart-evidence-success-rate",
    ]) {
      await eventually(
        `${chart} has points`,
        () => page.locator(chart).getAttribute("data-points", { timeout: 60_000 }),
        (points) => Number(points) >= (chart === "#chart-weight" ? 2 : 16),
        (points) => points,
        60_000,
      );
    }
    assert.equal(await page.locator("#chart-success canvas").count(), 1);
    assert.match(await page.locator("#waiting").innerText(), /waits for a person/);
    await page.screenshot({
      path: join(REPO_ROOT, "docs/images/dashboard-rollout.png"),
      fullPage: true,
    });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(REPO_ROOT, "docs/images/dashboard-phone.png") });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Promote advances the release; the page follows without a reload. It is reached and
    // pressed from the keyboard.
    await page.evaluate(() => {
      (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    // A string runs in the page (this file is typed for Node, without the DOM).
    const focused = () =>
      page.evaluate<string>("document.activeElement?.getAttribute('data-command') ?? ''");
    for (let i = 0; i < 10 && (await focused()) !== "promote"; i++)
      await page.keyboard.press("Tab");
    assert.equal(await focused(), "promote", "Tab reaches the Promote button");
    await page.keyboard.press("Enter");
    await page.locator("#weight", { hasText: "50%" }).waitFor({ timeout: 30_000 });
    assert.equal((await status(namespace)).canaryWeight, 50);
    assert.match(await page.locator("#steer-answer").innerText(), /promote requested/);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded),
      true,
    );

    // Abort asks first; Cancel sends nothing, confirming rolls back.
    const abort = page.getByRole("button", { name: "Abort", exact: true });
    await abort.click();
    const dialog = page.getByRole("dialog");
    assert.match(await dialog.innerText(), /Abort the release\?/);
    await page.locator("#confirm-no").click();
    assert.equal((await status(namespace)).abortedAt, undefined);
    await abort.click();
    await page.locator("#confirm-yes").click();
    await page.locator(".bar .phase", { hasText: "Aborted" }).waitFor({ timeout: 30_000 });
    const aborted = await eventually(
      "traffic is back on stable",
      () => status(namespace),
      (s) => s.abortedAt !== undefined && s.canaryWeight === 0,
    );
    assert.equal(aborted.phase, "Aborted");

    assert.deepEqual(consoleErrors, []);

    // A user bound only to aviary-view sees the buttons disabled, and the API says why.
    const view = (
      loadAllYaml(readFileSync(join(REPO_ROOT, "deploy/rbac.yaml"), "utf8")) as KubernetesObject[]
    ).find((o) => o.kind === "ClusterRole" && o.metadata?.name === "aviary-view");
    assert.ok(view, "deploy/rbac.yaml has the aviary-view ClusterRole");
    const client = KubernetesObjectApi.makeApiClient(kubeConfig());
    // Cluster-scoped and shared with rbac.test.ts: an idempotent apply of the same file.
    await client.patch(
      view,
      undefined,
      undefined,
      "aviary-e2e-rbac",
      true,
      PatchStrategy.ServerSideApply,
    );
    await client.create({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "viewer", namespace },
    });
    await client.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "viewer", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "aviary-view" },
      subjects: [{ kind: "ServiceAccount", name: "viewer", namespace }],
    });
    viewer = await startDashboard({
      kubeConfig: await serviceAccountKubeConfig(namespace, "viewer"),
      port: 0,
      address: "127.0.0.1",
      namespace,
    });
    t.after(() => viewer.close());
    await eventually(
      "the viewer's page loads with the buttons disabled",
      async () => {
        await page.goto(`${viewer.url}/rollouts/${namespace}/api`);
        await page
          .locator("#steer-readonly")
          .waitFor({ timeout: 10_000 })
          .catch(() => undefined);
        return page.getByRole("button", { name: "Retry", exact: true }).isDisabled();
      },
      (disabled) => disabled,
    );
    assert.match(await page.locator("#steer-readonly").innerText(), /may not steer/);
    const refused = await fetch(`${viewer.url}/api/rollouts/${namespace}/api/commands`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: viewer.url },
      body: JSON.stringify({ command: "retry" }),
    });
    assert.equal(refused.status, 403);
    assert.match(
      ((await refused.json()) as { message: string }).message,
      /may not patch rollouts\/status/,
    );

    // Another site cannot steer: its POST is refused and writes nothing.
    const before = (await status(namespace)).command?.id;
    for (const headers of [
      { "Content-Type": "application/json", Origin: "http://evil.example" },
      { "Content-Type": "text/plain", Origin: "http://evil.example" },
    ]) {
      const answer = await fetch(`${dashboard.url}/api/rollouts/${namespace}/api/commands`, {
        method: "POST",
        headers,
        body: JSON.stringify({ command: "retry" }),
      });
      assert.equal(answer.status, 403);
    }
    assert.equal((await status(namespace)).command?.id, before);
    const home = await fetch(dashboard.url);
    assert.match(home.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  });
});
