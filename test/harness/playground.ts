import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { pino } from "pino";
import { parseAllDocuments } from "yaml";
import { statusOf } from "../../src/dashboard/model.ts";
import { startDashboard } from "../../src/dashboard/server.ts";
import { startController } from "../../src/kube/controller.ts";
import { MeshSim } from "./mesh-sim.ts";
import { registerScrapeTarget, waitForScrape } from "./prometheus.ts";
import { REPO_ROOT, startTestEnv } from "./testenv.ts";

/**
 * `npm run playground`: the real thing on one laptop. The harness's kube-apiserver and
 * Prometheus, a mesh simulator sending steady traffic through each route of the
 * examples, the controller, and the dashboard; the examples applied. Ctrl-C stops it all.
 *
 *   npm run playground -- --canary-error-rate 5   # every canary fails 5% of requests
 */
const { values: flags } = parseArgs({
  options: {
    "canary-error-rate": { type: "string", default: "0.1" },
    "requests-per-second": { type: "string", default: "40" },
    port: { type: "string", default: "3100" },
  },
});
const canaryErrorRate = Number(flags["canary-error-rate"]) / 100;
const rps = Number(flags["requests-per-second"]);
if (!(canaryErrorRate >= 0 && canaryErrorRate <= 1) || !(rps > 0)) {
  console.error(
    "usage: npm run playground -- [--canary-error-rate PERCENT] [--requests-per-second N] [--port N]",
  );
  process.exit(2);
}

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
say("playground: starting a control plane and Prometheus (about 20s)…");
const env = await startTestEnv({ tieToThisProcess: true });
const kc = new KubeConfig();
kc.loadFromFile(env.kubeconfigPath);
const logFile = join(env.logDir, "controller.log");

/** The examples as people copy them, pointed at the playground's Prometheus, without Slack. */
function exampleObjects(): KubernetesObject[] {
  const dir = join(REPO_ROOT, "examples");
  const objects = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), "utf8")).map(
        (d) => d.toJS() as KubernetesObject,
      ),
    )
    .filter((o) => o !== null);
  for (const object of objects) {
    if (object.kind !== "Rollout") continue;
    const spec = (object as { spec: Record<string, unknown> }).spec;
    delete spec.notifications;
    const strategy = spec.strategy as Record<string, Record<string, unknown> | undefined>;
    for (const analysis of [
      strategy.canary?.analysis,
      strategy.blueGreen?.prePromotionAnalysis,
      strategy.blueGreen?.postPromotionAnalysis,
    ]) {
      if (analysis !== undefined && typeof analysis === "object")
        (analysis as Record<string, unknown>).prometheus = { address: env.prometheusUrl };
    }
  }
  // Namespaces first, Rollouts last (they point at Services and routes).
  const rank = (o: KubernetesObject) => (o.kind === "Namespace" ? 0 : o.kind === "Rollout" ? 2 : 1);
  return objects.sort((a, b) => rank(a) - rank(b));
}

const objects = exampleObjects();
const client = KubernetesObjectApi.makeApiClient(kc);
// Some examples live in a namespace they do not create (a person's cluster has it).
const namespaces = new Set(objects.flatMap((o) => o.metadata?.namespace ?? []));
for (const o of objects) if (o.kind === "Namespace") namespaces.delete(o.metadata?.name ?? "");
for (const name of namespaces)
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
for (const object of objects) {
  await client.patch(
    object,
    undefined,
    undefined,
    "aviary-playground",
    true,
    PatchStrategy.ServerSideApply,
  );
}

const controller = await startController({
  kubeConfig: kc,
  prometheusAddress: env.prometheusUrl,
  leaderElection: false,
  metricsPort: 0,
  log: pino({ level: "info" }, createWriteStream(logFile)),
});
if (controller.metricsPort !== undefined)
  registerScrapeTarget(env.prometheusTargetsFile, `127.0.0.1:${String(controller.metricsPort)}`);

const sims: MeshSim[] = [];
for (const route of objects.filter((o) => o.kind === "VirtualService" || o.kind === "HTTPRoute")) {
  const sim = new MeshSim({
    kubeConfig: kc,
    namespace: route.metadata?.namespace ?? "default",
    route: { kind: route.kind as "VirtualService" | "HTTPRoute", name: route.metadata?.name ?? "" },
    requestsPerSecond: rps,
    defaultBehaviour: { errorRate: 0.001, latencyP50Ms: 20, latencyP99Ms: 80 },
    seed: sims.length + 1,
  });
  await sim.start();
  registerScrapeTarget(env.prometheusTargetsFile, sim.target);
  await waitForScrape(env.prometheusUrl, sim.target);
  sims.push(sim);
}

// The canary's behaviour: any version that is not stable while a release runs.
const custom = kc.makeApiClient(CustomObjectsApi);
const badCanaries = setInterval(() => {
  void custom
    .listClusterCustomObject({ group: "aviary.dev", version: "v1alpha1", plural: "rollouts" })
    .then((list) => {
      for (const item of (list as { items: unknown[] }).items) {
        const status = statusOf(item);
        if (status.canaryHash !== undefined && status.canaryHash !== status.stableHash)
          for (const sim of sims)
            sim.setBehaviour(status.canaryHash, { errorRate: canaryErrorRate, latencyP99Ms: 80 });
      }
    })
    .catch(() => undefined);
}, 1000);

const dashboard = await startDashboard({
  kubeConfig: kc,
  port: Number(flags.port),
  address: "127.0.0.1",
  namespace: "default",
  prometheusAddress: env.prometheusUrl,
});

say(`
Aviary playground is running (Ctrl-C stops everything).

  export KUBECONFIG=${env.kubeconfigPath}
  dashboard:   ${dashboard.url}
  prometheus:  ${env.prometheusUrl}
  controller log: ${logFile}
  traffic: ${String(rps)} requests/s per route; canaries fail ${String(canaryErrorRate * 100)}% of requests

Start a release and watch it:
  npm run aviary -- set image api-service api=registry.example.com/api-service:2.1.0 -n production
  npm run aviary -- get api-service -n production --watch
  (or: kubectl aviary set image api-service ... with kubectl and the plugin on your PATH)
Steer it: npm run aviary -- promote|abort|pause|resume api-service -n production
A bad canary, rolled back by the judge: npm run playground -- --canary-error-rate 5
`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  say("playground: stopping…");
  clearInterval(badCanaries);
  await dashboard.close();
  await Promise.all(sims.map((s) => s.stop()));
  await controller.stop();
  await env.stop();
  process.exit(0);
};
// Our own handlers first: the environment's would kill its processes and exit at once.
process.removeAllListeners("SIGINT");
process.removeAllListeners("SIGTERM");
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
