import type { IncomingMessage, ServerResponse } from "node:http";
import type { CoreV1Api, KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { POD_TEMPLATE_HASH_LABEL } from "../api/labels.ts";
import { rolloutView } from "../cli/live/rollout-view.ts";
import { watchRollout, type Watched } from "../cli/live/watch-rollout.ts";
import { SupervisedInformer } from "../kube/informer.ts";
import type { AccessCheck } from "../kube/access-review.ts";
import type { EventStreams } from "./event-streams.ts";
import { podView, releaseStart, statusOf } from "./model.ts";
import { releaseCharts } from "./release-charts.ts";
import type { RolloutUpdate } from "./wire.ts";

/** Charts are redrawn this often while a page is open (server-side Prometheus queries). */
const CHARTS_EVERY_MS = 5_000;
export const COALESCE_MS = 100;

export interface RolloutStreamDeps {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  allowed: AccessCheck;
  streams: EventStreams;
  readOnly: boolean;
  prometheusAddress: string | undefined;
  /** The canary weights the server saw change for this Rollout (unix seconds, percent). */
  seenWeights: () => [number, number][];
  log: Logger;
}

/**
 * One Rollout's page as server-sent events: its view (Rollout, ReplicaSets, Events, Pods,
 * from watches) on every change, and its charts every few seconds. What the user may read
 * decides what is watched; the streams end when the page goes.
 */
export function streamRollout(
  deps: RolloutStreamDeps,
  req: IncomingMessage,
  res: ServerResponse,
  namespace: string,
  name: string,
): void {
  const { kubeConfig: kc, log } = deps;
  let latest: Watched | undefined;
  let timer: NodeJS.Timeout | undefined;
  let synced = false;
  let canSteer = false;
  let closed = false;
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
      canSteer: canSteer && !deps.readOnly,
      releaseStartedAt: releaseStart(status, latest.replicaSets),
      deleted: latest.rollout === undefined,
    };
    send("rollout", update);
  };
  const changed = (): void => {
    timer ??= setTimeout(publish, COALESCE_MS);
  };
  const may = (group: string, resource: string) =>
    deps.allowed({ verb: "watch", group, resource, namespace });
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
          defaultPrometheus: deps.prometheusAddress,
          core: deps.core,
          seenWeights: deps.seenWeights(),
        }),
      );
    } catch (error) {
      log.warn({ err: error }, "charts failed");
    } finally {
      chartsRunning = false;
    }
  };
  const send = deps.streams.open(req, res, () => {
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
    deps.allowed({ verb: "patch", subresource: "status", namespace, name }),
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
}
