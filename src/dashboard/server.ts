import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { pino, type Logger } from "pino";
import { ROLLOUT_NAME_LABEL } from "../api/labels.ts";
import { GROUP, ROLLOUT_PLURAL, VERSION } from "../api/rollout.ts";
import { SupervisedInformer } from "../kube/informer.ts";
import { accessReview } from "../kube/access-review.ts";
import { runCommand } from "./command-endpoint.ts";
import { EventStreams } from "./event-streams.ts";
import { requestRefusal, SECURITY_HEADERS } from "./http-guards.ts";
import { rolloutRow, sortRows, statusOf } from "./model.ts";
import { defaultAssetsDir, PAGE, readAssets } from "./page.ts";
import { COALESCE_MS, streamRollout } from "./rollout-stream.ts";
import type { ListUpdate } from "./wire.ts";

/**
 * `aviary dashboard`: a small HTTP server for one person, on loopback by default. It keeps
 * no credentials of its own: every read and write goes to the Kubernetes API with the
 * user's kubeconfig, so RBAC decides what they see and may do. Pages get live updates as
 * server-sent events fed by watches; the page itself never polls.
 *
 * Against other sites: requests must name this server in Host (DNS rebinding), and a
 * command must be a same-origin JSON POST (the Origin header is checked; a cross-site
 * form cannot send JSON without a preflight, which this server never grants).
 */
export interface DashboardOptions {
  kubeConfig: KubeConfig;
  port: number;
  address: string;
  /** The Prometheus address for Rollouts whose analysis names none (as the controller's flag). */
  prometheusAddress?: string | undefined;
  /** The namespace to list when the user may not list Rollouts in all namespaces. */
  namespace: string;
  /** Where the built page is (dist/web); found next to the code by default. */
  assetsDir?: string | undefined;
  /** Buttons disabled, commands refused (the in-cluster mode's default). */
  readOnly?: boolean | undefined;
  /** How long a command waits for the controller's answer. */
  commandWaitMs?: number | undefined;
  log?: Logger | undefined;
}

export interface Dashboard {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const log = options.log ?? pino({ level: "silent" });
  const assets = readAssets(options.assetsDir ?? defaultAssetsDir());
  const kc = options.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const user = kc.getCurrentUser()?.name ?? "dashboard";

  const allowed = accessReview(kc);

  // The list: every namespace when the user may list them all, else their own.
  const everywhere = await allowed({ verb: "watch" });
  const listNamespace = everywhere ? undefined : options.namespace;
  const readsReplicaSets = await allowed({
    verb: "watch",
    group: "apps",
    resource: "replicasets",
    ...(listNamespace === undefined ? {} : { namespace: listNamespace }),
  });
  const scope = everywhere ? "all namespaces" : `namespace ${options.namespace}`;
  const listSubscribers = new Set<(update: ListUpdate) => void>();
  /** Per Rollout, the canary weights this server saw change (unix seconds, percent). */
  const seenWeightsByRollout = new Map<string, [number, number][]>();
  let listTimer: NodeJS.Timeout | undefined;
  const publishList = (): void => {
    listTimer = undefined;
    const update = listUpdate();
    for (const send of listSubscribers) send(update);
  };
  const listChanged = (): void => {
    listTimer ??= setTimeout(publishList, COALESCE_MS);
  };
  const rollouts = new SupervisedInformer({
    kubeConfig: kc,
    resource: { apiVersion: `${GROUP}/${VERSION}`, kind: "Rollout", plural: ROLLOUT_PLURAL },
    namespace: listNamespace,
    onObject: (object, deleted) => {
      const key = `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
      if (deleted) seenWeightsByRollout.delete(key);
      else recordWeight(seenWeightsByRollout, key, statusOf(object).canaryWeight);
      listChanged();
    },
    log,
  });
  const replicaSets = new SupervisedInformer({
    kubeConfig: kc,
    resource: { apiVersion: "apps/v1", kind: "ReplicaSet", plural: "replicasets" },
    namespace: listNamespace,
    labelSelector: ROLLOUT_NAME_LABEL,
    onObject: listChanged,
    log,
  });
  const listUpdate = (): ListUpdate => {
    const rows = rollouts.list().map((r) => {
      const owned = replicaSets
        .list(r.metadata?.namespace)
        .filter((rs) => rs.metadata?.labels?.[ROLLOUT_NAME_LABEL] === r.metadata?.name);
      return rolloutRow(r, owned);
    });
    return { rows: sortRows(rows), scope };
  };
  rollouts.start();
  if (readsReplicaSets) replicaSets.start();
  const listSynced = Promise.all([
    rollouts.whenSynced(),
    readsReplicaSets ? replicaSets.whenSynced() : undefined,
  ]);

  const streams = new EventStreams();

  const streamList = (req: IncomingMessage, res: ServerResponse): void => {
    const send = streams.open(req, res, () => listSubscribers.delete(subscriber));
    const subscriber = (update: ListUpdate) => send("list", update);
    listSubscribers.add(subscriber);
    void listSynced.then(() => send("list", listUpdate()));
  };

  const rolloutDeps = {
    kubeConfig: kc,
    core,
    allowed,
    streams,
    readOnly: options.readOnly === true,
    prometheusAddress: options.prometheusAddress,
    log,
  };
  const commandDeps = {
    kubeConfig: kc,
    user,
    readOnly: options.readOnly === true,
    commandWaitMs: options.commandWaitMs ?? 5_000,
    log,
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      log.error({ err: error }, "request failed");
      if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS);
      res.end();
    });
  });
  let port = options.port;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const refusal = requestRefusal(req, options.address, port);
    if (refusal !== undefined) {
      res.writeHead(refusal.status, { ...SECURITY_HEADERS, "Content-Type": "text/plain" });
      res.end(`${refusal.message}\n`);
      return;
    }
    const path = new URL(req.url ?? "/", "http://dashboard").pathname;
    const rollout = /^\/api\/rollouts\/([a-z0-9.-]+)\/([a-z0-9.-]+)\/(stream|commands)$/.exec(path);
    if (req.method === "POST" && rollout?.[3] === "commands") {
      await runCommand(commandDeps, req, res, rollout[1] ?? "", rollout[2] ?? "");
      return;
    }
    if (req.method !== "GET") {
      res.writeHead(405, { ...SECURITY_HEADERS, Allow: "GET" }).end();
      return;
    }
    if (path === "/api/rollouts/stream") streamList(req, res);
    else if (rollout?.[3] === "stream") {
      const [namespace, name] = [rollout[1] ?? "", rollout[2] ?? ""];
      const seenWeights = () => seenWeightsByRollout.get(`${namespace}/${name}`) ?? [];
      streamRollout({ ...rolloutDeps, seenWeights }, req, res, namespace, name);
    } else if (assets.has(path)) {
      const asset = assets.get(path);
      res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": asset?.type ?? "" });
      res.end(asset?.body);
    } else if (path === "/" || /^\/rollouts\/[a-z0-9.-]+\/[a-z0-9.-]+$/.test(path)) {
      res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8" });
      res.end(PAGE);
    } else {
      res.writeHead(404, { ...SECURITY_HEADERS, "Content-Type": "text/plain" }).end("not found\n");
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.address, () => resolve());
  });
  const bound = server.address();
  if (bound !== null && typeof bound === "object") port = bound.port;
  const host = isIP(options.address) === 6 ? `[${options.address}]` : options.address;
  return {
    url: `http://${host}:${String(port)}`,
    port,
    close: async () => {
      if (listTimer !== undefined) clearTimeout(listTimer);
      streams.closeAll();
      server.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        rollouts.stop(),
        replicaSets.stop(),
      ]);
    },
  };
}

function recordWeight(
  seen: Map<string, [number, number][]>,
  key: string,
  weight: number | undefined,
): void {
  if (weight === undefined) return;
  const list = seen.get(key) ?? [];
  const last = list[list.length - 1];
  const now = Math.floor(Date.now() / 1000);
  if (last?.[1] === weight) return;
  // The previous weight held until just now: a step line, not a ramp.
  if (last !== undefined) list.push([now, last[1]]);
  list.push([now, weight]);
  if (list.length > 500) list.splice(0, list.length - 500);
  seen.set(key, list);
}
