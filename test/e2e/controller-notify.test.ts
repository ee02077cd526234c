import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { KubernetesObjectApi } from "@kubernetes/client-node";
import { kubeConfig, testNamespace } from "../harness/env.ts";
import { eventually } from "../harness/eventually.ts";
import {
  controller,
  createRollout,
  createServices,
  setImage,
  status,
  untilStatus,
} from "./controller-fixtures.ts";

/** A stand-in for Slack: records every post. */
async function recordingSlack(t: { after: (fn: () => Promise<void>) => void }) {
  const posts: { text?: string; blocks?: { type: string; text?: { text?: string } }[] }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      posts.push(JSON.parse(body) as (typeof posts)[number]);
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { posts, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
}

test(
  "Slack hears of a release once, even when the controller restarts after the promotion",
  { timeout: 120_000 },
  async (t) => {
    const ns = await testNamespace(t, "nt");
    const slack = await recordingSlack(t);
    await createServices(ns, ["api-stable", "api-canary"]);
    await KubernetesObjectApi.makeApiClient(kubeConfig()).create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "slack-webhook", namespace: ns },
      stringData: { url: slack.url },
    });
    const strategy = {
      canary: {
        stableService: "api-stable",
        canaryService: "api-canary",
        steps: [{ setWeight: 50 }, { pause: { duration: "1s" } }],
      },
    };
    await createRollout(
      ns,
      {
        replicas: 2,
        strategy,
        notifications: {
          slack: { webhookSecretRef: { name: "slack-webhook", key: "url" }, channel: "#deploys" },
        },
      },
      "api:1",
    );
    const first = await controller(t, ns);
    await untilStatus(ns, "v1 Healthy", (s) => s.phase === "Healthy");

    await setImage(ns, "api:2");
    const promoted = await eventually(
      "v2 promoted",
      () => status(ns),
      (s) =>
        s.phase === "Healthy" &&
        s.canaryHash === undefined &&
        (s.notifications?.sent ?? []).some((id) => id.endsWith(":promoted")),
      (s) => [s.phase, s.message],
    );
    await eventually(
      "Slack got the promotion",
      () => Promise.resolve(slack.posts),
      (p) => p.some((post) => /promoted/i.test(post.blocks?.[0]?.text?.text ?? "")),
    );

    await first.stop();
    const second = await controller(t, ns, { resyncMs: 500 });
    const reconciles = async () =>
      (await second.metrics.reconcileSeconds.get()).values.find(
        (v) => v.metricName === "aviary_reconcile_duration_seconds_count",
      )?.value ?? 0;
    // Several resyncs of the promoted Rollout by the new controller: a duplicate would be sent by now.
    await eventually("the new controller has reconciled several times", reconciles, (n) => n >= 4);
    const promotions = slack.posts.filter((post) =>
      /promoted/i.test(post.blocks?.[0]?.text?.text ?? ""),
    );
    assert.equal(promotions.length, 1, "one promotion message, not one per controller");
    assert.equal(promotions[0]?.blocks?.[0]?.type, "header");
    assert.equal((await status(ns)).stableHash, promoted.stableHash);
  },
);
