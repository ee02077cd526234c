import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import { join } from "node:path";
import {
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  V1ResourceAttributes,
  V1SelfSubjectAccessReview,
  V1SelfSubjectAccessReviewSpec,
  type KubeConfig,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { pino, type Logger } from "pino";
import { POD_TEMPLATE_HASH_LABEL, ROLLOUT_NAME_LABEL } from "../api/labels.ts";
import { CommandName, GROUP, ROLLOUT_PLURAL, VERSION } from "../api/rollout.ts";
import { CliError } from "../cli/errors.ts";
import type { Cluster } from "../cli/kube-client.ts";
import { rolloutView } from "../cli/live/rollout-view.ts";
import { steer } from "../cli/steer-command.ts";
import { watchRollout, type Watched } from "../cli/live/watch-rollout.ts";
import { SupervisedInformer } from "../kube/informer.ts";
import { podView, releaseStart, rolloutRow, sortRows, statusOf } from "./model.ts";
import { releaseCharts } from "./release-charts.ts";
import type { CommandAnswer, ListUpdate, RolloutUpdate } from "./wire.ts";

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

/** Charts are redrawn this often while a page is open (server-side Prometheus queries). */
const CHARTS_EVERY_MS = 5_000;
const HEARTBEAT_MS = 15_000;
const COALESCE_MS = 100;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Aviary</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body><div id="app"><p>Loading…</p></div><noscript>The Aviary dashboard needs JavaScript.</noscript></body>
</html>
`;

export function defaultAssetsDir(): string {
  // src/dashboard (tsx) and dist/dashboard (built) both sit two levels under the package.
  return join(import.meta.dirname, "../../dist/web");
}

function readAssets(dir: string): Map<string, { type: string; body: Buffer }> {
  const assets = new Map<string, { type: string; body: Buffer }>();
  for (const [file, type] of [
    ["app.js", "text/javascript; charset=utf-8"],
    ["app.css", "text/css; charset=utf-8"],
  ] as const) {
    try {
      assets.set(`/assets/${file}`, { type, body: readFileSync(join(dir, file)) });
    } catch {
      throw new CliError(
        `the dashboard's page is not built (${join(dir, file)} is missing): run \`npm run build\``,
      );
    }
  }
  return assets;
}

function isLoopback(address: string): boolean {
  return address === "localhost" || address === "::1" || address.startsWith("127.");
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const log = options.log ?? pino({ level: "silent" });
  const assets = readAssets(options.assetsDir ?? defaultAssetsDir());
  const kc = options.kubeConfig;
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const user = kc.getCurrentUser()?.name ?? "dashboard";

  /** A SelfSubjectAccessReview: may the user do this? (Aviary's Rollouts unless told otherwise.) */
  const allowed = async (attributes: Record<string, string>): Promise<boolean> => {
    try {
      const body = Object.assign(new V1SelfSubjectAccessReview(), {
        spec: Object.assign(new V1SelfSubjectAccessReviewSpec(), {
          resourceAttributes: Object.assign(new V1ResourceAttributes(), {
            group: GROUP,
            resource: ROLLOUT_PLURAL,
            ...attributes,
          }),
        }),
      });
      const review = await authz.createSelfSubjectAccessReview({ body });
      return review.status?.allowed === true;
    } catch {
      return false;
    }
  };

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
  const seenWeights = new Map<string, [number, number][]>();
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
      if (deleted) seenWeights.delete(key);
      else recordWeight(seenWeights, key, statusOf(object).canaryWeight);
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

  const streams = new Set<ServerResponse>();
  const openStream = (req: IncomingMessage, res: ServerResponse, onClose: () => void) => {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
    });
    res.write(": aviary\n\n");
    streams.add(res);
    const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), HEARTBEAT_MS);
    req.on("close", () => {
      clearInterval(heartbeat);
      streams.delete(res);
      onClose();
    });
    return (event: string, data: unknown) => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
  };

  const streamList = (req: IncomingMessage, res: ServerResponse): void => {
    const send = openStream(req, res, () => listSubscribers.delete(subscriber));
    const subscriber = (update: ListUpdate) => send("list", update);
    listSubscribers.add(subscriber);
    void listSynced.then(() => send("list", listUpdate()));
  };

  const streamRollout = (
    req: IncomingMessage,
    res: ServerResponse,
    namespace: string,
    name: string,
  ): void => {
    let latest: Watched | undefined;
    let timer: NodeJS.Timeout | undefined;
    let synced = false;
    let canSteer = false;
    let closed = false;
    const key = `${namespace}/${name}`;
    const pods = new SupervisedInformer({
      kubeConfig: kc,
      resource: { apiVersion: "v1", kind: "Pod", plural: "pods" },
      namespace,
      labelSelector: POD_TEMPLATE_HASH_LABEL,
      onObject: () => changed(),
      log,
    });
    const publish = (): void => {
      timer = undefined;
      if (!synced || latest === undefined || closed) return;
      const hashes = new Set(
        latest.replicaSets.map((rs) => rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL]),
      );
      const status = statusOf(latest.rollout);
      const update: RolloutUpdate = {
        view: rolloutView(latest.rollout ?? {}, latest.replicaSets, latest.events),
        pods: pods
          .list(namespace)
          .filter((p) => hashes.has(p.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL]))
          .map(podView)
          .sort((a, b) => a.name.localeCompare(b.name)),
        canSteer: canSteer && options.readOnly !== true,
        releaseStartedAt: releaseStart(status, latest.replicaSets),
        deleted: latest.rollout === undefined,
      };
      send("rollout", update);
    };
    const changed = (): void => {
      timer ??= setTimeout(publish, COALESCE_MS);
    };
    const may = (group: string, resource: string) =>
      allowed({ verb: "watch", group, resource, namespace });
    let watch: { stop(): Promise<void> } | undefined;
    let chartTimer: NodeJS.Timeout | undefined;
    let chartsRunning = false;
    const charts = async (): Promise<void> => {
      if (chartsRunning || latest?.rollout === undefined || closed) return;
      chartsRunning = true;
      try {
        const rollout: KubernetesObject = latest.rollout;
        const status = statusOf(rollout);
        send(
          "charts",
          await releaseCharts({
            rollout,
            status,
            releaseStartedAt: releaseStart(status, latest.replicaSets),
            now: Date.now(),
            defaultPrometheus: options.prometheusAddress,
            core,
            seenWeights: seenWeights.get(key) ?? [],
          }),
        );
      } catch (error) {
        log.warn({ err: error }, "charts failed");
      } finally {
        chartsRunning = false;
      }
    };
    const send = openStream(req, res, () => {
      closed = true;
      if (chartTimer !== undefined) clearInterval(chartTimer);
      if (timer !== undefined) clearTimeout(timer);
      void watch?.stop();
      void pods.stop();
    });
    // What this user may read decides what is watched: a watch RBAC refuses never syncs.
    void Promise.all([
      may("apps", "replicasets"),
      may("", "events"),
      may("", "pods"),
      allowed({ verb: "patch", subresource: "status", namespace, name }),
    ])
      .then(async ([replicaSetsOk, eventsOk, podsOk, steerOk]) => {
        if (closed) return;
        canSteer = steerOk;
        const started = watchRollout(
          kc,
          namespace,
          name,
          (watched) => {
            latest = watched;
            changed();
          },
          { replicaSets: replicaSetsOk, events: eventsOk },
        );
        watch = started;
        if (podsOk) pods.start();
        await Promise.all([started.synced, podsOk ? pods.whenSynced() : undefined]);
        if (closed) return;
        synced = true;
        publish();
        void charts();
        chartTimer = setInterval(() => void charts(), CHARTS_EVERY_MS);
      })
      .catch((error: unknown) => log.warn({ err: error }, "rollout stream failed"));
  };

  const command = async (
    req: IncomingMessage,
    res: ServerResponse,
    namespace: string,
    name: string,
  ): Promise<void> => {
    const answer = (status: number, body: CommandAnswer): void => {
      res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (options.readOnly === true) {
      answer(403, { ok: false, message: "this dashboard is read-only (started with --read-only)" });
      return;
    }
    let requested: unknown;
    try {
      requested = (JSON.parse(await readBody(req)) as { command?: unknown }).command;
    } catch {
      answer(400, { ok: false, message: 'the request body must be JSON: {"command": ...}' });
      return;
    }
    const parsed = CommandName.safeParse(requested);
    if (!parsed.success) {
      answer(400, { ok: false, message: `unknown command ${JSON.stringify(requested)}` });
      return;
    }
    const cluster: Cluster = {
      kubeConfig: kc,
      namespace,
      user,
      objects: kc.makeApiClient(CustomObjectsApi),
    };
    try {
      answer(200, {
        ok: true,
        message: await steer(cluster, name, parsed.data, options.commandWaitMs ?? 5_000),
      });
    } catch (error) {
      if (error instanceof CliError)
        answer(error.status ?? 409, { ok: false, message: error.message });
      else {
        log.error({ err: error }, "command failed");
        answer(500, { ok: false, message: error instanceof Error ? error.message : String(error) });
      }
    }
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
      await command(req, res, rollout[1] ?? "", rollout[2] ?? "");
      return;
    }
    if (req.method !== "GET") {
      res.writeHead(405, { ...SECURITY_HEADERS, Allow: "GET" }).end();
      return;
    }
    if (path === "/api/rollouts/stream") streamList(req, res);
    else if (rollout?.[3] === "stream") streamRollout(req, res, rollout[1] ?? "", rollout[2] ?? "");
    else if (assets.has(path)) {
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
      for (const res of streams) res.destroy();
      server.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        rollouts.stop(),
        replicaSets.stop(),
      ]);
    },
  };
}

const SECURITY_HEADERS = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/**
 * Why a request is refused, if it is. Host must name this server (a loopback name when
 * bound to loopback), so a page on another site that rebinds its DNS name to 127.0.0.1
 * reads nothing. A POST must come from this origin: Origin equal to http://<Host>, and
 * JSON, which browsers send cross-site only after a preflight this server refuses.
 */
export function requestRefusal(
  req: Pick<IncomingMessage, "method" | "headers">,
  address: string,
  port: number,
): { status: number; message: string } | undefined {
  const host = req.headers.host ?? "";
  const hostname = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  // Bound to every address (in a cluster, behind a Service): any name reaches it.
  const wildcard = address === "0.0.0.0" || address === "::";
  const nameOk = isLoopback(address) ? isLoopback(hostname) : hostname === address;
  if (!wildcard && (!nameOk || !host.endsWith(`:${String(port)}`)))
    return { status: 421, message: `this dashboard does not serve host ${host}` };
  if (req.method === "GET" || req.method === "HEAD") return undefined;
  const origin = req.headers.origin;
  if (origin !== `http://${host}`)
    return {
      status: 403,
      message: `cross-origin request refused: Origin ${origin ?? "(none)"} is not http://${host}`,
    };
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin")
    return { status: 403, message: `cross-site request refused (Sec-Fetch-Site: ${site})` };
  if (!(req.headers["content-type"] ?? "").startsWith("application/json"))
    return { status: 415, message: "commands are JSON: Content-Type must be application/json" };
  return undefined;
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

const MAX_BODY = 4096;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY) {
        reject(new Error("request body too large"));
        req.destroy();
      }
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}
